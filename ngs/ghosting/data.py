"""Training and evaluation windows for ghosting.

Input: a long table of ball-in-air tracks, one row per (game_id, play_id, nfl_id, frame_id) with x, y in
yards and ``frame_id`` 1 at the throw. The dbt Python models read it from two warehouse models with the
same columns (:func:`read_tracks`):

* ``int_ball_in_air_tracks``: the Big Data Bowl 2026 output rows ``ngs build --data`` loaded (the targeted
  receiver and every defender in coverage; the target is NULL where the release does not say, see
  :func:`infer_roles`), and
* ``int_pass_play_tracks``: every other source's pass plays, the defensive backs and the targeted receiver
  from the throw frame to the arrival frame, with the known target, ball landing spot and down / distance /
  line of scrimmage;

both in standardised coordinates, with the game's week and dataset from ``dim_games``. Files in the BDB
2026 output format can still be read with :func:`read_output_tracks` (``ngs ghost-eval --tracks``, a CLI
argument).

A *window* is ``history`` observed frames of one track followed by ``horizon`` frames to predict, with
the other tracks of the same play over the observed frames as context.

Split (:func:`assign_split`, per game): games from week ``ghosting_test_from_week`` (a dbt var, 11: the
BDB 2026 weeks 11-14) on are the held-out test; earlier weeks train / validate (validation = a fixed 15% of
games, by game_id hash). Games without a week are split by game hash.
"""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ngs.constants import dbt_vars, frame_rate_hz, max_player_speed_yps
from ngs.errors import IngestError
from ngs.ingest.load import detect, read_file

TRACK_COLUMNS = ["game_id", "play_id", "nfl_id", "frame_id", "x", "y"]
META_COLUMNS = ["ball_land_x", "ball_land_y", "down", "yards_to_go", "yardline_x"]
# the columns of int_ball_in_air_tracks / int_pass_play_tracks the windows read, and their names here
MODEL_COLUMNS = {
    "game_id": "game_id", "play_id": "play_id", "nfl_id": "nfl_id", "air_frame": "frame_id",
    "x_std": "x", "y_std": "y", "week": "week", "source": "source", "dataset": "dataset",
    "is_target": "is_target", "throw_frame_id": "throw_frame_id", "ball_land_x_std": "ball_land_x",
    "ball_land_y_std": "ball_land_y", "down": "down", "yards_to_go": "yards_to_go",
    "line_of_scrimmage_x_std": "yardline_x",
}


def first_test_week(value=None) -> int:
    """The first held-out week: ``value`` (a model's config) if given, else dbt var ghosting_test_from_week."""
    if value in (None, "", "None"):
        value = dbt_vars()["ghosting_test_from_week"]
    return int(value)


# --------------------------------------------------------------------------------------------- reading
def output_track_files(pattern: str) -> list[str]:
    """The files matching ``pattern``, sorted."""
    return sorted(glob.glob(pattern))


def read_output_tracks(paths: str | list[str]) -> pd.DataFrame:
    """Read BDB 2026 output-format files (a glob or a list of paths) into the long track table.

    Adds ``week`` (from an ``_wNN`` file name, else NA), ``source`` ('bdb2026') and NA role / meta columns.
    """
    files = output_track_files(paths) if isinstance(paths, str) else [str(p) for p in paths]
    if not files:
        raise IngestError(f"no track files match {paths!r}")
    frames = []
    for f in files:
        df = _read_output_file(Path(f))
        m = re.search(r"_w(\d+)", Path(f).stem)
        df["week"] = int(m.group(1)) if m else pd.NA
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["source"] = "bdb2026"
    df["is_target"] = np.nan
    for c in META_COLUMNS:
        df[c] = np.nan
    return normalise_tracks(df)


def _read_output_file(path: Path) -> pd.DataFrame:
    """One BDB 2026 output file, typed and checked by the ingest reader: a missing column, a truncated row,
    a value that is not a number, a fraction in an id or an empty value is an IngestError naming the file,
    line and column (never a silently skipped row)."""
    f = detect(path)
    if (f.spec.vintage, f.spec.entity) != ("bdb2026", "tracking_output"):
        raise IngestError(f"{path}: is {f.spec.vintage} {f.spec.entity} ({f.spec.description}), not a BDB 2026 "
                          f"output file ({', '.join(TRACK_COLUMNS)}: ball-in-air positions)")
    return read_file(f, required_values=TRACK_COLUMNS)[TRACK_COLUMNS].copy()


