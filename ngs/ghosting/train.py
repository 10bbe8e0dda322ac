"""Train the ghosting model: ``python -m ngs.ghosting.train --warehouse PATH`` (the BDB 2026 ball-in-air
tracks and the other pass plays a built warehouse holds, as the dbt model ghosting_model_training reads
them) or ``--tracks GLOB`` (BDB 2026 output-format files). Writes ``artifacts/ghosting/<version>/`` and
prints metrics.

Split (``data.assign_split``): games from week ``ghosting_test_from_week`` (dbt var, 11) on are the held-out
test and never read here (scored by rpt_ghosting_metrics / ``ngs ghost-eval``); earlier weeks train /
validate by game (15% of games, game_id hash); games without a week train / validate / test by game hash.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ngs.ghosting import data
from ngs.ghosting.baselines import constant_acceleration, constant_velocity, errors
from ngs.ghosting.features import screen_features
from ngs.ghosting.model import GhostConfig, GhostModel, data_fingerprint, find_by_input_key, train


def _split(tr: pd.DataFrame, test_from_week: int | None) -> np.ndarray:
    """The tracks' split column (the warehouse readers add it), else data.assign_split."""
    if "split" in tr.columns:
        return tr["split"].to_numpy()
    return data.assign_split(tr, test_from_week).to_numpy()


def prepare_training_windows(real: pd.DataFrame | None, sim: pd.DataFrame | None, history: int, horizon: int,
                             test_from_week: int | None = None,
                             ) -> tuple[data.Windows, data.Windows, data.Windows, pd.DataFrame]:
    """(train, val, val_first, roles): sliding windows without teleports for train/val, and the
    benchmark-style first windows of the validation tracks. ``real``: BDB 2026 ball-in-air tracks (targets
    partly unknown: roles are learned from their training games); ``sim``: pass plays with known targets."""
    parts_tr, parts_va, parts_vf = [], [], []
    roles = pd.DataFrame(columns=["nfl_id", "plays", "receiver_votes", "is_offense"])
    for name, tr in (("real", real), ("sim", sim)):
        if tr is None or len(tr) == 0:
            continue
        tr = tr.copy()
        if name == "real":
            tr = tr[_split(tr, test_from_week) != "test"]
            roles = data.infer_roles(tr)
            tr = data.apply_roles(tr, roles)
        split = _split(tr, test_from_week)
        for s, acc in (("train", parts_tr), ("val", parts_va)):
            w, _ = data.build_windows(tr[split == s], history, horizon, starts="all")
            if len(w):
                acc.append(w.subset(~w.key["teleport"].to_numpy()))
        w, _ = data.build_windows(tr[split == "val"], history, horizon, starts="first")
        if len(w):
            parts_vf.append(w)
    if not parts_tr:
        raise ValueError("no training windows: give real tracks or a warehouse with pass plays")
    cat = data.concat_windows
    k = max(p.others.shape[1] for p in parts_tr + parts_va + parts_vf)
    return (_pad(cat(parts_tr), k), _pad(cat(parts_va), k) if parts_va else None,
            _pad(cat(parts_vf), k) if parts_vf else None, roles)


def training_input_key(config: GhostConfig, tr: data.Windows, va: data.Windows, screen_sample: int | None) -> str:
    """Identity of a training run's inputs (configuration before screening, windows, screening sample)."""
    import hashlib

    text = json.dumps([config.to_json(), data_fingerprint(tr), data_fingerprint(va), screen_sample])
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def find_trained(input_key: str) -> GhostModel | None:
    """The stored artefact trained on exactly these inputs, if any (its config.json records the key)."""
    return find_by_input_key(input_key, None)


def _pad(w: data.Windows, k: int) -> data.Windows:
    extra = k - w.others.shape[1]
    if extra <= 0:
        return w
    w.others = np.concatenate([w.others, np.full((len(w), extra) + w.others.shape[2:], np.nan)], axis=1)
    w.others_is_target = np.concatenate([w.others_is_target, np.full((len(w), extra), np.nan)], axis=1)
    return w


def score(model: GhostModel | None, w: data.Windows) -> dict:
    out = {"n": len(w)}
    if model is not None:
        out["model"] = errors(model.predict(w), w.fut)
    out["constant_velocity"] = errors(constant_velocity(w.obs, w.horizon), w.fut)
    out["constant_acceleration"] = errors(constant_acceleration(w.obs, w.horizon), w.fut)
    return out


