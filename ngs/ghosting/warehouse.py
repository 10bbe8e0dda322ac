"""Glue for the dbt Python models (python_models/ghosting/*.py): each model calls one function here with
``dbt`` and ``session`` and returns its DataFrame. Pure package code stays in the other modules.

Datasets: ``real`` = the BDB 2026 output files (``ghosting_real_tracks`` config, a glob relative to the
repo root; skipped when nothing matches), ``simulated`` = the warehouse's pass plays (defensive backs and
the targeted receiver, any source except bdb2026, whose real tracks are read from the files instead).

Scale (a season: ~32k passes, ~2.5M ball-in-air rows of those players): DuckDB filters, joins and sorts the
tracks; they come back through Arrow (no per-row Python strings); windows, features and the network run
once over all passes (numpy / one batched torch call, torch and BLAS capped at one thread); the metrics
model reads only its test/val games and the real files that can hold test weeks. Time and memory grow
linearly with the passes (~0.15 ms per pass for the closing scores, excluding the query).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ngs.ghosting import MODEL_NAME, closing, data
from ngs.ghosting.baselines import constant_acceleration, constant_velocity, errors
from ngs.ghosting.model import GhostConfig, GhostModel, load
from ngs.paths import REPO_ROOT

METRIC_COLUMNS = ["model", "version", "dataset", "split", "metric", "value", "n", "horizon_step"]


def real_tracks_glob(dbt) -> str | None:
    pattern = dbt.config.get("ghosting_real_tracks") or data.BDB2026_GLOB
    if not os.path.isabs(pattern):
        pattern = str(Path(REPO_ROOT) / pattern)
    return pattern if glob.glob(pattern) else None


SOURCE_REFS = ("fct_tracking", "fct_pass_events", "fct_plays", "dim_games")


def warehouse_tracks(refs: dict, session, splits: tuple[str, ...] | None = None) -> pd.DataFrame:
    """``refs``: the DuckDB relations of SOURCE_REFS (the model file calls dbt.ref, so dbt sees the edges).
    Their queries are used as subqueries: no view is written to the warehouse (a shared view name made two
    ghosting models running side by side fail with a catalog write-write conflict).

    ``splits``: only the games of these splits (decided per game from dim_games, before any tracking row
    is read); the bdb2026 rows are left in the database too."""
    names = {ref: f"({refs[ref].sql_query()})" for ref in SOURCE_REFS}
    game_ids = None
    if splits is not None:
        games = data.warehouse_games(session, names["fct_pass_events"], names["dim_games"])
        game_ids = games.loc[data.assign_split(games).isin(splits).to_numpy(), "game_id"].tolist()
    tr = data.load_warehouse_tracks(session, names["fct_tracking"], names["fct_pass_events"], names["fct_plays"],
                                    names["dim_games"], game_ids=game_ids, exclude_source="bdb2026")
    tr["split"] = data.assign_split(tr).to_numpy()
    return tr


def real_tracks(dbt, weeks: tuple[int, ...] | None = None) -> pd.DataFrame | None:
    """The real BDB 2026 tracks; with ``weeks``, only the files that can hold those weeks (a file named
    for another week is not read: all its rows would be dropped)."""
    pattern = real_tracks_glob(dbt)
    if pattern is None:
        return None
    files = data.output_track_files(pattern, weeks)
    if not files:
        return None
    tr = data.read_output_tracks(files)
    tr["split"] = data.assign_split(tr).to_numpy()
    return tr


# ------------------------------------------------------------------------------------------- training
def training_model(dbt, session, refs: dict) -> pd.DataFrame:
    """Inside dbt's process, DuckDB and dbt's other threads share the two cores: OpenMP pools (scikit-learn's
    gradient boosting, torch) that spin-wait for all cores run many times slower there (a 26 s training
    took 314 s), so they are capped at one thread."""
    with threadpool_limits(limits=int(os.environ.get('NGS_TRAIN_THREADS', '1'))):
        return _training_model(dbt, session, refs)


def _training_model(dbt, session, refs: dict) -> pd.DataFrame:
    import torch

    from ngs.ghosting.train import train_pipeline

    torch.set_num_threads(int(os.environ.get('NGS_TRAIN_THREADS', '1')))
    real = real_tracks(dbt)
    sim = warehouse_tracks(refs, session)
    cfg = GhostConfig(max_epochs=int(dbt.config.get("ghosting_max_epochs") or GhostConfig.max_epochs))
    model, _ = train_pipeline(real, sim if len(sim) else None, cfg, log=None)
    rows = []
    m = model.metrics
    for metric in ("train_seconds", "total_seconds", "best_epoch", "epochs", "val_mse_residual"):
        rows.append((MODEL_NAME, model.version, "real+simulated", "train", metric, float(m[metric]),
                     int(m["n_train_windows"]), None))
    vf = m.get("val_first_windows")
    if vf:
        for name in ("model", "constant_velocity", "constant_acceleration"):
            for metric in ("rmse", "ade", "fde"):
                rows.append((_model_name(name), model.version, "real+simulated", "val", f"{metric}_yd",
                             vf[name][metric], vf["n"], None))
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def _model_name(name: str) -> str:
    return MODEL_NAME if name == "model" else name


def feature_screening(dbt) -> pd.DataFrame:
    model = load()
    scr = model.screening.copy() if model.screening is not None else pd.DataFrame(
        columns=["feature", "importance", "importance_std", "share", "rank", "selected"])
    scr["selected"] = scr["selected"].astype(bool)
    scr["in_model"] = scr["feature"].isin(model.config.features)
    scr["model_version"] = model.version
    return scr


# ------------------------------------------------------------------------------------------- scoring
@contextmanager
def scoring_threads() -> Iterator[None]:
    """Cap torch's and the OpenMP/BLAS pools (NGS_GHOSTING_THREADS, default 1) while scoring: dbt runs two
    models at a time on this 2-core machine, where the network's batches run 2-4x slower with 2 threads
    than with one. The network's output is bit-for-bit the same with 1 or 2 threads (checked)."""
    import torch

    n = int(os.environ.get("NGS_GHOSTING_THREADS", "1"))
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def _score_windows(model: GhostModel, tr: pd.DataFrame) -> tuple[data.Windows, np.ndarray]:
    if model.roles is not None and tr["is_target"].isna().any():  # else apply_roles would only copy
        tr = data.apply_roles(tr, model.roles)
    w, _ = data.build_windows(tr, model.config.history, model.config.horizon, starts="first")
    return w, model.predict(w) if len(w) else np.zeros((0, model.config.horizon, 2))