def read_tracks(rel, game_ids=None) -> pd.DataFrame:
    """The long track table from a DuckDB relation of ``int_ball_in_air_tracks`` or ``int_pass_play_tracks``
    (``dbt.ref`` in a Python model, ``con.table`` elsewhere). ``game_ids`` keeps only those games (filtered
    in DuckDB, so the other rows never leave it). Rows come sorted by key; ``is_target`` is 1.0 / 0.0 / NaN.
    """
    if game_ids is not None:
        ids = ", ".join(str(int(g)) for g in game_ids) or "null"
        rel = rel.filter(f"game_id in ({ids})")
    rel = rel.select(*MODEL_COLUMNS).order("game_id, play_id, nfl_id, air_frame")
    tbl = rel.to_arrow_table().rename_columns(list(MODEL_COLUMNS.values()))
    # strings as categoricals: one string per source / dataset instead of one Python string per row (a
    # season: 2.5M rows)
    for name in ("source", "dataset"):
        i = tbl.schema.get_field_index(name)
        tbl = tbl.set_column(i, name, tbl.column(i).cast(pa.string()).dictionary_encode())
    i = tbl.schema.get_field_index("is_target")
    tbl = tbl.set_column(i, "is_target", tbl.column(i).cast(pa.float64()))
    df = tbl.to_pandas()
    for f in tbl.schema:  # integers with NULLs: pandas' nullable Int (as DuckDB's .df() gives), not float
        if pa.types.is_integer(f.type) and tbl.column(f.name).null_count:
            df[f.name] = df[f.name].astype(f"Int{f.type.bit_width}")
    del tbl
    return normalise_tracks(df, copy=False)


def nonempty(tracks: pd.DataFrame | None) -> pd.DataFrame | None:
    """``tracks``, or None when there are none (the training pipelines take None for an absent source)."""
    return tracks if tracks is not None and len(tracks) else None


def normalise_tracks(df: pd.DataFrame, copy: bool = True) -> pd.DataFrame:
    """Types, sort order, one row per key (first kept), frame_id >= 1. With ``copy=False`` the result may
    share column data with ``df`` (for a frame nobody else holds): a frame that is already typed, sorted and
    unique (as the warehouse query returns it) is then not copied at all."""
    df = df.copy(deep=copy)
    for c in ("game_id", "play_id", "nfl_id", "frame_id"):
        if df[c].dtype != np.int64:
            df[c] = pd.to_numeric(df[c]).astype("int64")
    for c in ["x", "y", "is_target", *META_COLUMNS]:
        if c not in df.columns:
            df[c] = np.nan
        if df[c].dtype != np.float64:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    if "week" not in df.columns:
        df["week"] = pd.NA
    if "source" not in df.columns:
        df["source"] = "unknown"
    # stable sort by key, then the first row of each key: the same rows as drop_duplicates (first kept) + sort
    g, p, n, f = (df[c].to_numpy() for c in ("game_id", "play_id", "nfl_id", "frame_id"))
    keep = f >= 1
    order = np.flatnonzero(keep)
    in_order = _is_sorted(g, p, n, f)
    if not in_order:
        order = order[np.lexsort((f[order], n[order], p[order], g[order]))]
    g, p, n, f = g[order], p[order], n[order], f[order]
    dup = np.zeros(len(order), dtype=bool)
    dup[1:] = (g[1:] == g[:-1]) & (p[1:] == p[:-1]) & (n[1:] == n[:-1]) & (f[1:] == f[:-1])
    if not (in_order and keep.all() and not dup.any()):
        df = df.take(order[~dup])
    df.index = pd.RangeIndex(len(df))
    return df


def _is_sorted(*keys: np.ndarray) -> bool:
    """Rows in lexicographic non-decreasing order of the key arrays."""
    if len(keys[0]) < 2:
        return True
    ge = np.ones(len(keys[0]) - 1, dtype=bool)      # equal so far on the earlier keys -> later keys decide
    for k in reversed(keys):
        d = np.diff(k)
        ge = (d > 0) | ((d == 0) & ge)
    return bool(ge.all())


