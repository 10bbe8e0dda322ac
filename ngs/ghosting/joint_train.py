"""Train the joint ghosting model (ghost-v2, ``joint.py``): ``python -m ngs.ghosting.joint_train --warehouse PATH``
(the BDB 2026 ball-in-air tracks and the other pass plays a built warehouse holds, as the dbt model
ghosting_model_training reads them) or ``--tracks GLOB`` (BDB 2026 output-format files); held-out weeks are
dropped before anything else.

Pipeline (:func:`train_joint_pipeline`, also what the warehouse's training model runs):

1. split by game (``split`` column where the tracks have one, else ``data.assign_split``: weeks from
   ``ghosting_test_from_week`` (11) on test, earlier weeks train / validation by game hash); test games
   are dropped before anything else;
2. roles (receiver labels) learned on the real training weeks, unknown targets filled in;
3. damping constants of the damped baselines fitted on the first windows of the training tracks, per
   horizon (10, 15, to arrival): the test never sees a fit;
4. gradient-boosting screening of the per-player candidate features (``features.screen_features`` on
   10-frame sliding windows of the training games);
5. the network on sliding windows of the training games (every ``stride`` frames, all frames until the
   arrival as the masked target); the epoch best on the validation games' first windows is kept;
6. validation scores (first windows, horizons 10, 15, arrival: model and every baseline) in the metrics.

A run with the same configuration and the same windows reuses the stored model (deterministic training).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time

import numpy as np
import pandas as pd

from ngs.errors import NgsError
from ngs.ghosting import baselines, data, joint
from ngs.ghosting.features import screen_features
from ngs.ghosting.model import data_fingerprint, find_by_input_key
from ngs.ghosting.scoring import ARRIVAL, REPORT_HORIZONS, score_windows, windows_for
from ngs.ghosting.train import cli_training_inputs, print_trained


def split_of(tr: pd.DataFrame) -> np.ndarray:
    """The tracks' ``split`` column where they have one (the warehouse readers add it), else by rule."""
    if "split" in tr.columns:
        return tr["split"].to_numpy()
    return data.assign_split(tr).to_numpy()


def _cat(parts: list[data.Windows]) -> data.Windows | None:
    parts = [p for p in parts if p is not None and len(p)]
    if not parts:
        return None
    k = max(p.others.shape[1] for p in parts)
    return _pad(data.concat_windows(parts), k)


def _pad(w: data.Windows, k: int) -> data.Windows:
    extra = k - w.others.shape[1]
    if extra > 0:
        w.others = np.concatenate([w.others, np.full((len(w), extra) + w.others.shape[2:], np.nan)], axis=1)
        w.others_is_target = np.concatenate([w.others_is_target, np.full((len(w), extra), np.nan)], axis=1)
    return w


def _same_others(ws: list[data.Windows | None]) -> None:
    k = max((w.others.shape[1] for w in ws if w is not None and len(w)), default=1)
    for w in ws:
        if w is not None:
            _pad(w, k)


def prepare(real: pd.DataFrame | None, sim: pd.DataFrame | None, config: joint.JointConfig) -> dict:
    """Windows and fits for one training run (see the module docstring); ``real``: tracks whose targets
    may be unknown (roles are learned from their training games), ``sim``: tracks with known targets."""
    h, H = config.history, config.horizon
    train, val, screen, fit = [], [], [], {str(k): [] for k in REPORT_HORIZONS}
    val_first = {str(k): [] for k in REPORT_HORIZONS}
    roles = pd.DataFrame(columns=["nfl_id", "plays", "receiver_votes", "is_offense"])
    for name, tr in (("real", real), ("sim", sim)):
        if tr is None or len(tr) == 0:
            continue
        split = split_of(tr)
        tr = tr[split != "test"]
        split = split[split != "test"]
        if name == "real":
            roles = learn_roles(tr)  # a roster fact, learned on the training weeks (train + val games)
            tr = data.apply_roles(tr, roles)
        t_tr, t_va = hide_inputs(tr[split == "train"], config), tr[split == "val"]
        w, _ = data.build_windows(t_tr, h, H, starts="all", stride=config.stride, require_truth=False)
        if len(w):
            keep = ~w.key["teleport"].to_numpy(dtype=bool) & np.isfinite(w.fut[:, 0, 0])
            train.append(w.subset(keep))
        w, _ = data.build_windows(t_va, h, H, starts="first", require_truth=False)
        if len(w):
            val.append(w.subset(np.isfinite(w.fut[:, 0, 0])))
        w, _ = data.build_windows(t_tr, h, 10, starts="all")
        if len(w):
            screen.append(w.subset(~w.key["teleport"].to_numpy(dtype=bool)))
        for k in REPORT_HORIZONS:
            w, _ = windows_for(t_tr, h, k)
            fit[str(k)].append(w)
            w, _ = windows_for(t_va, h, k)
            val_first[str(k)].append(w)
    tr_w, va_w, sc_w = _cat(train), _cat(val), _cat(screen)
    if tr_w is None:
        raise ValueError("no training windows: give real tracks or a warehouse with pass plays")
    if va_w is None:
        va_w = tr_w
    _same_others([tr_w, va_w, sc_w])
    damping = {}
    for k, parts in fit.items():
        w = _cat(parts)
        if w is not None:
            damping[k] = baselines.fit_damping(w.obs, w.fut)
    return {"train": tr_w, "val": va_w, "screen": sc_w, "damping": damping, "roles": roles,
            "val_first": {k: _cat(v) for k, v in val_first.items()}}


