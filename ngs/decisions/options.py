"""Every eligible receiver of every pass as a hypothetical target: route, flight, ghosted coverage, features.

Inputs (pure frames, built by `ngs.decisions.warehouse` from the marts, or by hand in tests):

* ``passes``: one row per pass: game_id, play_id, dataset, snap_frame_id, throw_frame_id, arrival_frame_id,
  passer_nfl_id, target_nfl_id, line_of_scrimmage_x_std, ball_throw_x_std, ball_throw_y_std,
  ball_snap_x_std, ball_snap_y_std, down, yards_to_go (NULL where unknown);
* ``tracks``: player rows (no ball) of those plays at frames throw - history + 1 .. throw + max_flight_frames
  and at the snap frame: game_id, play_id, nfl_id, frame_id, is_offense, position_group, x_std, y_std,
  speed_yps, vx, vy.

Assumptions (also in docs/decisions.md):

* eligible receivers: offensive players on the field at the throw other than the passer whose
  position_group is WR, TE or RB; an offensive player with no position group is eligible unless he stood
  within ``lineman_radius_yd`` of the ball at the snap; the actual target is always an option;
* the ball lands on the receiver: his real route where the play's tracking has it (he ran it), else
  constant velocity from his last two tracked frames; the arrival is the earliest catchable frame
  (ngs.decisions.flight);
* defensive backs (position_group DB) are ghosted towards him with the ghosting model; other defenders
  (linemen, linebackers: mostly rushing or dropping into zones) keep their real tracked positions and
  velocities (held at their last tracked frame after it). A play whose defenders have no position group
  has all of them ghosted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ngs.constants import frame_rate_hz
from ngs.decisions import flight as fl
from ngs.decisions.features import arrival_features, nearest
from ngs.decisions.ghost import META_COLUMNS, rollout
from ngs.ghosting.baselines import constant_velocity

RECEIVER_GROUPS = ("WR", "TE", "RB")
GHOSTED_GROUPS = ("DB",)
FEATURE_ORDER = (
    "air_distance_yd", "receiver_separation_throw_yd", "receiver_separation_arrival_yd",
    "passer_rusher_distance_throw_yd", "passer_speed_throw_yps", "time_to_throw_s",
    "receiver_sideline_distance_arrival_yd", "receiver_speed_arrival_yps",
    "defender_closing_speed_arrival_yps", "defenders_within_radius_arrival", "pass_depth_yd",
)
OPTION_COLUMNS = [
    "game_id", "play_id", "dataset", "passer_nfl_id", "receiver_nfl_id", "receiver_position_group",
    "is_actual_target", "throw_frame_id", "arrival_frame_id", "flight_frames", "flight_time_s", "route_method",
    "landing_x_std", "landing_y_std", *FEATURE_ORDER, "nearest_defender_nfl_id", "n_ghosted_defenders",
    "n_other_defenders", "ghost_steps", "ghost_steps_capped",
]


@dataclass(frozen=True)
class OptionConfig:
    history: int = 3
    horizon: int = 10
    max_flight_frames: int = 50
    radius_yd: float = 3.0
    lineman_radius_yd: float = 2.0


@dataclass
class _Play:
    row: pd.Series
    ids: np.ndarray
    pos: np.ndarray          # (P, F, 2), frame index 0 = throw - history + 1
    vel: np.ndarray          # (P, F, 2)
    speed: np.ndarray        # (P, F)
    is_offense: np.ndarray   # (P,) 1 / 0 / NaN
    group: np.ndarray        # (P,) object, None when unknown
    snap_xy: np.ndarray      # (P, 2)


def _first_valid(s: pd.Series):
    s = s.dropna()
    return s.iloc[0] if len(s) else None


def _play_arrays(row: pd.Series, grp: pd.DataFrame, cfg: OptionConfig) -> _Play:
    h, F = cfg.history, cfg.history + cfg.max_flight_frames
    base = int(row["throw_frame_id"]) - h + 1
    ids = np.sort(grp["nfl_id"].unique())
    index = {int(n): i for i, n in enumerate(ids)}
    P = len(ids)
    pos = np.full((P, F, 2), np.nan)
    vel = np.full((P, F, 2), np.nan)
    speed = np.full((P, F), np.nan)
    win = grp[(grp["frame_id"] >= base) & (grp["frame_id"] < base + F)]
    r = win["nfl_id"].map(index).to_numpy()
    c = win["frame_id"].to_numpy() - base
    pos[r, c] = win[["x_std", "y_std"]].to_numpy(float)
    vel[r, c] = win[["vx", "vy"]].to_numpy(float)
    speed[r, c] = win["speed_yps"].to_numpy(float)
    attrs = grp.groupby("nfl_id").agg(is_offense=("is_offense", _first_valid),
                                      group=("position_group", _first_valid)).reindex(ids)
    is_off = np.array([np.nan if v is None or pd.isna(v) else float(bool(v)) for v in attrs["is_offense"]])
    snap_xy = np.full((P, 2), np.nan)
    if pd.notna(row.get("snap_frame_id")):
        snap = grp[grp["frame_id"] == int(row["snap_frame_id"])]
        snap_xy[snap["nfl_id"].map(index).to_numpy()] = snap[["x_std", "y_std"]].to_numpy(float)
    groups = np.array([None if v is None or pd.isna(v) else str(v) for v in attrs["group"]], dtype=object)
    return _Play(row, ids, pos, vel, speed, is_off, groups, snap_xy)


def eligible_receivers(play: _Play, cfg: OptionConfig) -> np.ndarray:
    """Indices of the play's eligible receivers (see the module docstring)."""
    h = cfg.history
    row = play.row
    on_field = ~np.isnan(play.pos[:, h - 1, 0])
    offense = (play.is_offense == 1.0) & on_field & (play.ids != row["passer_nfl_id"])
    by_group = np.isin(play.group.astype(str), RECEIVER_GROUPS)
    ball_snap = np.array([row.get("ball_snap_x_std", np.nan), row.get("ball_snap_y_std", np.nan)], float)
    d_snap = np.linalg.norm(play.snap_xy - ball_snap, axis=1)
    unknown_ok = np.array([g is None for g in play.group]) & ~(d_snap <= cfg.lineman_radius_yd)
    target = (play.ids == row["target_nfl_id"]) & on_field if pd.notna(row["target_nfl_id"]) else False
    return np.flatnonzero((offense & (by_group | unknown_ok)) | target)