# --------------------------------------------------------------------------------------------- roles
def infer_roles(tracks: pd.DataFrame, min_plays: int = 2) -> pd.DataFrame:
    """Which nfl_ids are receivers, learned from whole tracks (use training weeks only).

    In each play with >= 3 tracks the defenders converge on the targeted receiver, so the track whose
    last position is nearest (mean distance) to the others' last positions gets a receiver vote. A player
    is labelled offence when he got the vote in more than half of his (>= ``min_plays``) plays; a player
    is on one side all season, so the label is a roster fact, not a peek at the future of a test play.
    Returns nfl_id, plays, receiver_votes, is_offense (1.0 / 0.0).
    """
    last = tracks.sort_values("frame_id").groupby(["game_id", "play_id", "nfl_id"], sort=False)[["x", "y"]].last()
    last = last.reset_index()
    votes = []
    for (_g, _p), grp in last.groupby(["game_id", "play_id"], sort=False):
        if len(grp) < 3:
            continue
        xy = grp[["x", "y"]].to_numpy()
        d = np.linalg.norm(xy[:, None] - xy[None], axis=-1).sum(axis=1) / (len(grp) - 1)
        votes.append(pd.DataFrame({"nfl_id": grp["nfl_id"].to_numpy(), "vote": (np.arange(len(grp)) == d.argmin())}))
    if not votes:
        return pd.DataFrame(columns=["nfl_id", "plays", "receiver_votes", "is_offense"])
    v = pd.concat(votes).groupby("nfl_id")["vote"].agg(plays="size", receiver_votes="sum").reset_index()
    v = v[v["plays"] >= min_plays]
    v["is_offense"] = (v["receiver_votes"] > v["plays"] / 2).astype(float)
    return v.reset_index(drop=True)


def apply_roles(tracks: pd.DataFrame, roles: pd.DataFrame) -> pd.DataFrame:
    """Fill ``is_target`` where it is unknown: in a play with exactly one offence-labelled track, that
    track is the target (1.0) and the others are not (0.0); elsewhere it stays NaN."""
    df = tracks.copy()
    unknown = df["is_target"].isna()
    if not unknown.any() or roles is None or len(roles) == 0:
        return df
    off = df.loc[unknown, ["game_id", "play_id", "nfl_id"]].merge(
        roles[["nfl_id", "is_offense"]], on="nfl_id", how="left")
    per_track = off.drop_duplicates(["game_id", "play_id", "nfl_id"])
    n_off = (per_track["is_offense"] == 1.0).groupby([per_track["game_id"], per_track["play_id"]]).sum()
    ok = n_off[n_off == 1].index
    sel = per_track.set_index(["game_id", "play_id"]).loc[lambda d: d.index.isin(ok)].reset_index()
    sel["is_target_new"] = (sel["is_offense"] == 1.0).astype(float)
    df = df.merge(sel[["game_id", "play_id", "nfl_id", "is_target_new"]], on=["game_id", "play_id", "nfl_id"],
                  how="left")
    df["is_target"] = df["is_target"].fillna(df["is_target_new"])
    return df.drop(columns="is_target_new")


def infer_targets_full(tracks: pd.DataFrame, roles: pd.DataFrame | None = None) -> pd.DataFrame:
    """Targets for the closing experiment (whole plays are known there): roster label first, else the
    convergence vote of :func:`infer_roles` within the play. Returns tracks with ``is_target`` filled."""
    df = apply_roles(tracks, roles) if roles is not None else tracks.copy()
    need = df["is_target"].isna().groupby([df["game_id"], df["play_id"]]).transform("any").to_numpy(dtype=bool)
    if need.any():
        sub = df[need]
        last = sub.sort_values("frame_id").groupby(["game_id", "play_id", "nfl_id"])[["x", "y"]].last().reset_index()
        target = convergence_target(last)
        play_idx = pd.MultiIndex.from_frame(sub[["game_id", "play_id"]])
        tgt = target.reindex(play_idx).to_numpy(dtype=float)
        val = np.where(np.isnan(tgt), np.nan, (tgt == sub["nfl_id"].to_numpy()).astype(float))
        df.loc[need, "is_target"] = val
    return df