def learn_roles(tracks: pd.DataFrame) -> pd.DataFrame:
    """Which nfl_ids are receivers (``data.apply_roles``' table: nfl_id, plays, receiver_votes, is_offense),
    from training tracks: a play whose target the warehouse knows counts each of its players' side exactly
    (the target is offence, every other track defence); the others vote by convergence
    (``data.infer_roles``). Offence = receiver in more than half of his plays. On the BDB 2026 weeks 1-10
    of the warehouse this labels the players of 98% of the weeks 11-14 output tracks (all as the warehouse
    infers them), against 42% for the convergence vote alone."""
    known = tracks["is_target"].notna().groupby([tracks["game_id"], tracks["play_id"]]).transform("all")
    known = known.to_numpy(dtype=bool)
    per = tracks[known].groupby(["game_id", "play_id", "nfl_id"])["is_target"].first().reset_index()
    exact = per.groupby("nfl_id")["is_target"].agg(plays="size", receiver_votes="sum").reset_index()
    voted = data.infer_roles(tracks[~known]) if (~known).any() else exact.iloc[:0]
    both = pd.concat([exact, voted[["nfl_id", "plays", "receiver_votes"]]], ignore_index=True)
    v = both.groupby("nfl_id")[["plays", "receiver_votes"]].sum().reset_index()
    v["receiver_votes"] = v["receiver_votes"].astype(int)
    v["is_offense"] = (v["receiver_votes"] > v["plays"] / 2).astype(float)
    return v


def _play_fraction(tracks: pd.DataFrame, salt: str) -> np.ndarray:
    """A fixed pseudo-random number in [0, 1) per play (sha1 of the salt, game and play), per row."""
    keys = tracks[["game_id", "play_id"]].drop_duplicates()
    frac = [int(hashlib.sha1(f"{salt}:{g}:{p}".encode()).hexdigest()[:8], 16) / 2**32
            for g, p in keys.itertuples(index=False)]
    per_play = pd.Series(frac, index=pd.MultiIndex.from_frame(keys))
    return per_play.reindex(pd.MultiIndex.from_frame(tracks[["game_id", "play_id"]])).to_numpy()


def hide_inputs(tracks: pd.DataFrame, config: joint.JointConfig) -> pd.DataFrame:
    """Training plays as a source that knows less would give them: in a fixed share of plays
    (``config.hide_meta``) the ball's landing spot, down, distance and line of scrimmage are unknown (as in
    BDB 2026 output files read by ``ngs ghost-eval``), in another (``config.hide_target``) which player is
    the target. The network then has the missing-value flags and has learnt what to do without them."""
    if len(tracks) == 0 or (config.hide_meta <= 0 and config.hide_target <= 0):
        return tracks
    out = tracks.copy()
    meta = _play_fraction(out, f"meta{config.seed}") < config.hide_meta
    out.loc[meta, data.META_COLUMNS] = np.nan
    target = _play_fraction(out, f"target{config.seed}") < config.hide_target
    out.loc[target, "is_target"] = np.nan
    return out


def input_key(config: joint.JointConfig, prep: dict, screen_sample: int | None) -> str:
    text = json.dumps([config.to_json(), data_fingerprint(prep["train"]), data_fingerprint(prep["val"]),
                       json.dumps(prep["damping"], sort_keys=True), screen_sample])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def find_trained(key: str):
    """The stored joint artefact trained on exactly these inputs (its config.json records the key)."""
    return find_by_input_key(key, joint.KIND)


def validation_scores(model: joint.JointModel, val_first: dict) -> dict:
    """{horizon: {"n": tracks, name: {rmse, ade, fde}, "best_baseline": name}} on the validation games."""
    out = {}
    for k, w in val_first.items():
        if w is None or len(w) == 0:
            continue
        res = score_windows(w, model.predict(w, w.horizon), model.damping.get(k))
        out[k] = {"n": len(w), "best_baseline": res["best_baseline"],
                  **{name: {m: e[m] for m in ("rmse", "ade", "fde")} for name, e in res["scores"].items()}}
    return out


