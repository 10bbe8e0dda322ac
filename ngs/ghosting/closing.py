"""The closing score of a defender trajectory towards the targeted receiver, and the seed paper's
experiment (real vs model-predicted vs 25%-randomised defenders).

For a defender path D_0..D_T and the receiver's path R_0..R_T (10 Hz), with d_t = |D_t - R_t|,
dt = 1 / frame_rate, v_max = ngs.constants.max_player_speed_yps() (12.5 yd/s) and step length
s_t = |D_t - D_{t-1}|:

* weights w_t = t / T (t = 1..T): **later frames weigh more** -- what matters is where the defender is
  when the ball arrives, not how he started; the weight grows linearly to 1 at the last frame;
* closing = sum_t w_t (d_t - d_{t-1}) / sum_t w_t v_max dt: the weighted change of the distance to the
  receiver relative to the most a player could cover at top NFL speed in the same frames (negative =
  closing; -1 = running straight at a standing receiver at 12.5 yd/s all the way);
* effort = sum_t s_t / (T v_max dt): distance covered relative to the most he could cover at top speed
  (reported, not added: fast is not good by itself);
* superhuman = 2 * sum_t w_t max(0, s_t - v_max dt) / sum_t w_t v_max dt: every yard beyond the cap
  counts twice against the defender (a teleport cannot buy a good score);
* score = closing + superhuman.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ngs.constants import frame_rate_hz, max_player_speed_yps
from ngs.ghosting import data
from ngs.ghosting.baselines import constant_acceleration

SUPERHUMAN_WEIGHT = 2.0
CONDITIONS = ("real", "predicted", "randomised_25pct")
HORIZON = 10  # frames scored after the observed ones (the seed paper's experiment), whatever the model predicts


def closing_components(defender: np.ndarray, receiver: np.ndarray) -> pd.DataFrame:
    """Score components for paths of shape (n, T+1, 2) (or one path (T+1, 2)); one row per path."""
    D = np.asarray(defender, float)
    R = np.asarray(receiver, float)
    if D.ndim == 2:
        D, R = D[None], R[None]
    vmax, dt = max_player_speed_yps(), 1.0 / frame_rate_hz()
    T = D.shape[1] - 1
    if T < 1:
        raise ValueError("a closing score needs at least two frames")
    d = np.linalg.norm(D - R, axis=-1)
    dd = np.diff(d, axis=1)
    steps = np.linalg.norm(np.diff(D, axis=1), axis=-1)
    w = np.arange(1, T + 1, dtype=float) / T
    norm = w.sum() * vmax * dt
    closing = (dd * w).sum(axis=1) / norm
    excess = np.clip(steps - vmax * dt, 0, None)
    superhuman = SUPERHUMAN_WEIGHT * (excess * w).sum(axis=1) / norm
    return pd.DataFrame({
        "score": closing + superhuman,
        "closing": closing,
        "effort": steps.sum(axis=1) / (T * vmax * dt),
        "superhuman_penalty": superhuman,
        "start_dist_yd": d[:, 0],
        "end_dist_yd": d[:, -1],
        "max_speed_yps": steps.max(axis=1) / dt,
        "n_frames": T + 1,
    })


def closing_score(defender: np.ndarray, receiver: np.ndarray) -> float:
    return float(closing_components(defender, receiver)["score"].iloc[0])


# how the randomised condition draws (part of the incremental fingerprint of fct_closing_scores: a change of
# the draw rescores every pass)
DRAW = "keyed-splitmix64-v1"

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK


def keyed_uniforms(seed: int, keys: list[np.ndarray], n: int) -> np.ndarray:
    """(len(keys[0]), n) uniforms in [0, 1), each a function of (seed, the row's keys, column) only: a
    defender draws the same numbers whether his pass is scored alone or with the whole season."""
    with np.errstate(over="ignore"):
        h = _splitmix64(np.full(len(keys[0]), np.uint64(seed & 0xFFFFFFFFFFFFFFFF)))
        for k in keys:
            h = _splitmix64(h ^ np.asarray(k).astype(np.int64).view(np.uint64))
        cols = [_splitmix64(h ^ np.uint64(j + 1)) for j in range(n)]
    return np.stack([(c >> np.uint64(11)).astype(np.float64) * 2.0 ** -53 for c in cols], axis=1) if cols else \
        np.zeros((len(keys[0]), 0))


def randomise_observed(obs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Replace observed frames with uniform motion in a random direction at a random speed
    (uniform 0..v_max) that ends at the same last observed position; ``uniforms``: (n, 2) in [0, 1), the
    direction and the speed of each path."""
    n, h, _ = obs.shape
    theta = 2 * np.pi * uniforms[:, 0]
    speed = uniforms[:, 1] * max_player_speed_yps() / frame_rate_hz()
    v = np.stack([np.cos(theta), np.sin(theta)], 1) * speed[:, None]
    back = np.arange(h - 1, -1, -1, dtype=float)[None, :, None]
    return obs[:, -1:, :] - back * v[:, None, :]


def closing_experiment(tracks: pd.DataFrame, model, seed: int = 0, frac: float = 0.25,
                       history: int | None = None, horizon: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every defender of every play with a known target over ``horizon`` frames (HORIZON) after his first
    ``history`` frames, against the receiver's real path over the same frames:

    * real: the defender's real path; * predicted: the model's ghost of it (from his real observed frames);
    * randomised_25pct: the model's ghost where a random 25% of defenders start with random
      orientation and velocity (:func:`randomise_observed`); the other 75% as in *predicted*. Each
      defender's draws depend only on (seed, game_id, play_id, nfl_id) (:func:`keyed_uniforms`), so a pass
      scores the same alone or with any other passes (incremental scoring, ngs.incremental).

    ``tracks`` needs ``is_target`` (1 receiver / 0 defender). ``model=None`` uses constant acceleration.
    Returns (summary: condition, mean_score, n, mean_closing, mean_superhuman_penalty; per-defender rows).
    """
    h = history or (model.config.history if model is not None else 3)
    H = horizon or HORIZON
    # plays with exactly one targeted nfl_id (a row mask: the tracks are not re-indexed or copied whole)
    n_targets = tracks["nfl_id"].where(tracks["is_target"] == 1.0).groupby(
        [tracks["game_id"], tracks["play_id"]]).transform("nunique")
    keep = (n_targets == 1).to_numpy()
    sub = tracks if keep.all() else tracks[keep]
    w, _ = data.build_windows(sub, h, H, starts="first")
    if len(w) == 0:
        empty = pd.DataFrame(columns=["condition", "mean_score", "n", "mean_closing", "mean_superhuman_penalty"])
        return empty, pd.DataFrame()
    rec = sub[sub["is_target"] == 1.0].set_index(["game_id", "play_id", "frame_id"])[["x", "y"]]
    is_def = (w.is_target == 0.0)
    dw = w.subset(is_def)
    frames = dw.key["start_frame"].to_numpy()[:, None] + np.arange(h - 1, h + H)[None, :]
    idx = pd.MultiIndex.from_arrays([np.repeat(dw.key["game_id"].to_numpy(), H + 1),
                                     np.repeat(dw.key["play_id"].to_numpy(), H + 1), frames.ravel()])
    R = rec.reindex(idx).to_numpy().reshape(len(dw), H + 1, 2)
    ok = ~np.isnan(R).any(axis=(1, 2))
    dw = dw.subset(ok)
    R = R[ok]

    def predict(win: data.Windows) -> np.ndarray:
        return model.predict(win) if model is not None else constant_acceleration(win.obs, H)

    u = keyed_uniforms(seed, [dw.key["game_id"].to_numpy(), dw.key["play_id"].to_numpy(),
                              dw.key["nfl_id"].to_numpy()], 3)
    chosen = u[:, 0] < frac
    rand_obs = np.where(chosen[:, None, None], randomise_observed(dw.obs, u[:, 1:]), dw.obs)
    pred = predict(dw)
    # a defender not drawn (75%) has the same window in both model conditions: only the drawn ones are
    # predicted again (a window's prediction does not depend on the other windows predicted with it)
    rand_w = dw.subset(chosen)
    rand_w.obs = rand_obs[chosen]
    rand_pred = pred.copy()
    if chosen.any():
        rand_pred[chosen] = predict(rand_w)
    paths = {
        "real": np.concatenate([dw.obs[:, -1:], dw.fut], axis=1),
        "predicted": np.concatenate([dw.obs[:, -1:], pred], axis=1),
        "randomised_25pct": np.concatenate([rand_obs[:, -1:], rand_pred], axis=1),
    }
    rows = []
    for cond, P in paths.items():
        comp = closing_components(P, R)
        comp.insert(0, "condition", cond)
        comp.insert(0, "nfl_id", dw.key["nfl_id"].to_numpy())
        comp.insert(0, "play_id", dw.key["play_id"].to_numpy())
        comp.insert(0, "game_id", dw.key["game_id"].to_numpy())
        comp["randomised"] = chosen if cond == "randomised_25pct" else False
        comp["start_frame"] = dw.key["start_frame"].to_numpy() + h - 1
        rows.append(comp)
    per = pd.concat(rows, ignore_index=True)
    summary = (per.groupby("condition", sort=False)
               .agg(mean_score=("score", "mean"), n=("score", "size"), mean_closing=("closing", "mean"),
                    mean_superhuman_penalty=("superhuman_penalty", "mean"))
               .reindex(list(CONDITIONS)).reset_index())
    return summary, per