def convergence_target(last: pd.DataFrame) -> pd.Series:
    """Per play (``last``: one row per game_id, play_id, nfl_id with its last x, y, plays contiguous) the
    nfl_id whose last position has the least summed distance to the others' (first one on a tie; plays with
    one track get none). Plays with the same number of tracks are done in one array operation, with the
    same reduction as one play at a time, so the sums (and the argmin) are bit-for-bit those of a loop."""
    keys = last[["game_id", "play_id"]]
    start = np.flatnonzero(keys.ne(keys.shift()).any(axis=1).to_numpy())
    size = np.diff(np.append(start, len(last)))
    xy = last[["x", "y"]].to_numpy(dtype=float)
    nfl = last["nfl_id"].to_numpy()
    chosen = np.zeros(len(start), dtype=np.int64)
    for m in np.unique(size[size >= 2]):
        sel = np.flatnonzero(size == m)
        rows = start[sel][:, None] + np.arange(m)
        p = xy[rows]                                          # (plays, m, 2)
        d = np.linalg.norm(p[:, :, None] - p[:, None], axis=-1).sum(axis=-1)
        chosen[sel] = nfl[start[sel] + d.argmin(axis=1)]
    ok = size >= 2
    idx = pd.MultiIndex.from_frame(keys.iloc[start[ok]])
    return pd.Series(chosen[ok], index=idx, dtype="int64")


