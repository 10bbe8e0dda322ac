"""Score a ghosting model and every physics baseline on tracks, for one horizon: ``ngs ghost-eval`` and the
warehouse's rpt_ghosting_metrics both call :func:`score_tracks`.

Horizon: a number of frames N (each track's first ``observed`` frames are observed, the next N are the
truth; shorter tracks are skipped and counted) or ``"arrival"`` (every remaining frame of each track, i.e.
until the ball arrives: tracks of different lengths, so the per-step figures count the tracks that reach
each step; tracks with no frame after the observed ones are skipped).

Baselines (``baselines.physics_predictions``): constant velocity, both constant-acceleration forms and the
damped forms whose constants were fitted on the training windows (stored with the model, per horizon);
``best_baseline`` names the one with the lowest RMSE on these tracks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ngs.ghosting import baselines, data

ARRIVAL = "arrival"
REPORT_HORIZONS: tuple[int | str, ...] = (10, 15, ARRIVAL)  # the seed's experiment, production, the flight


def parse_horizon(value) -> int | str:
    """``"arrival"`` or a positive number of frames (``ValueError`` otherwise)."""
    if isinstance(value, str) and value.strip().lower() == ARRIVAL:
        return ARRIVAL
    try:
        h = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"horizon must be a number of frames or 'arrival', not {value!r}") from None
    if h < 1:
        raise ValueError(f"horizon must be at least 1 frame, not {h}")
    return h


def horizon_key(horizon: int | str) -> str:
    return ARRIVAL if horizon == ARRIVAL else str(int(horizon))


def damping_for(model, horizon: int | str) -> tuple[dict | None, str | None]:
    """The damping constants the model stored for this horizon (else its to-arrival fit), and which."""
    stored = getattr(model, "damping", None) or {}
    key = horizon_key(horizon)
    if key in stored:
        return stored[key], key
    if ARRIVAL in stored:
        return stored[ARRIVAL], ARRIVAL
    return None, None


def windows_for(tracks: pd.DataFrame, observed: int, horizon: int | str) -> tuple[data.Windows, int]:
    """First windows of every track for this horizon."""
    if horizon == ARRIVAL:
        longest = int(tracks.groupby(["game_id", "play_id", "nfl_id"])["frame_id"].size().max()) if len(tracks) else 1
        H = max(longest - observed, 1)
        w, skipped = data.build_windows(tracks, observed, H, starts="first", require_truth=False)
        has = np.isfinite(w.fut[:, 0, 0]) if len(w) else np.zeros(0, bool)
        skipped += int((~has).sum())
        w = w.subset(has)
    else:
        w, skipped = data.build_windows(tracks, observed, int(horizon), starts="first")
    return w, skipped


def predict(model, w: data.Windows) -> np.ndarray:
    if len(w) == 0:
        return np.zeros((0, w.horizon, 2))
    try:
        return model.predict(w, w.horizon)
    except TypeError:  # a model whose predict takes only the windows
        return model.predict(w)


def score_windows(w: data.Windows, pred: np.ndarray | None, damping: dict | None, model_name: str = "model"
                  ) -> dict:
    """{name: errors(...)} for the model (when ``pred`` is given) and every baseline, plus ``best_baseline``."""
    preds = {} if pred is None else {model_name: pred}
    preds.update(baselines.physics_predictions(w.obs, w.horizon, damping))
    out = {name: baselines.errors(p, w.fut) for name, p in preds.items()}
    phys = {k: v for k, v in out.items() if k != model_name}
    return {"scores": out, "best_baseline": baselines.best_baseline(phys)}


def score_tracks(tracks: pd.DataFrame, model, observed: int, horizon: int | str) -> dict:
    """The ``ngs ghost-eval`` result for one horizon (see the module docstring): tracks, skipped, the
    model's and every baseline's RMSE / ADE / FDE, ``per_horizon`` (per-step RMSE, ADE and tracks),
    ``best_baseline`` and the model's RMSE reduction against it."""
    if getattr(model, "roles", None) is not None and tracks["is_target"].isna().any():
        tracks = data.apply_roles(tracks, model.roles)
    w, skipped = windows_for(tracks, observed, horizon)
    damping, fitted_for = damping_for(model, horizon)
    res = score_windows(w, predict(model, w), damping)
    out: dict = {"tracks": len(w), "skipped": int(skipped), "observed": observed, "horizon": horizon,
                 "frames_scored": int(np.isfinite(w.fut[..., 0]).sum()) if len(w) else 0,
                 "model_version": model.version}
    per_step = {}
    for name, e in res["scores"].items():
        out[name] = {"rmse": e["rmse"], "ade": e["ade"], "fde": e["fde"]}
        per_step[name] = {"rmse": e["rmse_by_step"], "ade": e["ade_by_step"]}
    per_step["n_tracks"] = res["scores"]["model"]["n_by_step"]
    best = res["best_baseline"]
    out["best_baseline"] = best
    m, b = out["model"]["rmse"], out[best]["rmse"] if best else float("nan")
    out["model_vs_best_baseline_rmse_reduction"] = float(1 - m / b) if np.isfinite(m) and b > 0 else float("nan")
    out["damping"] = {k: {"r": v["r"], "g": v["g"]} for k, v in (damping or {}).items()}
    out["damping_fitted_for_horizon"] = fitted_for
    out["per_horizon"] = per_step
    out["teleport_tracks"] = int(w.key["teleport"].sum()) if len(w) else 0
    return out