def train_pipeline(real: pd.DataFrame | None, sim: pd.DataFrame | None = None, config: GhostConfig | None = None,
                   screen_sample: int = 15000, save: bool = True, log=print, screen: bool = True,
                   test_from_week: int | None = None) -> tuple[GhostModel, pd.DataFrame | None]:
    """Screen features (unless ``screen=False``, then ``config.features`` is used as given), train, score
    the validation first-windows, save the artefact. Returns (model, screening table or None).
    ``test_from_week``: for tracks without a split column (default: dbt var ghosting_test_from_week)."""
    config = copy.deepcopy(config) if config is not None else GhostConfig()  # training fills in features
    t0 = time.time()
    tr, va, vf, roles = prepare_training_windows(real, sim, config.history, config.horizon, test_from_week)
    if va is None or len(va) == 0:
        va = tr
    # Same configuration and same training/validation windows -> same (deterministic) model: reuse it.
    input_key = training_input_key(config, tr, va, screen_sample if screen else None)
    cached = find_trained(input_key) if save else None
    if cached is not None:
        if log:
            log(f"reusing {cached.version}: trained before on the same windows and configuration")
        return cached, cached.screening
    if log:
        log(f"windows: train {len(tr)}, val {len(va)}, val first-windows {0 if vf is None else len(vf)}")
    screening = screen_features(tr, sample=screen_sample, seed=config.seed, min_share=config.min_share) \
        if screen else None
    if log and screening is not None:
        log("selected features: " + ", ".join(screening.loc[screening["selected"], "feature"]))
    model = train(tr, va, config, screening=screening, roles=roles, log=log)
    model.metrics["total_seconds"] = round(time.time() - t0, 1)
    model.metrics["input_key"] = input_key
    if vf is not None and len(vf):
        model.metrics["val_first_windows"] = score(model, vf)
    if save:
        model.save()
    return model, screening



def cli_training_inputs(p: argparse.ArgumentParser, warehouse: str | None, tracks: str | None
                        ) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The training commands' inputs: (ball-in-air tracks from the files or the warehouse, the warehouse's
    other pass plays); an unreadable warehouse ends the command with one line (`p.error`)."""
    real = data.read_output_tracks(tracks) if tracks else None
    sim = None
    if warehouse:
        import duckdb

        if not Path(warehouse).is_file():
            p.error(f"no warehouse at {warehouse} (build one with `ngs build --data DIR`)")
        try:
            with duckdb.connect(warehouse, read_only=True) as con:
                if real is None:
                    real = data.read_tracks(con.table("intermediate.int_ball_in_air_tracks"))
                sim = data.read_tracks(con.table("intermediate.int_pass_play_tracks"))
        except duckdb.Error as e:
            p.error(f"{warehouse}: cannot read the ghosting inputs ({str(e).splitlines()[0]}); "
                    "rebuild it with this version (`ngs build --data DIR`)")
    return data.nonempty(real), data.nonempty(sim)


def print_trained(model) -> None:
    """The training commands' output: the model's version, folder and metrics (without the epoch history)."""
    summary = {k: v for k, v in model.metrics.items() if k != "history"}
    print(json.dumps({"version": model.version, "path": str(model.path), **summary}, indent=2))

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ngs.ghosting.train", description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", default=None,
                   help="built DuckDB warehouse: its intermediate.int_ball_in_air_tracks and int_pass_play_tracks")
    p.add_argument("--tracks", default=None, help="glob of BDB 2026 output files (quote it), instead of or "
                                                  "besides the warehouse's ball-in-air tracks")
    p.add_argument("--history", type=int, default=3)
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--max-epochs", type=int, default=GhostConfig.max_epochs)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if not a.warehouse and not a.tracks:
        p.error("give --warehouse PATH and/or --tracks GLOB")
    import torch

    torch.set_num_threads(2)
    real, sim = cli_training_inputs(p, a.warehouse, a.tracks)
    cfg = GhostConfig(history=a.history, horizon=a.horizon, max_epochs=a.max_epochs, seed=a.seed)
    model, _ = train_pipeline(real, sim, cfg,
                              log=lambda m: print(m, file=sys.stderr))
    print_trained(model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
