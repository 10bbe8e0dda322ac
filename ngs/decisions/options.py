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

A player's side and position group are the values at his earliest frame where they are known (they are
constant over a play in fct_tracking).

Vectorised: the passes are handled in chunks (CHUNK_PASSES passes; chunks bound the memory, a season is
~32,000 passes, and an option does not depend on its chunk). A chunk is a ``ChunkTracks``: one row per
(pass, player) and his rows at the frames of the window, which `ngs.decisions.warehouse` reads from DuckDB
(only the players and frames an option can use) and `chunk_tracks` cuts from a tracks frame. Every pass of
a chunk is laid out as arrays (pass, player slot, frame), and every option of the chunk is built, ghosted
(one batched rollout) and measured at once: no Python loop per pass, player or frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ngs.constants import dbt_vars, frame_rate_hz
from ngs.decisions import flight as fl
from ngs.decisions.features import arrival_features, nearest
from ngs.decisions.ghost import META_COLUMNS, rollout

CHUNK_PASSES = 1024
RECEIVER_GROUPS = ("WR", "TE", "RB")
GHOSTED_GROUPS = ("DB",)
FEATURE_ORDER = (
    "air_distance_yd", "receiver_separation_throw_yd", "receiver_separation_arrival_yd",
    "passer_rusher_distance_throw_yd", "passer_speed_throw_yps", "time_to_throw_s",
    "receiver_sideline_distance_arrival_yd", "receiver_speed_arrival_yps",
    "defender_closing_speed_arrival_yps", "defenders_within_radius_arrival", "pass_depth_yd",
    "second_separation_arrival_yd", "defender_speed_arrival_yps", "time_in_air_s", "pass_length_yd",
)
OPTION_COLUMNS = [
    "game_id", "play_id", "dataset", "passer_nfl_id", "receiver_nfl_id", "receiver_position_group",
    "is_actual_target", "throw_frame_id", "arrival_frame_id", "flight_frames", "flight_time_s", "route_method",
    "landing_x_std", "landing_y_std", *FEATURE_ORDER, "nearest_defender_nfl_id", "n_ghosted_defenders",
    "n_other_defenders", "ghost_steps", "ghost_steps_capped",
]


def _var(name: str, kind: type):
    """A default read from the dbt var ``name`` (dbt_project.yml), where it is defined once."""
    return field(default_factory=lambda: kind(dbt_vars()[name]))


@dataclass(frozen=True)
class OptionConfig:
    """The dbt models pass every value (ngs.decisions.warehouse.option_config); the defaults are the dbt vars."""
    history: int = 3
    horizon: int = 10
    max_flight_frames: int = _var("decisions_max_flight_frames", int)
    radius_yd: float = _var("completion_defender_radius_yd", float)
    lineman_radius_yd: float = _var("decisions_lineman_radius_yd", float)