def receiver_route(play: _Play, i: int, cfg: OptionConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Receiver ``i``'s positions, velocities and speeds over the window, real while tracked without a gap
    from the throw, constant velocity after; and the last window index that is real."""
    h, F = cfg.history, cfg.history + cfg.max_flight_frames
    pos, vel, spd = play.pos[i].copy(), play.vel[i].copy(), play.speed[i].copy()
    # before the throw: backfill missing early frames with the first known one (no motion)
    first = int(np.flatnonzero(~np.isnan(pos[:h, 0]))[0])
    pos[:first], vel[:first], spd[:first] = pos[first], vel[first], spd[first]
    gap = np.flatnonzero(np.isnan(pos[h - 1:, 0]))
    last = h - 1 + (int(gap[0]) - 1 if len(gap) else F - h)
    if last < F - 1:
        fps = frame_rate_hz()
        v = vel[last] / fps if np.isfinite(vel[last]).all() else (
            pos[last] - pos[last - 1] if last >= 1 else np.zeros(2))
        obs = np.stack([pos[last] - v, pos[last]])
        pos[last + 1:] = constant_velocity(obs, F - 1 - last)
        vel[last + 1:] = v * fps
        spd[last + 1:] = np.linalg.norm(v) * fps
    vel = np.where(np.isnan(vel), 0.0, vel)
    spd = np.where(np.isnan(spd), np.linalg.norm(vel, axis=-1), spd)
    return pos, vel, spd, last


def _held(arr: np.ndarray) -> np.ndarray:
    """Forward-fill along axis 1 (frames), then backfill the leading NaNs."""
    out = pd.DataFrame(arr.reshape(arr.shape[0], arr.shape[1], -1).transpose(1, 0, 2).reshape(arr.shape[1], -1))
    out = out.ffill().bfill().to_numpy()
    return out.reshape(arr.shape[1], arr.shape[0], -1).transpose(1, 0, 2).reshape(arr.shape)


def build_options(passes: pd.DataFrame, tracks: pd.DataFrame, ghost_model, flight_models: dict[str, fl.FlightModel],
                  cfg: OptionConfig = OptionConfig(), arrival_override: dict | None = None,
                  only_actual: bool = False, ghost_defenders: bool = True) -> pd.DataFrame:
    """One row per (pass, option) with the columns OPTION_COLUMNS (ghost_steps: ghosted defender-frames;
    ghost_steps_capped: those shortened to the speed cap).

    ``arrival_override``: {(game_id, play_id, receiver_nfl_id): frames after the throw} replaces the flight
    model for those options (the consistency check uses the real arrival for the real target).
    ``only_actual``: build the actual target's option only.
    ``ghost_defenders=False``: every defender keeps his tracked positions (a diagnostic: what is left of
    the consistency gap without ghosting).
    """
    fps = frame_rate_hz()
    h, K = cfg.history, cfg.max_flight_frames
    recs: list[dict] = []
    obs_l, rec_l, meta_l, k_l, other_xy_l, other_v_l, other_id_l, ghost_id_l = [], [], [], [], [], [], [], []
    tracks = tracks[tracks["nfl_id"].notna()]
    passes = passes.copy()
    numeric = ["passer_nfl_id", "target_nfl_id", "snap_frame_id", "throw_frame_id", "line_of_scrimmage_x_std",
               "ball_throw_x_std", "ball_throw_y_std", "ball_snap_x_std", "ball_snap_y_std", "down", "yards_to_go"]
    for c in numeric:  # nullable integers (pd.NA) -> float NaN, so comparisons are plain False
        passes[c] = pd.to_numeric(passes[c], errors="coerce").astype(float) if c in passes else np.nan
    by_play = {key: g for key, g in tracks.groupby(["game_id", "play_id"], sort=False)}
    for _, row in passes.sort_values(["game_id", "play_id"]).iterrows():
        grp = by_play.get((row["game_id"], row["play_id"]))
        if grp is None or pd.isna(row["throw_frame_id"]):
            continue
        play = _play_arrays(row, grp, cfg)
        on_field = ~np.isnan(play.pos[:, h - 1, 0])
        defense = (play.is_offense == 0.0) & on_field
        if not defense.any():
            continue
        groups_known = any(g is not None for g in play.group[defense])
        ghosted = defense & (np.isin(play.group.astype(str), GHOSTED_GROUPS) if groups_known else True)
        if not ghost_defenders:
            ghosted = np.zeros_like(defense)
        others = defense & ~ghosted
        g_idx, o_idx = np.flatnonzero(ghosted), np.flatnonzero(others)
        obs = play.pos[g_idx, :h].copy()
        for j in range(len(g_idx)):  # backfill missing frames before the throw
            first = int(np.flatnonzero(~np.isnan(obs[j, :, 0]))[0])
            obs[j, :first] = obs[j, first]
        oth_pos, oth_vel = _held(play.pos[o_idx]), np.nan_to_num(_held(play.vel[o_idx]))
        passer = np.flatnonzero(play.ids == row["passer_nfl_id"])
        passer_xy = play.pos[passer[0], h - 1] if len(passer) else np.full(2, np.nan)
        passer_speed = play.speed[passer[0], h - 1] if len(passer) else np.nan
        ball = np.array([row["ball_throw_x_std"], row["ball_throw_y_std"]], float)
        if not np.isfinite(ball).all():
            ball = passer_xy
        if not np.isfinite(ball).all():
            continue
        def_throw = play.pos[defense, h - 1]
        rusher = nearest(passer_xy[None], def_throw[None])[0][0] if len(passer) else np.nan
        time_to_throw = ((row["throw_frame_id"] - row["snap_frame_id"]) / fps
                         if pd.notna(row.get("snap_frame_id")) else np.nan)
        fm = flight_models.get(str(row["dataset"]), fl.DEFAULT)
        receivers = eligible_receivers(play, cfg)
        if only_actual:
            receivers = receivers[play.ids[receivers] == row["target_nfl_id"]]
        meta_base = [np.nan, np.nan, row.get("down", np.nan), row.get("yards_to_go", np.nan),
                     row["line_of_scrimmage_x_std"]]
        for i in receivers:
            rid = int(play.ids[i])
            route, rvel, rspd, last_real = receiver_route(play, i, cfg)
            key = (row["game_id"], row["play_id"], rid)
            if arrival_override is not None and key in arrival_override:
                k = int(np.clip(arrival_override[key], 1, K))
            else:
                k = int(fl.earliest_catchable_frame(route[None, h:h + K], ball[None], fm, fps)[0])
            a = h - 1 + k
            meta = np.array(meta_base, float)
            meta[META_COLUMNS.index("ball_land_x")], meta[META_COLUMNS.index("ball_land_y")] = route[a]
            sep_throw = nearest(route[h - 1][None], def_throw[None])[0][0]
            recs.append({
                "game_id": row["game_id"], "play_id": row["play_id"], "dataset": row["dataset"],
                "passer_nfl_id": row["passer_nfl_id"], "receiver_nfl_id": rid,
                "receiver_position_group": play.group[i], "is_actual_target": rid == row["target_nfl_id"],
                "throw_frame_id": int(row["throw_frame_id"]), "arrival_frame_id": int(row["throw_frame_id"]) + k,
                "flight_frames": k, "flight_time_s": k / fps,
                "route_method": "actual" if a <= last_real else "extrapolated_constant_velocity",
                "landing_x_std": route[a, 0], "landing_y_std": route[a, 1],
                "receiver_separation_throw_yd": sep_throw, "passer_rusher_distance_throw_yd": rusher,
                "passer_speed_throw_yps": passer_speed, "time_to_throw_s": time_to_throw,
                "n_ghosted_defenders": len(g_idx), "n_other_defenders": len(o_idx),
                "_ball_x": ball[0], "_ball_y": ball[1], "_los": row["line_of_scrimmage_x_std"],
                "_rvx": rvel[a, 0], "_rvy": rvel[a, 1], "_rspeed": rspd[a],
            })
            obs_l.append(obs)
            rec_l.append(route)
            meta_l.append(meta)
            k_l.append(k)
            other_xy_l.append(oth_pos[:, a] if len(o_idx) else np.zeros((0, 2)))
            other_v_l.append(oth_vel[:, a] if len(o_idx) else np.zeros((0, 2)))
            other_id_l.append(play.ids[o_idx])
            ghost_id_l.append(play.ids[g_idx])
    if not recs:
        return pd.DataFrame(columns=OPTION_COLUMNS)
    n = len(recs)
    M = max(1, max(len(o) for o in obs_l))
    N = max(1, max(len(o) for o in other_xy_l))
    obs_a = np.full((n, M, h, 2), np.nan)
    oxy, ov = np.full((n, N, 2), np.nan), np.full((n, N, 2), np.nan)
    ids_all = np.full((n, M + N), -1, dtype=np.int64)
    for j in range(n):
        obs_a[j, :len(obs_l[j])] = obs_l[j]
        oxy[j, :len(other_xy_l[j])] = other_xy_l[j]
        ov[j, :len(other_v_l[j])] = other_v_l[j]
        ids_all[j, :len(ghost_id_l[j])] = ghost_id_l[j]
        ids_all[j, M:M + len(other_id_l[j])] = other_id_l[j]
    k_arr = np.asarray(k_l)
    res = rollout(ghost_model, obs_a, np.stack(rec_l), np.stack(meta_l), k_arr, h, cfg.horizon)
    rows = np.arange(n)
    a = h - 1 + k_arr
    gxy = res.paths[rows, :, a]                              # (n, M, 2)
    gv = (res.paths[rows, :, a] - res.paths[rows, :, a - 1]) * fps
    dxy = np.concatenate([gxy, oxy], axis=1)
    dv = np.concatenate([gv, ov], axis=1)
    out = pd.DataFrame(recs)
    feats = arrival_features(out[["landing_x_std", "landing_y_std"]].to_numpy(), out[["_rvx", "_rvy"]].to_numpy(),
                             out["_rspeed"].to_numpy(), dxy, dv, out[["_ball_x", "_ball_y"]].to_numpy(),
                             out["_los"].to_numpy(), cfg.radius_yd)
    idx = feats.pop("nearest_defender_index")
    for name, values in feats.items():
        out[name] = values
    near = np.where(idx >= 0, ids_all[rows, np.maximum(idx, 0)], -1)
    out["nearest_defender_nfl_id"] = pd.Series(near, dtype="Int64").mask(near < 0)
    out["ghost_steps"] = res.steps
    out["ghost_steps_capped"] = res.capped_steps
    return out[OPTION_COLUMNS].reset_index(drop=True)
