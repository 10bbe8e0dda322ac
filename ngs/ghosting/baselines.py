"""Physics baselines: extrapolate the observed frames (positions at 10 Hz) with constant velocity or
constant acceleration, both estimated from the last observed positions by finite differences.

All functions take ``obs`` of shape (..., history, 2) and return (..., horizon, 2) positions.
"""

from __future__ import annotations

import numpy as np


def last_velocity(obs: np.ndarray) -> np.ndarray:
    """Displacement per frame between the last two observed positions (yd/frame)."""
    if obs.shape[-2] < 2:
        return np.zeros(obs.shape[:-2] + (2,), dtype=float)
    return obs[..., -1, :] - obs[..., -2, :]


def last_acceleration(obs: np.ndarray) -> np.ndarray:
    """Second difference of the last three observed positions (yd/frame^2); zero with < 3 frames."""
    if obs.shape[-2] < 3:
        return np.zeros(obs.shape[:-2] + (2,), dtype=float)
    return obs[..., -1, :] - 2.0 * obs[..., -2, :] + obs[..., -3, :]


def constant_velocity(obs: np.ndarray, horizon: int) -> np.ndarray:
    """p[T+k] = p[T] + k * v, v = p[T] - p[T-1]. Exact on uniform motion."""
    obs = np.asarray(obs, dtype=float)
    k = np.arange(1, horizon + 1, dtype=float)[:, None]
    return obs[..., -1:, :] + k * last_velocity(obs)[..., None, :]


def constant_acceleration(obs: np.ndarray, horizon: int) -> np.ndarray:
    """p[T+k] = p[T] + k * v + k(k+1)/2 * a with v = p[T]-p[T-1], a = p[T]-2p[T-1]+p[T-2].

    Exact on positions sampled from p(t) = p0 + v0 t + a t^2 / 2 (the discrete second difference of a
    quadratic is constant, and sum_{j=1..k} (v + j a) = k v + k(k+1)/2 a).
    """
    obs = np.asarray(obs, dtype=float)
    k = np.arange(1, horizon + 1, dtype=float)[:, None]
    return constant_velocity(obs, horizon) + (k * (k + 1) / 2.0) * last_acceleration(obs)[..., None, :]


BASELINES = {"constant_velocity": constant_velocity, "constant_acceleration": constant_acceleration}


def errors(pred: np.ndarray, truth: np.ndarray) -> dict:
    """RMSE = sqrt((MSE_x + MSE_y) / 2) (the BDB 2026 metric), ADE / FDE (Euclidean), per-step RMSE / ADE.

    ``pred`` and ``truth``: (n, horizon, 2) in yards.
    """
    err = np.asarray(pred, float) - np.asarray(truth, float)
    if err.shape[0] == 0:
        nan = float("nan")
        return {"rmse": nan, "ade": nan, "fde": nan, "rmse_by_step": [], "ade_by_step": []}
    dist = np.linalg.norm(err, axis=-1)
    return {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "ade": float(dist.mean()),
        "fde": float(dist[:, -1].mean()),
        "rmse_by_step": [float(v) for v in np.sqrt(np.mean(err**2, axis=(0, 2)))],
        "ade_by_step": [float(v) for v in dist.mean(axis=0)],
    }