def ghost_trajectories(dbt, session, refs: dict) -> pd.DataFrame:
    """One row per pass, defender, predicted frame (warehouse pass plays, first window after the throw)."""
    with scoring_threads():
        return _ghost_trajectories(dbt, session, refs)


def _ghost_trajectories(dbt, session, refs: dict) -> pd.DataFrame:
    model = load()
    tr = warehouse_tracks(refs, session)
    cols = ["game_id", "play_id", "nfl_id", "split", "throw_frame_id", "frame_id", "horizon_step",
            "x_pred_std", "y_pred_std", "x_true_std", "y_true_std", "error_yd", "model_version"]
    if tr.empty:
        return pd.DataFrame(columns=cols)
    w, pred = _score_windows(model, tr)
    keep = w.is_target == 0.0
    w, pred = w.subset(keep), pred[keep]
    H, h = model.config.horizon, model.config.history
    throw = tr.drop_duplicates(["game_id", "play_id"]).set_index(["game_id", "play_id"])["throw_frame_id"]
    split = tr.drop_duplicates(["game_id", "play_id"]).set_index(["game_id", "play_id"])["split"]
    key = w.key.loc[w.key.index.repeat(H)].reset_index(drop=True)
    step = np.tile(np.arange(1, H + 1), len(w))
    idx = pd.MultiIndex.from_frame(key[["game_id", "play_id"]])
    t0 = throw.reindex(idx).to_numpy()
    out = pd.DataFrame({
        "game_id": key["game_id"], "play_id": key["play_id"], "nfl_id": key["nfl_id"],
        "split": split.reindex(idx).to_numpy(),
        "throw_frame_id": t0,
        "frame_id": t0 + key["start_frame"].to_numpy() - 1 + h - 1 + step,
        "horizon_step": step,
        "x_pred_std": pred[..., 0].ravel(), "y_pred_std": pred[..., 1].ravel(),
        "x_true_std": w.fut[..., 0].ravel(), "y_true_std": w.fut[..., 1].ravel(),
    })
    out["error_yd"] = np.hypot(out["x_pred_std"] - out["x_true_std"], out["y_pred_std"] - out["y_true_std"])
    out["model_version"] = model.version
    return out[cols]