# --------------------------------------------------------------------------------------------- splits
def game_hash_fraction(game_id: int) -> float:
    return int(hashlib.sha1(str(int(game_id)).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def assign_split(tracks: pd.DataFrame, test_from_week=None, val_frac: float = 0.15, test_frac: float = 0.2
                 ) -> pd.Series:
    """'train' | 'val' | 'test' per row, by game. Real games with a week: weeks from ``test_from_week`` on
    (default: dbt var ghosting_test_from_week, see :func:`first_test_week`) test, earlier weeks train/val by
    game hash. Simulated games (``dataset`` 'simulated': the simulator's weeks start at 1 and say nothing about
    the season) and games without a week: test / val / train by game hash; simulated games of which the hash
    holds none out (two of them, say) give their largest-hash game to test."""
    first = first_test_week(test_from_week)
    codes, games = pd.factorize(tracks["game_id"])          # the hash once per game, not per row
    game_h = np.array([game_hash_fraction(g) for g in games], dtype=float)
    h = game_h[codes]
    week = pd.to_numeric(tracks["week"], errors="coerce")
    has_week = week.notna().to_numpy()
    simulated = (tracks["dataset"].astype(str) == "simulated").to_numpy() if "dataset" in tracks else None
    if simulated is not None:
        has_week &= ~simulated
    test = (has_week & (week >= first).fillna(False).to_numpy(dtype=bool)) | (~has_week & (h >= 1 - test_frac))
    if simulated is not None and simulated.any() and not (test & simulated).any():
        # a small simulated warehouse (the demo's few games) whose hashes hold none out: its game with the
        # largest hash is held out, so its models are still measured on a game they never saw
        sim_games = np.unique(codes[simulated])
        if sim_games.size >= 2:
            test |= codes == sim_games[np.argmax(game_h[sim_games])]
    labels = np.array(["train", "val", "test"], dtype=object)  # three shared strings, not one per row
    split = labels[np.where(test, 2, np.where(h < val_frac, 1, 0))]
    return pd.Series(split, index=tracks.index, name="split")


# --------------------------------------------------------------------------------------------- windows
@dataclass
class Windows:
    """Arrays of windows; positions in yards, frames at 10 Hz."""

    key: pd.DataFrame                 # game_id, play_id, nfl_id, start_frame, week, source, teleport, play_last_frame
    obs: np.ndarray                   # (n, history, 2)
    fut: np.ndarray                   # (n, horizon, 2); NaN where the track has no truth
    others: np.ndarray                # (n, k, history, 2); NaN where missing
    others_is_target: np.ndarray      # (n, k) 1 / 0 / NaN
    is_target: np.ndarray             # (n,) 1 / 0 / NaN
    meta: np.ndarray                  # (n, len(META_COLUMNS)) NaN when unknown
    history: int = 3
    horizon: int = 10
    extra: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.obs)

    def subset(self, mask: np.ndarray) -> Windows:
        mask = np.asarray(mask)
        return Windows(self.key[mask].reset_index(drop=True) if mask.dtype == bool else
                       self.key.iloc[mask].reset_index(drop=True),
                       self.obs[mask], self.fut[mask], self.others[mask], self.others_is_target[mask],
                       self.is_target[mask], self.meta[mask], self.history, self.horizon)


def implied_speed(xy: np.ndarray) -> np.ndarray:
    """Speed (yd/s) implied by consecutive positions along axis -2."""
    return np.linalg.norm(np.diff(xy, axis=-2), axis=-1) * frame_rate_hz()


def _first_index(codes: np.ndarray, n: int) -> np.ndarray:
    """Row index of the first occurrence of each code 0..n-1 (every code occurs)."""
    first = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return first


def build_windows(tracks: pd.DataFrame, history: int = 3, horizon: int = 10, starts: str = "first",
                  stride: int = 1, max_others: int | None = None, require_truth: bool = True) -> tuple[Windows, int]:
    """Cut windows from tracks. ``starts='first'`` takes each track's first ``history`` frames as observed
    (the benchmark); ``'all'`` slides along the track every ``stride`` frames (training augmentation).

    Returns (windows, skipped) where skipped counts tracks too short for even one window. Tracks are
    positions on consecutive frame_ids from their first frame; a gap ends the usable part.

    Order: plays in order of first appearance, tracks (nfl_id) of a play in order of first appearance,
    then start frames. The other players of a window are the play's other tracks in that order (at most
    ``max_others``, else the most any play has; NaN-padded). One pass of numpy over all plays at once:
    each track gets the frames of its play (first to last frame of any track) as slots of a flat array.
    """
    need = history + horizon if require_truth else history
    vmax = max_player_speed_yps()
    if len(tracks) == 0:
        k_max = max(max_others if max_others is not None else 0, 1)
        return _empty_windows(history, horizon, k_max), 0
    play_code = tracks.groupby(["game_id", "play_id"], sort=False).ngroup().to_numpy()
    track_code = tracks.groupby(["game_id", "play_id", "nfl_id"], sort=False).ngroup().to_numpy()
    n_play, n_track = int(play_code.max()) + 1, int(track_code.max()) + 1
    # tracks numbered play by play (first appearance), and in first-appearance order within a play
    track_play = np.empty(n_track, dtype=np.int64)
    track_play[track_code] = play_code
    order = np.argsort(track_play, kind="stable")
    renum = np.empty(n_track, dtype=np.int64)
    renum[order] = np.arange(n_track)
    track_play = track_play[order]
    row_track = renum[track_code]
    frame = tracks["frame_id"].to_numpy(dtype=np.int64)
    f0 = np.full(n_play, np.iinfo(np.int64).max)
    np.minimum.at(f0, play_code, frame)
    f1 = np.full(n_play, np.iinfo(np.int64).min)
    np.maximum.at(f1, play_code, frame)
    nf = f1 - f0 + 1                                  # frames of each play (first to last of any track)
    track_nf = nf[track_play]
    base = np.concatenate([[0], np.cumsum(track_nf)[:-1]])
    pos = np.full((int(track_nf.sum()), 2), np.nan)
    slot = base[row_track] + frame - f0[play_code]
    pos[slot, 0] = tracks["x"].to_numpy(dtype=float)
    pos[slot, 1] = tracks["y"].to_numpy(dtype=float)
    # is_target: first non-missing value of the track (as groupby.first); meta, week, source: the play's first row
    tgt = pd.Series(tracks["is_target"].to_numpy(dtype=float)).groupby(row_track).first() \
        .reindex(np.arange(n_track)).to_numpy(dtype=float)
    play_row = _first_index(play_code, n_play)
    meta = tracks[META_COLUMNS].iloc[play_row].to_numpy(dtype=float)
    week = tracks["week"].iloc[play_row].to_numpy()
    source = tracks["source"].iloc[play_row].to_numpy()
    game = tracks["game_id"].to_numpy()[play_row]
    play = tracks["play_id"].to_numpy()[play_row]
    nfl = np.empty(n_track, dtype=np.int64)
    nfl[row_track] = tracks["nfl_id"].to_numpy(dtype=np.int64)
    n_in_play = np.bincount(track_play, minlength=n_play)
    first_track = np.concatenate([[0], np.cumsum(n_in_play)[:-1]])
    k_max = max(int(max_others if max_others is not None else n_in_play.max() - 1), 1)

    # first valid frame of each track and the length of the gap-free run from it
    valid = ~np.isnan(pos[:, 0])
    slot_track = np.repeat(np.arange(n_track), track_nf)
    rel = np.arange(len(pos)) - base[slot_track]
    s0 = np.full(n_track, np.iinfo(np.int64).max)
    np.minimum.at(s0, slot_track[valid], rel[valid])
    has = s0 < track_nf
    s0 = np.where(has, s0, 0)
    gap = ~valid & (rel >= s0[slot_track])
    end = track_nf.copy()
    np.minimum.at(end, slot_track[gap], rel[gap])
    length = np.where(has, end - s0, 0)
    ok = has & (length >= need)
    skipped = int((~ok).sum())
    if starts == "first":
        n_starts = ok.astype(np.int64)
    else:
        n_starts = np.where(ok, (length - need) // stride + 1, 0)
    wt = np.repeat(np.arange(n_track), n_starts)                   # track of each window
    if len(wt) == 0:
        return _empty_windows(history, horizon, k_max), skipped
    k = np.arange(len(wt)) - np.repeat(np.cumsum(n_starts) - n_starts, n_starts)
    a = s0[wt] + k * stride                                        # first observed slot (frame - f0)
    wp = track_play[wt]
    wnf = track_nf[wt]
    wbase = base[wt]
    oh = np.arange(history)
    obs = pos[wbase[:, None] + a[:, None] + oh]
    fh = a[:, None] + history + np.arange(horizon)
    if require_truth:
        fut = pos[wbase[:, None] + fh]
    else:
        inside = fh < wnf[:, None]
        fut = np.where(inside[..., None], pos[wbase[:, None] + np.minimum(fh, wnf[:, None] - 1)], np.nan)
    # the other tracks of the play, in order, over the observed frames
    li = wt - first_track[wp]
    j = np.arange(k_max)[None, :]
    oj = j + (j >= li[:, None])
    present = j < (n_in_play[wp] - 1)[:, None]
    ot = np.where(present, first_track[wp][:, None] + oj, 0)
    oslot = base[ot][..., None] + a[:, None, None] + oh
    others = np.where(present[..., None, None], pos[np.where(present[..., None], oslot, 0)], np.nan)
    others_t = np.where(present, tgt[ot], np.nan)
    # teleport: implied speed between consecutive known positions of the window above the cap
    full = np.concatenate([obs, fut], axis=1)
    known = ~np.isnan(full[..., 0])
    idx = np.where(known, np.arange(full.shape[1]), -1)
    prev = np.maximum.accumulate(idx, axis=1)[:, :-1]              # last known position before step t+1
    nxt = known[:, 1:] & (prev >= 0)
    prev_xy = np.take_along_axis(full, np.maximum(prev, 0)[..., None], axis=1)
    step = np.linalg.norm(full[:, 1:] - prev_xy, axis=-1) * frame_rate_hz()
    tele = (nxt & (step > vmax)).any(axis=1)
    key = pd.DataFrame({"game_id": game[wp], "play_id": play[wp], "nfl_id": nfl[wt],
                        "start_frame": f0[wp] + a, "week": week[wp], "source": source[wp], "teleport": tele,
                        "play_last_frame": f1[wp]})  # the play's last tracked frame: the ball's arrival
    w = Windows(key, obs, fut, others, others_t, tgt[wt], meta[wp], history, horizon)
    return w, skipped


def _empty_windows(history: int, horizon: int, k_max: int) -> Windows:
    key = pd.DataFrame(columns=["game_id", "play_id", "nfl_id", "start_frame", "week", "source", "teleport",
                                "play_last_frame"])
    return Windows(key, np.zeros((0, history, 2)), np.zeros((0, horizon, 2)), np.zeros((0, k_max, history, 2)),
                   np.zeros((0, k_max)), np.zeros(0), np.zeros((0, len(META_COLUMNS))), history, horizon)


def concat_windows(ws: list[Windows]) -> Windows:
    ws = [w for w in ws if len(w)]
    k = max(w.others.shape[1] for w in ws)

    def pad(a: np.ndarray, fill_shape_axis: int = 1) -> np.ndarray:
        extra = k - a.shape[1]
        if extra == 0:
            return a
        shape = list(a.shape)
        shape[1] = extra
        return np.concatenate([a, np.full(shape, np.nan)], axis=1)

    return Windows(pd.concat([w.key for w in ws], ignore_index=True), np.concatenate([w.obs for w in ws]),
                   np.concatenate([w.fut for w in ws]), np.concatenate([pad(w.others) for w in ws]),
                   np.concatenate([pad(w.others_is_target) for w in ws]),
                   np.concatenate([w.is_target for w in ws]), np.concatenate([w.meta for w in ws]),
                   ws[0].history, ws[0].horizon)
