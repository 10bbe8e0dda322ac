"""Training and evaluation windows for ghosting.

Input: a long table of ball-in-air tracks, one row per (game_id, play_id, nfl_id, frame_id) with x, y in
yards and ``frame_id`` 1 at the throw. Two sources give it:

* the real Big Data Bowl 2026 output files (``output_2023_wNN.csv``: the targeted receiver and the
  defenders in coverage; roles are not given, see :func:`infer_roles`), and
* the warehouse (``marts.fct_tracking`` + ``marts.fct_pass_events``): defensive backs and the targeted
  receiver from the throw frame to the arrival frame, in standardised coordinates, with the known
  target, ball landing spot and down / distance / line of scrimmage.

A *window* is ``history`` observed frames of one track followed by ``horizon`` frames to predict, with
the other tracks of the same play over the observed frames as context.

Split (the real benchmark): weeks 1-10 train / validate (validation = a fixed 15% of games, by
game_id hash), weeks 11-14 are the held-out test. Warehouse data without weeks is split by game hash.
"""

from __future__ import annotations

import glob
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ngs.constants import frame_rate_hz, max_player_speed_yps
from ngs.errors import IngestError
from ngs.paths import SHARED_DATA

TRACK_COLUMNS = ["game_id", "play_id", "nfl_id", "frame_id", "x", "y"]
META_COLUMNS = ["ball_land_x", "ball_land_y", "down", "yards_to_go", "yardline_x"]
TRAIN_WEEKS = tuple(range(1, 11))
TEST_WEEKS = tuple(range(11, 15))
BDB2026_GLOB = str(SHARED_DATA / "bdb2026" / "output_2023_w*.csv")


# --------------------------------------------------------------------------------------------- reading
def read_output_tracks(paths: str | list[str]) -> pd.DataFrame:
    """Read BDB 2026 output-format files (a glob or a list of paths) into the long track table.

    Adds ``week`` (from an ``_wNN`` file name, else NA), ``source`` ('bdb2026') and NA role / meta columns.
    """
    files = sorted(glob.glob(paths)) if isinstance(paths, str) else [str(p) for p in paths]
    if not files:
        raise IngestError(f"no track files match {paths!r}")
    frames = []
    for f in files:
        df = pd.read_csv(f)
        missing = [c for c in TRACK_COLUMNS if c not in df.columns]
        if missing:
            raise IngestError(f"{f}: missing column(s) {', '.join(missing)} (BDB 2026 output format expected)")
        m = re.search(r"_w(\d+)", Path(f).stem)
        df = df[TRACK_COLUMNS].copy()
        df["week"] = int(m.group(1)) if m else pd.NA
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["source"] = "bdb2026"
    df["is_target"] = np.nan
    for c in META_COLUMNS:
        df[c] = np.nan
    return normalise_tracks(df)


def load_bdb2026(weeks: tuple[int, ...] | None = None, pattern: str = BDB2026_GLOB) -> pd.DataFrame:
    df = read_output_tracks(pattern)
    if weeks is not None:
        df = df[df["week"].isin(weeks)]
    return df.reset_index(drop=True)


WAREHOUSE_SQL = """
select
    t.game_id, t.play_id, t.nfl_id,
    t.frame_id - p.throw_frame_id + 1 as frame_id,
    t.x_std as x, t.y_std as y,
    g.week,
    t.source,
    case when t.nfl_id = p.target_nfl_id then 1.0 else 0.0 end as is_target,
    p.throw_frame_id,
    p.ball_arrival_x_std as ball_land_x, p.ball_arrival_y_std as ball_land_y,
    {down} as down, {ytg} as yards_to_go, p.line_of_scrimmage_x_std as yardline_x
from {tracking} as t
join {pass_events} as p on t.game_id = p.game_id and t.play_id = p.play_id
{plays_join}
{games_join}
where not coalesce(t.is_ball, false)
  and p.throw_frame_id is not null and p.target_nfl_id is not null
  and t.frame_id >= p.throw_frame_id
  and (p.arrival_frame_id is null or t.frame_id <= p.arrival_frame_id)
  and (t.position_group = 'DB' or t.nfl_id = p.target_nfl_id)
"""