@dataclass
class ChunkTracks:
    """The tracking of a chunk of passes (rows of a prepared passes frame, see ``prepare_passes``).

    ``players``: one entry per (pass, player) sorted by (pass, nfl_id): ``pass`` (row of the chunk),
    ``nfl_id``, ``is_offense`` (1 / 0 / NaN), ``position_group`` (str / None), ``snap_x_std``, ``snap_y_std``
    (NaN when he has no row at the snap). ``frames``: his rows in the window: ``player`` (index into
    players), ``frame`` (0 = throw - history + 1 .. history + max_flight_frames - 1), ``x_std``, ``y_std``,
    ``speed_yps``, ``vx``, ``vy``."""

    players: dict[str, np.ndarray]
    frames: dict[str, np.ndarray]
    _layouts: dict = field(default_factory=dict, repr=False, compare=False)

    def layout(self, n_p: int, F: int) -> tuple[np.ndarray, ...]:
        """Arrays (pass, player slot[, frame]): present, ids, is_offense, group, snap_xy, pos, vel, speed; the
        players of a pass in nfl_id order (slot = rank of his nfl_id in the play), frame 0 = throw - history
        + 1. Built once per chunk and shared by every variant built from it (read only)."""
        if (n_p, F) not in self._layouts:
            arrays = self._build_layout(n_p, F)
            for a in arrays:
                a.flags.writeable = False
            self._layouts[(n_p, F)] = arrays
        return self._layouts[(n_p, F)]

    def _build_layout(self, n_p: int, F: int) -> tuple[np.ndarray, ...]:
        pl, fr = self.players, self.frames
        pair_pass = np.asarray(pl["pass"], dtype=np.int64)
        pair_slot = np.arange(len(pair_pass)) - np.searchsorted(pair_pass, pair_pass)
        P = int(pair_slot.max()) + 1
        present = np.zeros((n_p, P), dtype=bool)
        present[pair_pass, pair_slot] = True
        ids = np.full((n_p, P), -1, dtype=np.int64)
        ids[pair_pass, pair_slot] = pl["nfl_id"]
        is_off = np.full((n_p, P), np.nan)
        is_off[pair_pass, pair_slot] = pl["is_offense"]
        group = np.full((n_p, P), None, dtype=object)
        group[pair_pass, pair_slot] = pl["position_group"]
        snap_xy = np.full((n_p, P, 2), np.nan)
        snap_xy[pair_pass, pair_slot, 0], snap_xy[pair_pass, pair_slot, 1] = pl["snap_x_std"], pl["snap_y_std"]

        # positions, velocities and speeds over the window: frame index 0 = throw - history + 1
        player = np.asarray(fr["player"], dtype=np.int64)
        cell = (pair_pass[player] * P + pair_slot[player]) * F + np.asarray(fr["frame"], dtype=np.int64)
        pos = np.full((n_p * P * F, 2), np.nan)
        vel = np.full((n_p * P * F, 2), np.nan)
        speed = np.full(n_p * P * F, np.nan)
        pos[cell] = np.stack([fr["x_std"], fr["y_std"]], axis=1)
        vel[cell] = np.stack([fr["vx"], fr["vy"]], axis=1)
        speed[cell] = fr["speed_yps"]
        pos, vel, speed = pos.reshape(n_p, P, F, 2), vel.reshape(n_p, P, F, 2), speed.reshape(n_p, P, F)
        return present, ids, is_off, group, snap_xy, pos, vel, speed


def _first_true(mask: np.ndarray, axis: int) -> np.ndarray:
    """Index of the first True along ``axis`` (0 where there is none)."""
    return np.argmax(mask, axis=axis)