# --------------------------------------------------------------------------------------------- warehouse
def metric_suffix(horizon: int | str) -> str:
    """Metric-name suffix of a horizon in rpt_ghosting_metrics: none for 10 frames (the seed's experiment,
    the names the dashboards read), ``_h<N>`` for another N, ``_arrival`` to the arrival."""
    if horizon == ARRIVAL:
        return "_arrival"
    return "" if int(horizon) == 10 else f"_h{int(horizon)}"


def metric_rows(model, model_name: str, dataset: str, split: str, tracks: pd.DataFrame, observed: int,
                horizons=REPORT_HORIZONS) -> list[tuple]:
    """rpt_ghosting_metrics rows (model, version, dataset, split, metric, value, n, horizon_step) of the
    model and every baseline on ``tracks`` for each horizon: rmse_yd / ade_yd / fde_yd and per step
    (``rmse_yd<suffix>_step_NN``, n = tracks reaching the step), the best baseline
    (``best_baseline_rmse_yd<suffix>`` under its own name) and the model's RMSE reduction against it."""
    rows: list[tuple] = []
    if getattr(model, "roles", None) is not None and tracks["is_target"].isna().any():
        tracks = data.apply_roles(tracks, model.roles)
    for horizon in horizons:
        w, _ = windows_for(tracks, observed, horizon)
        if len(w) == 0:
            continue
        damping, _ = damping_for(model, horizon)
        res = score_windows(w, predict(model, w), damping, model_name)
        sfx = metric_suffix(horizon)
        for name, e in res["scores"].items():
            for metric in ("rmse", "ade", "fde"):
                rows.append((name, model.version, dataset, split, f"{metric}_yd{sfx}", e[metric], len(w), None))
            for k, (r, a, n) in enumerate(zip(e["rmse_by_step"], e["ade_by_step"], e["n_by_step"], strict=True),
                                          start=1):
                rows.append((name, model.version, dataset, split, f"rmse_yd{sfx}_step_{k:02d}", r, n, k))
                rows.append((name, model.version, dataset, split, f"ade_yd{sfx}_step_{k:02d}", a, n, k))
        best = res["best_baseline"]
        if best is None:
            continue
        b, m = res["scores"][best]["rmse"], res["scores"][model_name]["rmse"]
        rows.append((best, model.version, dataset, split, f"best_baseline_rmse_yd{sfx}", b, len(w), None))
        rows.append((model_name, model.version, dataset, split, f"rmse_reduction_vs_best_baseline{sfx}",
                     float(1 - m / b) if b > 0 else float("nan"), len(w), None))
    return rows


__all__ = ["ARRIVAL", "parse_horizon", "score_tracks", "score_windows", "windows_for", "damping_for", "metric_rows"]
