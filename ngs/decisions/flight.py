"""How long the ball flies, and where it meets a receiver running his route.

Flight-time model: ``time_s = intercept_s + air_distance_yd / ball_speed_yps`` (ordinary least squares of
the real flight time, arrival frame minus throw frame over the frame rate, on the ball's air distance,
both from marts.fct_pass_events). A fit on too few passes, or one whose slope is not positive, falls back
to the pooled fit of every dataset, then to ``DEFAULT`` (a stated assumption, not a measurement).

The hypothetical arrival frame for a receiver is the *earliest catchable frame*: the first frame k after
the throw at which the ball, thrown at the throw frame, can have covered the distance to where the
receiver is at frame k: ``k / fps >= intercept_s + |route(k) - ball_at_throw| / ball_speed_yps``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

MIN_PASSES = 10


@dataclass(frozen=True)
class FlightModel:
    intercept_s: float
    ball_speed_yps: float
    n: int = 0
    mae_s: float = float("nan")
    method: str = "default"  # 'fit' | 'pooled_fit' | 'default'

    def seconds(self, distance_yd: np.ndarray | float) -> np.ndarray:
        return self.intercept_s + np.asarray(distance_yd, float) / self.ball_speed_yps

    def to_dict(self) -> dict:
        return asdict(self)


# Assumption used only when no usable fit exists (documented in docs/decisions.md).
DEFAULT = FlightModel(intercept_s=0.3, ball_speed_yps=20.0, method="default")


def fit(distance_yd: np.ndarray, seconds: np.ndarray, method: str = "fit") -> FlightModel | None:
    """OLS of seconds on distance; None when there are < MIN_PASSES finite pairs or the slope is <= 0."""
    d = np.asarray(distance_yd, float)
    t = np.asarray(seconds, float)
    ok = np.isfinite(d) & np.isfinite(t) & (t > 0)
    d, t = d[ok], t[ok]
    if d.size < MIN_PASSES or np.ptp(d) <= 0:
        return None
    slope, intercept = np.polyfit(d, t, 1)
    if slope <= 0:
        return None
    mae = float(np.mean(np.abs(intercept + slope * d - t)))
    return FlightModel(float(intercept), float(1.0 / slope), int(d.size), mae, method)


def fit_per_dataset(passes: pd.DataFrame, fps: float) -> dict[str, FlightModel]:
    """One model per value of ``dataset`` in ``passes`` (columns dataset, throw_frame_id, arrival_frame_id,
    ball_throw_x_std, ball_throw_y_std, ball_arrival_x_std, ball_arrival_y_std)."""
    p = passes.dropna(subset=["arrival_frame_id", "ball_throw_x_std", "ball_arrival_x_std"])
    dist = np.hypot(p["ball_arrival_x_std"] - p["ball_throw_x_std"], p["ball_arrival_y_std"] - p["ball_throw_y_std"])
    secs = (p["arrival_frame_id"] - p["throw_frame_id"]) / fps
    pooled, per = _fits(dist.to_numpy(float), secs.to_numpy(float), p["dataset"].astype(str).to_numpy())
    return {str(d): per.get(str(d), pooled) for d in passes["dataset"].dropna().unique()}


def _fits(dist: np.ndarray, secs: np.ndarray, dataset: np.ndarray) -> tuple[FlightModel, dict[str, FlightModel]]:
    pooled = fit(dist, secs, "pooled_fit") or DEFAULT
    return pooled, {str(d): fit(dist[dataset == d], secs[dataset == d]) or pooled for d in np.unique(dataset)}


# Where the fit is stored: the completion artefact's metadata.json (ngs.completion.warehouse.train), fitted
# on the training passes, so every pass of later scoring-only builds and appends uses the same fit (and
# fct_target_options rows stay valid when an append adds passes: ngs.incremental).
METADATA_KEY = "flight_models"


def fit_training(features: pd.DataFrame) -> dict:
    """The fits to store at training, from marts.fct_pass_features (the completion model's training rows):
    passes whose ball is tracked at the throw and the arrival (air_distance_method 'ball'), air_distance_yd
    and time_in_air_s (the same distance and time as :func:`fit_per_dataset`). {"pooled": ..., "datasets":
    {dataset: ...}} as plain dicts. The passes are taken in key order: the fit's last bits depend on the
    order of the sums, and a table's row order is not fixed (DuckDB's parallel scan, Spark's files)."""
    key = [c for c in ("game_id", "play_id") if c in features]
    if key:
        features = features.sort_values(key, kind="mergesort")
    p = features[features["air_distance_method"].astype(str) == "ball"] if "air_distance_method" in features else features
    pooled, per = _fits(pd.to_numeric(p["air_distance_yd"]).to_numpy(float),
                        pd.to_numeric(p["time_in_air_s"]).to_numpy(float), p["dataset"].astype(str).to_numpy())
    return {"pooled": pooled.to_dict(), "datasets": {k: v.to_dict() for k, v in per.items()}}


def stored_per_dataset(stored: dict, datasets) -> dict[str, FlightModel]:
    """The stored fits (:func:`fit_training`) for ``datasets``: the dataset's own, else the pooled one."""
    pooled = FlightModel(**stored["pooled"])
    own = {k: FlightModel(**v) for k, v in stored["datasets"].items()}
    return {str(d): own.get(str(d), pooled) for d in datasets}


def earliest_catchable_frame(route: np.ndarray, ball_xy: np.ndarray, model: FlightModel, fps: float) -> np.ndarray:
    """``route``: (n, K, 2) receiver positions at frames 1..K after the throw; ``ball_xy``: (n, 2).
    Returns k in 1..K per row: the first frame with k / fps >= model.seconds(distance at k); where no
    frame qualifies (the receiver outruns the ball), the frame where the two times are closest."""
    route = np.asarray(route, float)
    n, K, _ = route.shape
    dist = np.linalg.norm(route - np.asarray(ball_xy, float)[:, None, :], axis=-1)
    t_frame = np.arange(1, K + 1, dtype=float)[None, :] / fps
    need = model.seconds(dist)
    ok = t_frame >= need
    first = np.where(ok.any(axis=1), ok.argmax(axis=1), np.nanargmin(np.abs(t_frame - need), axis=1))
    return first + 1
