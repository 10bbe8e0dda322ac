"""Adapter over ngs.ghosting: ghost the defenders of one play towards a *chosen* receiver, for as many
frames as the ball flies (the network's horizon is rolled forward when the flight is longer).

The ghosting network reads, per defender, his last ``history`` positions, the other tracks of the play over
the same frames (the other ghosted defenders and the targeted receiver, flagged ``is_target``) and the ball's
landing spot. Here the targeted receiver is the hypothetical one and the landing spot is where the ball
meets him, so the same network answers "where would the coverage have gone had the ball gone to him".

Roll-forward: the first window observes the frames up to the throw (throw - history + 1 .. throw) and is
given the network's first-window time stamp (frames_since_throw 0); each next window observes the last
``history`` ghosted positions of every defender (and the receiver's route over the same frames) and is
``horizon`` frames later. No step may exceed the 12.5 yd/s cap (quality_rules.csv): a longer predicted
step is shortened to the cap and counted in ``RolloutResult.capped_steps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ngs.constants import frame_rate_hz, max_player_speed_yps
from ngs.ghosting.baselines import constant_acceleration
from ngs.ghosting.data import META_COLUMNS, Windows


@dataclass
class RolloutResult:
    paths: np.ndarray       # (n_options, M, history + T, 2): observed frames then ghosted frames
    capped_steps: np.ndarray  # (n_options,) ghosted defender-frames within the flight shortened to the cap
    steps: np.ndarray         # (n_options,) ghosted defender-frames within the flight


def _predict(model, w: Windows, horizon: int) -> np.ndarray:
    """The ghosting model's prediction, or constant acceleration when ``model`` is None."""
    if model is None:
        return constant_acceleration(w.obs, horizon)
    return model.predict(w)


def _cap_steps(path: np.ndarray, start: np.ndarray, max_step: float) -> tuple[np.ndarray, np.ndarray]:
    """Shorten every step of ``path`` (n, H, 2) that follows ``start`` (n, 2) to at most ``max_step``;
    returns the path and which steps were shortened, (n, H) booleans."""
    out = path.copy()
    prev = start.copy()
    capped = np.zeros(out.shape[:2], dtype=bool)
    for j in range(out.shape[1]):
        step = out[:, j] - prev
        length = np.linalg.norm(step, axis=-1)
        over = length > max_step
        capped[:, j] = over
        scale = np.where(over, max_step / np.where(length > 0, length, 1.0), 1.0)
        out[:, j] = prev + step * scale[:, None]
        prev = out[:, j]
    return out, capped


def rollout(model, obs: np.ndarray, receiver: np.ndarray, meta: np.ndarray, n_frames: np.ndarray,
            history: int, horizon: int) -> RolloutResult:
    """Ghost every defender of every option.

    * ``obs``: (n, M, history, 2) defenders' observed positions up to the throw, NaN rows = no defender;
    * ``receiver``: (n, history + T, 2) the hypothetical target's path from throw - history + 1 onwards;
    * ``meta``: (n, len(META_COLUMNS)) landing x, y, down, yards to go, line of scrimmage;
    * ``n_frames``: (n,) frames after the throw each option needs (its flight).
    """
    n, M = obs.shape[:2]
    T = receiver.shape[1] - history
    paths = np.full((n, M, history + T, 2), np.nan)
    paths[:, :, :history] = obs
    present = ~np.isnan(obs[:, :, -1, 0])
    max_step = max_player_speed_yps() / frame_rate_hz()
    capped = np.zeros(n, dtype=int)
    steps = np.zeros(n, dtype=int)
    chunks = int(np.ceil(min(T, int(np.max(n_frames, initial=0))) / horizon)) if n else 0
    others_of = np.array([[j for j in range(M) if j != m] for m in range(M)], dtype=int).reshape(M, max(M - 1, 0))
    for c in range(chunks):
        s = c * horizon
        todo = present & (np.asarray(n_frames)[:, None] > s)
        if not todo.any():
            break
        oi, mi = np.nonzero(todo)
        ob = paths[oi, mi, s:s + history]
        defs = paths[oi[:, None], others_of[mi], s:s + history] if M > 1 else np.zeros((len(oi), 0, history, 2))
        rec = receiver[oi, s:s + history][:, None]
        others = np.concatenate([defs, rec], axis=1)
        others_is_target = np.concatenate([np.where(np.isnan(defs[:, :, -1, 0]), np.nan, 0.0),
                                           np.ones((len(oi), 1))], axis=1)
        key = pd.DataFrame({"game_id": 0, "play_id": oi, "nfl_id": mi, "start_frame": 1 + s,
                            "week": pd.NA, "source": "counterfactual", "teleport": False,
                            # frame `history` is the throw: the ball arrives n_frames later
                            "play_last_frame": history + np.asarray(n_frames)[oi]})
        w = Windows(key, ob, np.full((len(oi), horizon, 2), np.nan), others, others_is_target,
                    np.zeros(len(oi)), meta[oi], history, horizon)
        pred = _predict(model, w, horizon)
        width = min(horizon, T - s)
        pred, over = _cap_steps(pred[:, :width], ob[:, -1], max_step)
        in_flight = (s + np.arange(1, width + 1))[None, :] <= np.asarray(n_frames)[oi][:, None]
        np.add.at(capped, oi, (over & in_flight).sum(axis=1))
        np.add.at(steps, oi, in_flight.sum(axis=1))
        paths[oi, mi, s + history:s + history + width] = pred
    return RolloutResult(paths, capped, steps)


__all__ = ["META_COLUMNS", "RolloutResult", "rollout"]