def _held_at(arr: np.ndarray, rows: np.ndarray, slots: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``arr`` (passes, players, F, 2) of pass ``rows[i]``, players ``slots[i]`` at frame ``at[i]``: (n, m, 2),
    each coordinate where it is known at that frame, else at the last frame before it where it is, else
    at the first frame where it is (NaN if never)."""
    out = arr[rows[:, None], slots, at[:, None]]
    o, j, d = np.nonzero(np.isnan(out))
    if len(o):
        series = arr[rows[o], slots[o, j], :, d]                         # (k, F)
        valid = ~np.isnan(series)
        frame = np.arange(series.shape[1])[None, :]
        last = np.max(np.where(valid & (frame <= at[o][:, None]), frame, -1), axis=1)
        pick = np.where(last >= 0, last, _first_true(valid, 1))
        out[o, j, d] = series[np.arange(len(o)), pick]
    return out


def prepare_passes(passes: pd.DataFrame) -> pd.DataFrame:
    """Passes with a throw frame in (game_id, play_id) order, numeric columns as float (NULL -> NaN)."""
    passes = passes.copy()
    numeric = ["passer_nfl_id", "target_nfl_id", "snap_frame_id", "throw_frame_id", "line_of_scrimmage_x_std",
               "ball_throw_x_std", "ball_throw_y_std", "ball_snap_x_std", "ball_snap_y_std", "down", "yards_to_go"]
    for c in numeric:  # nullable integers (pd.NA) -> float NaN, so comparisons are plain False
        passes[c] = pd.to_numeric(passes[c], errors="coerce").astype(float) if c in passes else np.nan
    passes = passes[passes["throw_frame_id"].notna()]
    return passes.sort_values(["game_id", "play_id"], kind="mergesort").reset_index(drop=True)


def _first_known(values: np.ndarray, known: np.ndarray, key: np.ndarray, frame: np.ndarray,
                 n_keys: int, fill) -> np.ndarray:
    """Per key (0 .. n_keys - 1): the value of its earliest-frame row among the rows where it is known."""
    out = np.full(n_keys, fill, dtype=values.dtype)
    rows = np.flatnonzero(known)
    rows = rows[np.lexsort((frame[rows], key[rows]))]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = key[rows[1:]] != key[rows[:-1]]
    out[key[rows[first]]] = values[rows[first]]
    return out


def chunk_tracks(passes: pd.DataFrame, tracks: pd.DataFrame, cfg: OptionConfig) -> ChunkTracks:
    """``ChunkTracks`` of ``passes`` (prepared) from player rows of their plays (the ``tracks`` of
    ``build_options``; rows of other plays are ignored)."""
    tracks = tracks[tracks["nfl_id"].notna()]
    keys = pd.MultiIndex.from_arrays([passes["game_id"], passes["play_id"]])
    pi = keys.get_indexer(pd.MultiIndex.from_arrays([tracks["game_id"], tracks["play_id"]]))
    tracks, pi = tracks[pi >= 0], pi[pi >= 0]
    nid = tracks["nfl_id"].to_numpy().astype(np.int64)
    frame_id = tracks["frame_id"].to_numpy(float)
    srt = np.lexsort((nid, pi))
    new = np.ones(len(srt), dtype=bool)
    new[1:] = (pi[srt][1:] != pi[srt][:-1]) | (nid[srt][1:] != nid[srt][:-1])
    player = np.empty(len(srt), dtype=np.int64)
    player[srt] = np.cumsum(new) - 1
    n = int(new.sum())
    off = tracks["is_offense"]
    off_known = off.notna().to_numpy()
    off_val = np.full(len(off), np.nan)
    off_val[off_known] = off[off_known].astype(bool).to_numpy(float)
    grp = tracks["position_group"]
    grp_known = grp.notna().to_numpy()
    grp_val = np.full(len(grp), None, dtype=object)
    grp_val[grp_known] = grp[grp_known].astype(str).to_numpy(object)
    x, y = (pd.to_numeric(tracks[c]).to_numpy(float) for c in ("x_std", "y_std"))
    at_snap = frame_id == passes["snap_frame_id"].to_numpy(float)[pi]
    players = {
        "pass": pi[srt][new], "nfl_id": nid[srt][new],
        "is_offense": _first_known(off_val, off_known, player, frame_id, n, np.nan),
        "position_group": _first_known(grp_val, grp_known, player, frame_id, n, None),
        "snap_x_std": _first_known(x, at_snap, player, frame_id, n, np.nan),
        "snap_y_std": _first_known(y, at_snap, player, frame_id, n, np.nan),
    }
    f = frame_id - (passes["throw_frame_id"].to_numpy(float)[pi] - cfg.history + 1)
    win = (f >= 0) & (f < cfg.history + cfg.max_flight_frames)
    frames = {"player": player[win], "frame": f[win].astype(np.int64), "x_std": x[win], "y_std": y[win],
              **{c: pd.to_numeric(tracks[c]).to_numpy(float)[win] for c in ("speed_yps", "vx", "vy")}}
    return ChunkTracks(players, frames)


def build_options(passes: pd.DataFrame, tracks: pd.DataFrame, ghost_model, flight_models: dict[str, fl.FlightModel],
                  cfg: OptionConfig | None = None, arrival_override: dict | None = None,
                  only_actual: bool = False, ghost_defenders: bool = True,
                  chunk_passes: int = CHUNK_PASSES) -> pd.DataFrame:
    """One row per (pass, option) with the columns OPTION_COLUMNS (ghost_steps: ghosted defender-frames;
    ghost_steps_capped: those shortened to the speed cap), passes in (game_id, play_id) order and the
    options of a pass in receiver nfl_id order.

    ``arrival_override``: {(game_id, play_id, receiver_nfl_id): frames after the throw} replaces the flight
    model for those options (the consistency check uses the real arrival for the real target).
    ``only_actual``: build the actual target's option only.
    ``ghost_defenders=False``: every defender keeps his tracked positions (a diagnostic: what is left of
    the consistency gap without ghosting).
    """
    cfg = cfg or OptionConfig()  # built per call: its defaults read the dbt vars (never at import)
    passes = prepare_passes(passes)
    parts = []
    for lo in range(0, len(passes), max(1, chunk_passes)):
        pc = passes.iloc[lo:lo + max(1, chunk_passes)].reset_index(drop=True)
        parts.append(chunk_options(pc, chunk_tracks(pc, tracks, cfg), ghost_model, flight_models, cfg,
                                   arrival_override, only_actual, ghost_defenders))
    return concat_options(parts)


def concat_options(parts: list[pd.DataFrame | None]) -> pd.DataFrame:
    parts = [p for p in parts if p is not None and len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=OPTION_COLUMNS)


def chunk_options(pc: pd.DataFrame, tracks: ChunkTracks, ghost_model, flight_models: dict[str, fl.FlightModel],
                  cfg: OptionConfig | None = None, arrival_override: dict | None = None, only_actual: bool = False,
                  ghost_defenders: bool = True) -> pd.DataFrame | None:
    """The options (as ``build_options``) of the prepared passes ``pc`` from their ``ChunkTracks``; None
    when there is none."""
    cfg = cfg or OptionConfig()
    fps = frame_rate_hz()
    h, K = cfg.history, cfg.max_flight_frames
    F = h + K
    n_p = len(pc)
    pl = tracks.players
    if n_p == 0 or len(pl["pass"]) == 0:
        return None
    col = {c: pc[c].to_numpy(float) for c in ("throw_frame_id", "snap_frame_id", "passer_nfl_id", "target_nfl_id",
                                              "ball_throw_x_std", "ball_throw_y_std", "ball_snap_x_std",
                                              "ball_snap_y_std", "line_of_scrimmage_x_std", "down", "yards_to_go")}
    throw = col["throw_frame_id"]

    present, ids, is_off, group, snap_xy, pos, vel, speed = tracks.layout(n_p, F)

    # roles at the throw
    on_field = ~np.isnan(pos[:, :, h - 1, 0])
    defense = (is_off == 0.0) & on_field
    known = pd.notna(group)
    group_str = group.astype(str)
    groups_known = (defense & known).any(axis=1)
    ghosted = defense & (np.isin(group_str, GHOSTED_GROUPS) | ~groups_known[:, None])
    if not ghost_defenders:
        ghosted = np.zeros_like(defense)
    others = defense & ~ghosted
    is_passer = present & (ids == col["passer_nfl_id"][:, None])
    has_passer = is_passer.any(axis=1)
    prow = _first_true(is_passer, 1)
    allp = np.arange(n_p)
    passer_xy = np.where(has_passer[:, None], pos[allp, prow, h - 1], np.nan)
    passer_speed = np.where(has_passer, speed[allp, prow, h - 1], np.nan)
    ball = np.stack([col["ball_throw_x_std"], col["ball_throw_y_std"]], axis=1)
    ball = np.where(np.isfinite(ball).all(axis=1)[:, None], ball, passer_xy)
    usable = defense.any(axis=1) & np.isfinite(ball).all(axis=1)
    def_throw = np.where(defense[..., None], pos[:, :, h - 1], np.nan)
    rusher = nearest(passer_xy, def_throw)[0]
    time_to_throw = (throw - col["snap_frame_id"]) / fps

    # eligible receivers (see the module docstring)
    offense = (is_off == 1.0) & on_field & ~is_passer
    by_group = np.isin(group_str, RECEIVER_GROUPS)
    ball_snap = np.stack([col["ball_snap_x_std"], col["ball_snap_y_std"]], axis=1)
    d_snap = np.linalg.norm(snap_xy - ball_snap[:, None, :], axis=-1)
    unknown_ok = ~known & ~(d_snap <= cfg.lineman_radius_yd)
    is_target = present & (ids == col["target_nfl_id"][:, None])
    eligible = ((offense & (by_group | unknown_ok)) | (is_target & on_field)) & usable[:, None]
    if only_actual:
        eligible &= is_target
    op, oslot = np.nonzero(eligible)
    n = len(op)
    if n == 0:
        return None
    orow = np.arange(n)
    rid = ids[op, oslot]

    # routes: real while tracked without a gap from the throw, constant velocity after
    rpos, rvel, rspd = pos[op, oslot], vel[op, oslot], speed[op, oslot]
    frames = np.arange(F)
    first = _first_true(~np.isnan(rpos[:, :h, 0]), 1)   # backfill missing early frames (no motion)
    early = frames[None, :] < first[:, None]
    rpos = np.where(early[..., None], rpos[orow, first][:, None], rpos)
    rvel = np.where(early[..., None], rvel[orow, first][:, None], rvel)
    rspd = np.where(early, rspd[orow, first][:, None], rspd)
    gap = np.isnan(rpos[:, h - 1:, 0])
    last = h - 1 + np.where(gap.any(axis=1), _first_true(gap, 1) - 1, F - h)
    vlast = rvel[orow, last]
    plast = rpos[orow, last]
    step = np.where(np.isfinite(vlast).all(axis=1)[:, None], vlast / fps,
                    np.where((last >= 1)[:, None], plast - rpos[orow, np.maximum(last - 1, 0)], 0.0))
    v_cv = plast - (plast - step)      # the velocity constant_velocity() reads back from [p - v, p]
    after = frames[None, :] > last[:, None]
    k_after = (frames[None, :] - last[:, None]).astype(float)
    rpos = np.where(after[..., None], plast[:, None, :] + k_after[..., None] * v_cv[:, None, :], rpos)
    rvel = np.where(after[..., None], (step * fps)[:, None, :], rvel)
    rspd = np.where(after, (np.linalg.norm(step, axis=-1) * fps)[:, None], rspd)
    rvel = np.where(np.isnan(rvel), 0.0, rvel)
    rspd = np.where(np.isnan(rspd), np.linalg.norm(rvel, axis=-1), rspd)

    # flight: earliest catchable frame under the dataset's flight model, or the imposed arrival
    ball_o = ball[op]
    datasets = pc["dataset"].astype(str).to_numpy()
    ds_o = datasets[op]
    k = np.zeros(n, dtype=np.int64)
    for ds in np.unique(ds_o):
        m = ds_o == ds
        k[m] = fl.earliest_catchable_frame(rpos[m, h:h + K], ball_o[m], flight_models.get(ds, fl.DEFAULT), fps)
    game, play = pc["game_id"].to_numpy(), pc["play_id"].to_numpy()
    if arrival_override:
        imposed = [arrival_override.get(key) for key in zip(game[op], play[op], rid.tolist(), strict=True)]
        for j, v in enumerate(imposed):
            if v is not None:
                k[j] = int(np.clip(v, 1, K))
    a = h - 1 + k
    land = rpos[orow, a]
    meta = np.full((n, len(META_COLUMNS)), np.nan)
    meta[:, 2], meta[:, 3], meta[:, 4] = col["down"][op], col["yards_to_go"][op], col["line_of_scrimmage_x_std"][op]
    meta[:, META_COLUMNS.index("ball_land_x")] = land[:, 0]
    meta[:, META_COLUMNS.index("ball_land_y")] = land[:, 1]
    sep_throw = nearest(rpos[:, h - 1], def_throw[op])[0]

    # defenders: ghosted ones (observed up to the throw) first, then the others (held positions), slot order
    n_g, n_o = ghosted.sum(axis=1), others.sum(axis=1)
    M = max(1, int(n_g[op].max()))
    N = max(1, int(n_o[op].max()))
    g_slot = np.argsort(~ghosted, axis=1, kind="stable")[:, :M]
    g_ok = np.arange(M)[None, :] < n_g[:, None]
    obs = np.where(g_ok[..., None, None], pos[allp[:, None], g_slot, :h], np.nan)   # (n_p, M, h, 2)
    first = _first_true(~np.isnan(obs[..., 0]), 2)  # backfill missing frames before the throw
    early = np.arange(h)[None, None, :] < first[..., None]
    obs = np.where(early[..., None], np.take_along_axis(obs, first[..., None, None].repeat(2, -1), axis=2), obs)
    o_slot = np.argsort(~others, axis=1, kind="stable")[:, :N]
    o_ok = (np.arange(N)[None, :] < n_o[:, None])[op]
    ids_all = np.concatenate([np.where(g_ok, ids[allp[:, None], g_slot], -1)[op],
                              np.where(o_ok, ids[allp[:, None], o_slot][op], -1)], axis=1)

    res = rollout(ghost_model, obs[op], rpos, meta, k, h, cfg.horizon)
    gxy = res.paths[orow, :, a]                              # (n, M, 2)
    gv = (res.paths[orow, :, a] - res.paths[orow, :, a - 1]) * fps
    # the other defenders where they are tracked at the arrival (held at their last tracked frame after it)
    oth_xy = np.where(o_ok[..., None], _held_at(pos, op, o_slot[op], a), np.nan)
    oth_v = np.where(o_ok[..., None], np.nan_to_num(_held_at(vel, op, o_slot[op], a)), np.nan)
    dxy = np.concatenate([gxy, oth_xy], axis=1)
    dv = np.concatenate([gv, oth_v], axis=1)
    feats = arrival_features(land, rvel[orow, a], rspd[orow, a], dxy, dv, ball_o,
                             col["line_of_scrimmage_x_std"][op], cfg.radius_yd)
    idx = feats.pop("nearest_defender_index")
    near = np.where(idx >= 0, ids_all[orow, np.maximum(idx, 0)], -1)
    throw_i = throw[op].astype(np.int64)
    out = pd.DataFrame({
        "game_id": game[op], "play_id": play[op], "dataset": pc["dataset"].to_numpy()[op],
        "passer_nfl_id": col["passer_nfl_id"][op], "receiver_nfl_id": rid,
        "receiver_position_group": group[op, oslot], "is_actual_target": rid == col["target_nfl_id"][op],
        "throw_frame_id": throw_i, "arrival_frame_id": throw_i + k, "flight_frames": k, "flight_time_s": k / fps,
        "route_method": np.where(a <= last, "actual", "extrapolated_constant_velocity").astype(object),
        "landing_x_std": land[:, 0], "landing_y_std": land[:, 1],
        "receiver_separation_throw_yd": sep_throw, "passer_rusher_distance_throw_yd": rusher[op],
        "passer_speed_throw_yps": passer_speed[op], "time_to_throw_s": time_to_throw[op],
        "time_in_air_s": k / fps,
        **feats,
        # no stated air yards for a pass that was not thrown: measured as fct_pass_features measures it
        "pass_length_yd": feats["pass_depth_yd"],
        "nearest_defender_nfl_id": pd.Series(near, dtype="Int64").mask(near < 0),
        "n_ghosted_defenders": n_g[op], "n_other_defenders": n_o[op],
        "ghost_steps": res.steps, "ghost_steps_capped": res.capped_steps,
    })
    return out[OPTION_COLUMNS]
