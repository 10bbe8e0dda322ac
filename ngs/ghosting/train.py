"""Train the ghosting model: ``python -m ngs.ghosting.train`` (real BDB 2026 weeks 1-10, plus the
warehouse's pass plays with ``--warehouse``). Writes ``artifacts/ghosting/<version>/`` and prints metrics.

Split: real data weeks 1-10 -> train / validation by game (15% of games, game_id hash); weeks 11-14 are
never read here (held-out test, scored by ``ngs ghost-eval``). Warehouse games: train / val / test by
game hash (test never used for training).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time

import numpy as np
import pandas as pd

from ngs.ghosting import data
from ngs.ghosting.baselines import constant_acceleration, constant_velocity, errors
from ngs.ghosting.features import screen_features
from ngs.ghosting.model import GhostConfig, GhostModel, artifacts_root, data_fingerprint, load, train


def prepare_training_windows(real: pd.DataFrame | None, sim: pd.DataFrame | None, history: int, horizon: int,
                             ) -> tuple[data.Windows, data.Windows, data.Windows, pd.DataFrame]:
    """(train, val, val_first, roles): sliding windows without teleports for train/val, and the
    benchmark-style first windows of the validation tracks."""
    parts_tr, parts_va, parts_vf = [], [], []
    roles = pd.DataFrame(columns=["nfl_id", "plays", "receiver_votes", "is_offense"])
    for name, tr in (("real", real), ("sim", sim)):
        if tr is None or len(tr) == 0:
            continue
        tr = tr.copy()
        if name == "real":
            tr = tr[pd.to_numeric(tr["week"], errors="coerce").isin(data.TRAIN_WEEKS) | tr["week"].isna()]
            tr = tr[data.assign_split(tr) != "test"]
            roles = data.infer_roles(tr)
            tr = data.apply_roles(tr, roles)
        split = data.assign_split(tr)
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
    root = artifacts_root()
    if not root.exists():
        return None
    for d in sorted(root.iterdir()):
        cfg_path = d / "config.json"
        if not cfg_path.exists():
            continue
        try:
            key = json.loads(cfg_path.read_text()).get("metrics", {}).get("input_key")
        except (OSError, ValueError):
            continue
        if key == input_key:
            model = load(version=d.name)
            (root / "LATEST").write_text(model.version + "\n")
            return model
    return None


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
                   ) -> tuple[GhostModel, pd.DataFrame | None]:
    """Screen features (unless ``screen=False``, then ``config.features`` is used as given), train, score
    the validation first-windows, save the artefact. Returns (model, screening table or None)."""
    config = copy.deepcopy(config) if config is not None else GhostConfig()  # training fills in features
    t0 = time.time()
    tr, va, vf, roles = prepare_training_windows(real, sim, config.history, config.horizon)
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ngs.ghosting.train", description=__doc__.splitlines()[0])
    p.add_argument("--tracks", default=data.BDB2026_GLOB, help="BDB 2026 output files (weeks 11-14 are dropped)")
    p.add_argument("--no-real", action="store_true", help="train on the warehouse only")
    p.add_argument("--warehouse", default=None, help="DuckDB warehouse with marts.fct_tracking / fct_pass_events")
    p.add_argument("--history", type=int, default=3)
    p.add_argument("--horizon", type=int, default=10)
    p.add_argument("--max-epochs", type=int, default=GhostConfig.max_epochs)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    real = None if a.no_real else data.read_output_tracks(a.tracks)
    sim = None
    if a.warehouse:
        import duckdb

        with duckdb.connect(a.warehouse, read_only=True) as con:
            sim = data.load_warehouse_tracks(con)
    cfg = GhostConfig(history=a.history, horizon=a.horizon, max_epochs=a.max_epochs, seed=a.seed)
    model, _ = train_pipeline(real, sim, cfg, log=lambda m: print(m, file=sys.stderr))
    summary = {k: v for k, v in model.metrics.items() if k != "history"}
    print(json.dumps({"version": model.version, "path": str(model.path), **summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
