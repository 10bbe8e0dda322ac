"""The completion features of one (hypothetical) pass, from positions and velocities at the throw and at
the arrival: the Python twin of models/marts/completion/fct_pass_features.sql.

DUPLICATION RISK: the completion package computes its features in SQL only (no Python function scores a
feature frame from positions), so the definitions are repeated here. A change to fct_pass_features.sql
must be repeated here; tests/test_decisions.py pins the definitions on hand-made frames, and the
counterfactual-consistency rows of marts.rpt_decisions_metrics compare the two on every real target.

Definitions (yards, yd/s, standardised frame; "defenders" = players with is_offense false, passer and
target excluded):
* air_distance_yd: ball at the throw -> ball at the arrival (here the ball lands on the receiver);
* receiver_separation_{throw,arrival}_yd: distance to the nearest defender; second_separation_arrival_yd:
  to the second-nearest; defender_speed_arrival_yps: the nearest defender's speed;
* defender_closing_speed_arrival_yps: -((p_d - p_r) . (v_d - v_r)) / |p_d - p_r| of the nearest defender;
* defenders_within_radius_arrival: defenders within ``radius_yd`` (var completion_defender_radius_yd);
* receiver_sideline_distance_arrival_yd: min(y, field width - y); pass_depth_yd: landing x - line of
  scrimmage; passer_rusher_distance_throw_yd: nearest defender to the passer at the throw.
"""

from __future__ import annotations

import numpy as np

from ngs.constants import field_width_yd


def nearest(points: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``points`` (n, 2), ``others`` (n, k, 2) NaN-padded -> distance to the nearest other (NaN when there is
    none) and its index (-1 when there is none)."""
    d = np.linalg.norm(np.asarray(others, float) - np.asarray(points, float)[:, None, :], axis=-1)
    present = np.isfinite(d)
    has = present.any(axis=1)
    idx = np.where(has, np.argmin(np.where(present, d, np.inf), axis=1), -1)
    dist = np.full(len(d), np.nan)
    dist[has] = d[np.flatnonzero(has), idx[has]]
    return dist, idx


def arrival_features(receiver_xy: np.ndarray, receiver_v: np.ndarray, receiver_speed: np.ndarray,
                     defenders_xy: np.ndarray, defenders_v: np.ndarray, ball_throw_xy: np.ndarray,
                     line_of_scrimmage_x: np.ndarray, radius_yd: float) -> dict[str, np.ndarray]:
    """Features at the arrival for n passes; defenders NaN-padded to (n, k, 2)."""
    rxy = np.asarray(receiver_xy, float)
    dxy = np.asarray(defenders_xy, float)
    rel = dxy - rxy[:, None, :]
    d = np.linalg.norm(rel, axis=-1)
    sep, idx = nearest(rxy, dxy)
    rows = np.arange(len(rxy))
    j = np.maximum(idx, 0)
    relv = np.asarray(defenders_v, float)[rows, j] - np.asarray(receiver_v, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        closing = -(rel[rows, j] * relv).sum(axis=-1) / np.where(sep > 0, sep, np.nan)
    closing = np.where(idx >= 0, closing, np.nan)
    air = np.linalg.norm(rxy - np.asarray(ball_throw_xy, float), axis=-1)
    ordered = np.sort(np.where(np.isfinite(d), d, np.inf), axis=1)
    second = ordered[:, 1] if ordered.shape[1] > 1 else np.full(len(rxy), np.inf)
    nearest_speed = np.linalg.norm(np.asarray(defenders_v, float)[rows, j], axis=-1)
    return {
        "air_distance_yd": air,
        "receiver_separation_arrival_yd": sep,
        "receiver_sideline_distance_arrival_yd": np.minimum(rxy[:, 1], field_width_yd() - rxy[:, 1]),
        "receiver_speed_arrival_yps": np.asarray(receiver_speed, float),
        "defender_closing_speed_arrival_yps": closing,
        "second_separation_arrival_yd": np.where(np.isfinite(second), second, np.nan),
        "defender_speed_arrival_yps": np.where(idx >= 0, nearest_speed, np.nan),
        "defenders_within_radius_arrival": (np.nan_to_num(d, nan=np.inf) <= radius_yd).sum(axis=1).astype(float),
        "pass_depth_yd": rxy[:, 0] - np.asarray(line_of_scrimmage_x, float),
        "nearest_defender_index": idx,
    }