def train_joint_pipeline(real: pd.DataFrame | None, sim: pd.DataFrame | None = None,
                         config: joint.JointConfig | None = None, screen_sample: int = 15000, save: bool = True,
                         log=print, screen: bool = True) -> joint.JointModel:
    """Steps 1-6 of the module docstring; saves the artefact (``save``) and returns the model."""
    config = copy.deepcopy(config) if config is not None else joint.JointConfig()
    t0 = time.time()
    prep = prepare(real, sim, config)
    key = input_key(config, prep, screen_sample if screen else None)
    cached = find_trained(key) if save else None
    if cached is not None:
        if log:
            log(f"reusing {cached.version}: trained before on the same windows and configuration")
        return cached
    if log:
        log(f"windows: train {len(prep['train'])}, val {len(prep['val'])} ({time.time() - t0:.0f} s)")
    screening = None
    if screen and prep["screen"] is not None:
        screening = screen_features(prep["screen"], sample=screen_sample, seed=config.seed,
                                    min_share=config.min_share)
        if log:
            log("selected features: " + ", ".join(screening.loc[screening["selected"], "feature"])
                + f" ({time.time() - t0:.0f} s)")
    model = joint.train(prep["train"], prep["val"], config, prep["damping"], screening=screening,
                        roles=prep["roles"], log=log)
    model.metrics["total_seconds"] = round(time.time() - t0, 1)
    model.metrics["input_key"] = key
    model.metrics["val_first_windows"] = validation_scores(model, prep["val_first"])
    if save:
        model.save()
    return model


def training_rows(model: joint.JointModel, model_name: str, dataset: str = "real+simulated") -> list[tuple]:
    """The training run in rpt_model_metrics' shape (model, version, dataset, split, metric, value, n,
    horizon_step): training figures (split train), the damping constants fitted on the training windows
    (split train, model = the damped baseline, metric damping_r / damping_g + the horizon suffix) and the
    validation first windows per horizon for the model and every baseline (split val)."""
    from ngs.ghosting.scoring import metric_suffix

    m, v = model.metrics, model.version
    rows = [(model_name, v, dataset, "train", metric, float(m[metric]), int(m["n_train_windows"]), None)
            for metric in ("train_seconds", "total_seconds", "best_epoch", "epochs", "val_mse_residual")]
    for k, fit in model.damping.items():
        sfx = metric_suffix(k if k == ARRIVAL else int(k))
        for name, p in fit.items():
            rows += [(name, v, dataset, "train", f"damping_{c}{sfx}", float(p[c]), int(p["n"]), None) for c in "rg"]
    for k, res in (m.get("val_first_windows") or {}).items():
        sfx = metric_suffix(k if k == ARRIVAL else int(k))
        for name, e in res.items():
            if isinstance(e, dict):
                rows += [(model_name if name == "model" else name, v, dataset, "val", f"{metric}_yd{sfx}",
                          float(e[metric]), int(res["n"]), None) for metric in ("rmse", "ade", "fde")]
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ngs.ghosting.joint_train", description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", default=None,
                   help="built DuckDB warehouse: its intermediate.int_ball_in_air_tracks and int_pass_play_tracks")
    p.add_argument("--tracks", default=None, help="glob of BDB 2026 output files (quote it), instead of or "
                                                  "besides the warehouse's ball-in-air tracks")
    p.add_argument("--max-epochs", type=int, default=None, help="default: dbt var ghosting_max_epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch / OpenMP threads (1: fastest on a busy 2-core "
                                                          "machine)")
    a = p.parse_args(argv)
    if not a.warehouse and not a.tracks:
        p.error("give --warehouse PATH and/or --tracks GLOB")
    from threadpoolctl import threadpool_limits

    from ngs.threads import ENV

    os.environ[ENV] = str(a.threads)   # read by the training (ngs.threads)
    threadpool_limits(a.threads)  # the screening's OpenMP pool too
    try:
        return _run(p, a)
    except (NgsError, ValueError) as exc:  # a bad file, no training windows: one line, no traceback
        print(f"{p.prog}: error: {exc}", file=sys.stderr)
        return 2


def _run(p: argparse.ArgumentParser, a: argparse.Namespace) -> int:
    real, sim = cli_training_inputs(p, a.warehouse, a.tracks)
    cfg = joint.JointConfig(seed=a.seed, **({"max_epochs": a.max_epochs} if a.max_epochs else {}))
    model = train_joint_pipeline(real, sim, cfg,
                                 log=lambda m: print(m, file=sys.stderr))
    print_trained(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