def load_warehouse_tracks(con, tracking: str = "marts.fct_tracking", pass_events: str = "marts.fct_pass_events",
                          plays: str | None = "marts.fct_plays", games: str | None = "marts.dim_games") -> pd.DataFrame:
    """Ball-in-air tracks of defensive backs and the targeted receiver from the warehouse.

    ``con`` is a DuckDB connection; the table arguments are names (or views) it can query.
    """
    sql = WAREHOUSE_SQL.format(
        tracking=tracking, pass_events=pass_events,
        down="pl.down" if plays else "null", ytg="pl.yards_to_go" if plays else "null",
        plays_join=f"left join {plays} as pl on t.game_id = pl.game_id and t.play_id = pl.play_id" if plays else "",
        games_join=f"left join {games} as g on t.game_id = g.game_id" if games else "",
    )
    if not games:
        sql = sql.replace("g.week", "null as week")
    df = con.execute(sql).df()
    return normalise_tracks(df)


def normalise_tracks(df: pd.DataFrame) -> pd.DataFrame:
    """Types, sort order, one row per key (first kept), frame_id >= 1."""
    df = df.copy()
    for c in ("game_id", "play_id", "nfl_id", "frame_id"):
        df[c] = pd.to_numeric(df[c]).astype("int64")
    for c in ["x", "y", "is_target", *META_COLUMNS]:
        if c not in df.columns:
            df[c] = np.nan
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    if "week" not in df.columns:
        df["week"] = pd.NA
    if "source" not in df.columns:
        df["source"] = "unknown"
    df = df[df["frame_id"] >= 1]
    df = df.drop_duplicates(["game_id", "play_id", "nfl_id", "frame_id"])
    return df.sort_values(["game_id", "play_id", "nfl_id", "frame_id"]).reset_index(drop=True)


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
    n_off = per_track.groupby(["game_id", "play_id"])["is_offense"].apply(lambda s: (s == 1.0).sum())
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
    need = df.groupby(["game_id", "play_id"])["is_target"].transform(lambda s: s.isna().any())
    if need.any():
        sub = df[need]
        last = sub.sort_values("frame_id").groupby(["game_id", "play_id", "nfl_id"])[["x", "y"]].last().reset_index()
        tgt = {}
        for key, grp in last.groupby(["game_id", "play_id"]):
            if len(grp) < 2:
                continue
            xy = grp[["x", "y"]].to_numpy()
            d = np.linalg.norm(xy[:, None] - xy[None], axis=-1).sum(axis=1)
            tgt[key] = int(grp["nfl_id"].to_numpy()[d.argmin()])
        keys = list(zip(sub["game_id"], sub["play_id"], strict=True))
        val = [float(tgt[k] == n) if k in tgt else np.nan for k, n in zip(keys, sub["nfl_id"], strict=True)]
        df.loc[need, "is_target"] = val
    return df


