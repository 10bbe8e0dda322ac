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
    pooled = fit(dist.to_numpy(), secs.to_numpy(), "pooled_fit") or DEFAULT
    out = {}
    for dataset in passes["dataset"].dropna().unique():
        m = (p["dataset"] == dataset).to_numpy()
        out[str(dataset)] = fit(dist.to_numpy()[m], secs.to_numpy()[m]) or pooled
    return out


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
