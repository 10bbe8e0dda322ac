"""Physics baselines: extrapolate the observed frames (positions at 10 Hz) with constant velocity, constant
acceleration (two forms) or damped motion, all from the last observed positions by finite differences.

All extrapolations take ``obs`` of shape (..., history, 2) and return (..., horizon, 2) positions. The damped
forms have one or two constants that :func:`fit_damping` fits on training windows (never on the test);
:func:`physics_predictions` gives every baseline at once and :func:`best_baseline` names the best one.
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


def constant_acceleration_half(obs: np.ndarray, horizon: int) -> np.ndarray:
    """p[T+k] = p[T] + k * v + k^2/2 * a (the continuous-time form with the same v and a: it treats the
    last difference v as the velocity at T, so it accelerates less than :func:`constant_acceleration`)."""
    obs = np.asarray(obs, dtype=float)
    k = np.arange(1, horizon + 1, dtype=float)[:, None]
    return constant_velocity(obs, horizon) + (k * k / 2.0) * last_acceleration(obs)[..., None, :]


def damped_coefficients(horizon: int, r, g) -> tuple[np.ndarray, np.ndarray]:
    """(A, B), each (..., horizon), such that the damped path is p[T+k] = p[T] + A[k] v + B[k] a.

    Per frame j = 1..k the velocity is v_j = r v_{j-1} + g^(j-1) a with v_0 = v: the velocity decays by r
    per frame and the acceleration by g. r = g = 1 is :func:`constant_acceleration`; g = 0 lets the
    acceleration act for one frame only; r = 1 is a damped acceleration. ``r`` and ``g`` may be arrays (broadcast).
    """
    r, g = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(g, dtype=float))
    A = np.zeros(r.shape + (horizon,))
    B = np.zeros(r.shape + (horizon,))
    va, vb = np.ones(r.shape), np.zeros(r.shape)      # v_j = va v + vb a
    pa, pb = np.zeros(r.shape), np.zeros(r.shape)     # p_j - p_T = pa v + pb a
    gj = np.ones(r.shape)                             # g^(j-1)
    for j in range(horizon):
        va, vb = r * va, r * vb + gj
        gj = gj * g
        pa, pb = pa + va, pb + vb
        A[..., j], B[..., j] = pa, pb
    return A, B


def damped(obs: np.ndarray, horizon: int, r: float = 1.0, g: float = 1.0) -> np.ndarray:
    """Damped extrapolation (:func:`damped_coefficients`)."""
    obs = np.asarray(obs, dtype=float)
    A, B = damped_coefficients(horizon, r, g)
    return (obs[..., -1:, :] + A[:, None] * last_velocity(obs)[..., None, :]
            + B[:, None] * last_acceleration(obs)[..., None, :])


# name -> which damping constants are fitted (the others stay 1)
DAMPED = {"damped_acceleration": ("g",), "damped_velocity_acceleration": ("r", "g")}
R_GRID = np.round(np.arange(0.80, 1.0501, 0.0025), 4)
G_GRID = np.round(np.arange(0.0, 1.0001, 0.0025), 4)


def fit_damping(obs: np.ndarray, fut: np.ndarray, horizon: int | None = None) -> dict:
    """Fit the damping constants of every :data:`DAMPED` baseline by least squares on training windows.

    ``obs`` (n, history, 2), ``fut`` (n, H, 2) with NaN where a track has no truth (then those frames are
    left out: windows of different lengths can be fitted together). The squared error of p[T] + A v + B a
    is a quadratic in (A[k], B[k]) per frame, so five sums per frame give it exactly for every (r, g) of a
    grid (r in 0.80..1.05, g in 0..1, step 0.0025). Returns {name: {"r": .., "g": .., "mse": .., "n": ..}}.
    """
    obs = np.asarray(obs, dtype=float)
    fut = np.asarray(fut, dtype=float)
    H = fut.shape[1] if horizon is None else min(horizon, fut.shape[1])
    fut = fut[:, :H]
    v, a = last_velocity(obs), last_acceleration(obs)
    d = fut - obs[:, -1:, :]                              # (n, H, 2)
    ok = np.isfinite(d).all(axis=-1) & np.isfinite(v).all(-1)[:, None] & np.isfinite(a).all(-1)[:, None]
    d = np.where(ok[..., None], d, 0.0)
    m = ok.astype(float)
    vv = np.einsum("nk,n->k", m, (v * v).sum(-1))
    aa = np.einsum("nk,n->k", m, (a * a).sum(-1))
    va = np.einsum("nk,n->k", m, (v * a).sum(-1))
    vd = np.einsum("nkc,nc->k", d, v)
    ad = np.einsum("nkc,nc->k", d, a)
    dd = (d * d).sum(axis=(0, 2))
    count = 2.0 * m.sum()
    out = {}
    for name, free in DAMPED.items():
        rs = R_GRID if "r" in free else np.array([1.0])
        gs = G_GRID if "g" in free else np.array([1.0])
        A, B = damped_coefficients(H, rs[:, None], gs[None, :])          # (nr, ng, H)
        sse = (A * A * vv + B * B * aa + 2 * A * B * va - 2 * A * vd - 2 * B * ad + dd).sum(-1)
        i, j = np.unravel_index(np.argmin(sse), sse.shape)             # first minimum: deterministic
        out[name] = {"r": float(rs[i]), "g": float(gs[j]), "mse": float(sse[i, j]) / max(count, 1.0),
                     "n": int(ok.any(axis=1).sum())}
    return out


def physics_predictions(obs: np.ndarray, horizon: int, damping: dict | None = None) -> dict[str, np.ndarray]:
    """Every physics baseline's prediction: the three fixed ones, and the damped ones whose constants are
    in ``damping`` (:func:`fit_damping`'s result, fitted on training windows)."""
    out = {"constant_velocity": constant_velocity(obs, horizon),
           "constant_acceleration": constant_acceleration(obs, horizon),
           "constant_acceleration_half": constant_acceleration_half(obs, horizon)}
    for name in DAMPED:
        if damping and name in damping:
            out[name] = damped(obs, horizon, damping[name]["r"], damping[name]["g"])
    return out


def best_baseline(scores: dict[str, dict]) -> str | None:
    """The baseline with the lowest RMSE among ``scores`` ({name: {"rmse": ..}}; NaN never wins); None when
    none was measured (no track)."""
    ok = {k: v["rmse"] for k, v in scores.items() if np.isfinite(v["rmse"])}
    return min(ok, key=ok.get) if ok else None


BASELINES = {"constant_velocity": constant_velocity, "constant_acceleration": constant_acceleration,
             "constant_acceleration_half": constant_acceleration_half}


def errors(pred: np.ndarray, truth: np.ndarray) -> dict:
    """RMSE = sqrt((MSE_x + MSE_y) / 2) (the BDB 2026 metric), ADE / FDE (Euclidean), per-step RMSE / ADE.

    ``pred`` and ``truth``: (n, horizon, 2) in yards. Frames where ``truth`` is NaN (a track that ends
    before the horizon: the to-arrival evaluation) are left out of every figure; FDE is then each track's
    last frame with truth, and the per-step figures count the tracks that reach that step
    (``n_by_step``). With complete truth this is the plain mean over all tracks and frames.
    """
    pred = np.asarray(pred, float)
    truth = np.asarray(truth, float)
    nan = float("nan")
    if truth.shape[0] == 0:
        return {"rmse": nan, "ade": nan, "fde": nan, "rmse_by_step": [], "ade_by_step": [], "n_by_step": []}
    known = np.isfinite(truth).all(axis=-1)                       # (n, H)
    err = np.where(known[..., None], pred - np.where(known[..., None], truth, 0.0), 0.0)
    dist = np.linalg.norm(err, axis=-1)
    n_step = known.sum(axis=0)
    has = known.any(axis=1)
    last = np.where(has, known.shape[1] - 1 - np.argmax(known[:, ::-1], axis=1), 0)
    total = known.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse_step = np.sqrt((err**2).sum(axis=(0, 2)) / (2 * n_step))
        ade_step = dist.sum(axis=0) / n_step
    return {
        "rmse": float(np.sqrt((err**2).sum() / (2 * total))) if total else nan,
        "ade": float(dist.sum() / total) if total else nan,
        "fde": float(dist[np.arange(len(dist)), last][has].mean()) if has.any() else nan,
        "rmse_by_step": [float(v) for v in rmse_step],
        "ade_by_step": [float(v) for v in ade_step],
        "n_by_step": [int(v) for v in n_step],
    }