# --------------------------------------------------------------------------------------------- splits
def game_hash_fraction(game_id: int) -> float:
    return int(hashlib.sha1(str(int(game_id)).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def assign_split(tracks: pd.DataFrame, val_frac: float = 0.15, test_frac: float = 0.2) -> pd.Series:
    """'train' | 'val' | 'test' per row, by game. With weeks: weeks 11-14 test, weeks 1-10 train/val by
    game hash. Without weeks: test / val / train by game hash."""
    h = tracks["game_id"].map(game_hash_fraction)
    week = pd.to_numeric(tracks["week"], errors="coerce")
    has_week = week.notna()
    split = np.where(h < val_frac, "val", "train").astype(object)
    split = np.where(has_week & week.isin(TEST_WEEKS), "test", split)
    no_week_test = (~has_week) & (h >= 1 - test_frac)
    split = np.where(no_week_test, "test", split)
    return pd.Series(split, index=tracks.index, name="split")


# --------------------------------------------------------------------------------------------- windows
@dataclass
class Windows:
    """Arrays of windows; positions in yards, frames at 10 Hz."""

    key: pd.DataFrame                 # game_id, play_id, nfl_id, start_frame, week, source, split?, teleport
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


def build_windows(tracks: pd.DataFrame, history: int = 3, horizon: int = 10, starts: str = "first",
                  stride: int = 1, max_others: int | None = None, require_truth: bool = True) -> tuple[Windows, int]:
    """Cut windows from tracks. ``starts='first'`` takes each track's first ``history`` frames as observed
    (the benchmark); ``'all'`` slides along the track every ``stride`` frames (training augmentation).

    Returns (windows, skipped) where skipped counts tracks too short for even one window. Tracks are
    positions on consecutive frame_ids from their first frame; a gap ends the usable part.
    """
    need = history + horizon if require_truth else history
    vmax = max_player_speed_yps()
    keys, obs_l, fut_l, oth_l, otht_l, tgt_l, meta_l = [], [], [], [], [], [], []
    skipped = 0
    k_max = 0
    plays = []
    for (g, p), grp in tracks.groupby(["game_id", "play_id"], sort=False):
        f0 = int(grp["frame_id"].min())
        n_frames = int(grp["frame_id"].max()) - f0 + 1
        ids = grp["nfl_id"].unique()
        idx = {n: i for i, n in enumerate(ids)}
        pos = np.full((len(ids), n_frames, 2), np.nan)
        r = grp["nfl_id"].map(idx).to_numpy()
        c = grp["frame_id"].to_numpy() - f0
        pos[r, c, 0] = grp["x"].to_numpy()
        pos[r, c, 1] = grp["y"].to_numpy()
        tgt = grp.groupby("nfl_id", sort=False)["is_target"].first().reindex(ids).to_numpy(dtype=float)
        first = grp.iloc[0]
        meta = np.array([first[m] for m in META_COLUMNS], dtype=float)
        k_max = max(k_max, len(ids) - 1)
        plays.append((g, p, f0, ids, pos, tgt, meta, first["week"], first["source"]))
    if max_others is not None:
        k_max = max_others
    k_max = max(k_max, 1)
    for g, p, f0, ids, pos, tgt, meta, week, source in plays:
        n, n_frames, _ = pos.shape
        valid = ~np.isnan(pos[..., 0])
        for i in range(n):
            fr = np.flatnonzero(valid[i])
            if len(fr) == 0:
                skipped += 1
                continue
            s0 = fr[0]
            run = np.flatnonzero(~valid[i, s0:])
            length = int(run[0]) if len(run) else n_frames - s0
            if length < need:
                skipped += 1
                continue
            last_start = length - need
            ss = [0] if starts == "first" else list(range(0, last_start + 1, stride))
            others = [j for j in range(n) if j != i][:k_max]
            for s in ss:
                a = s0 + s
                o = pos[i, a:a + history]
                if require_truth:
                    fu = pos[i, a + history:a + history + horizon]
                else:
                    fu = np.full((horizon, 2), np.nan)
                    avail = pos[i, a + history:a + history + horizon]
                    fu[:len(avail)] = avail
                oth = np.full((k_max, history, 2), np.nan)
                otht = np.full(k_max, np.nan)
                if others:
                    oth[:len(others)] = pos[others, a:a + history]
                    otht[:len(others)] = tgt[others]
                full = np.concatenate([o, fu[~np.isnan(fu[:, 0])]])
                tele = bool((implied_speed(full) > vmax).any()) if len(full) > 1 else False
                keys.append((g, p, int(ids[i]), int(f0 + a), week, source, tele))
                obs_l.append(o)
                fut_l.append(fu)
                oth_l.append(oth)
                otht_l.append(otht)
                tgt_l.append(tgt[i])
                meta_l.append(meta)
    key = pd.DataFrame(keys, columns=["game_id", "play_id", "nfl_id", "start_frame", "week", "source", "teleport"])
    if not keys:
        empty = Windows(key, np.zeros((0, history, 2)), np.zeros((0, horizon, 2)),
                        np.zeros((0, k_max, history, 2)), np.zeros((0, k_max)), np.zeros(0),
                        np.zeros((0, len(META_COLUMNS))), history, horizon)
        return empty, skipped
    w = Windows(key, np.stack(obs_l), np.stack(fut_l), np.stack(oth_l), np.stack(otht_l),
                np.asarray(tgt_l, float), np.stack(meta_l), history, horizon)
    return w, skipped


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