def _metric_rows(version: str, dataset: str, split: str, w: data.Windows, pred: np.ndarray) -> list[tuple]:
    rows = []
    preds = {MODEL_NAME: pred, "constant_velocity": constant_velocity(w.obs, w.horizon),
             "constant_acceleration": constant_acceleration(w.obs, w.horizon)}
    for name, p in preds.items():
        e = errors(p, w.fut)
        for metric in ("rmse", "ade", "fde"):
            rows.append((name, version, dataset, split, f"{metric}_yd", e[metric], len(w), None))
        for k, (r, a) in enumerate(zip(e["rmse_by_step"], e["ade_by_step"], strict=True), start=1):
            rows.append((name, version, dataset, split, f"rmse_yd_step_{k:02d}", r, len(w), k))
            rows.append((name, version, dataset, split, f"ade_yd_step_{k:02d}", a, len(w), k))
    return rows


def ghosting_metrics(dbt, session, refs: dict) -> pd.DataFrame:
    """Model vs constant velocity vs constant acceleration on the held-out tracks: real = BDB 2026 weeks
    11-14 (first window of each track, as ``ngs ghost-eval``), simulated = the warehouse's test games."""
    with scoring_threads():
        return _ghosting_metrics(dbt, session, refs)


def _ghosting_metrics(dbt, session, refs: dict) -> pd.DataFrame:
    model = load()
    rows: list[tuple] = []
    real = real_tracks(dbt, weeks=data.TEST_WEEKS)
    if real is not None:
        w, pred = _score_windows(model, real[real["split"] == "test"])
        if len(w):
            rows += _metric_rows(model.version, "real", "test", w, pred)
    sim = warehouse_tracks(refs, session, splits=("test", "val"))
    for split in ("test", "val"):
        part = sim[sim["split"] == split]
        if len(part):
            w, pred = _score_windows(model, part)
            if len(w):
                rows += _metric_rows(model.version, "simulated", split, w, pred)
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    out["horizon_step"] = out["horizon_step"].astype("Int64")
    out["n"] = out["n"].astype("int64")
    return out


def closing_scores(dbt, session, refs: dict) -> pd.DataFrame:
    """Per-defender closing scores in the three conditions (real / predicted / randomised_25pct), on the
    real BDB 2026 plays (targets inferred) and the warehouse's pass plays (targets known)."""
    with scoring_threads():
        return _closing_scores(dbt, session, refs)


def _closing_scores(dbt, session, refs: dict) -> pd.DataFrame:
    model = load()
    seed = int(dbt.config.get("ghosting_closing_seed") or 0)
    parts = []
    real = real_tracks(dbt)
    if real is not None:
        tr = data.infer_targets_full(real, model.roles)  # the split column rides along unused
        _, per = closing.closing_experiment(tr, model, seed=seed)
        if len(per):
            per.insert(3, "dataset", "real")
            parts.append(per)
    sim = warehouse_tracks(refs, session)
    if len(sim):
        _, per = closing.closing_experiment(sim, model, seed=seed)
        if len(per):
            per.insert(3, "dataset", "simulated")
            parts.append(per)
    cols = ["game_id", "play_id", "nfl_id", "dataset", "condition", "score", "closing", "effort",
            "superhuman_penalty", "start_dist_yd", "end_dist_yd", "max_speed_yps", "n_frames", "randomised",
            "start_frame", "split", "model_version"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    games = out[["game_id"]].drop_duplicates()
    wk = pd.concat([real[["game_id", "split"]].drop_duplicates("game_id") if real is not None
                    else pd.DataFrame(columns=["game_id", "split"]),
                    sim[["game_id", "split"]].drop_duplicates("game_id")]).drop_duplicates("game_id")
    out = out.merge(games.merge(wk, on="game_id", how="left"), on="game_id", how="left")
    out["model_version"] = model.version
    out["n_frames"] = out["n_frames"].astype("int64")
    out["randomised"] = out["randomised"].astype(bool)
    return out[cols]


__all__ = ["training_model", "feature_screening", "ghost_trajectories", "ghosting_metrics", "closing_scores"]
