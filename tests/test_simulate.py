"""The simulator: release format, determinism, physical plausibility, causal links and ground truth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA

from ngs.simulate import simulate_release
from ngs.simulate.writers import PLAYS_COLUMNS, TRACKING_COLUMNS

SEED = 11


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate_release(2, SEED, out, plays_per_game=40, workers=1)
    return out


@pytest.fixture(scope="module")
def tracking(release) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in sorted(release.glob("tracking_week_*.csv"))], ignore_index=True)


@pytest.fixture(scope="module")
def anomalies(release) -> pd.DataFrame:
    return pd.read_csv(release / "_truth" / "anomalies.csv")


def _clean_mask(tracking: pd.DataFrame, anomalies: pd.DataFrame) -> pd.Series:
    bad = set(map(tuple, anomalies[["gameId", "playId", "nflId", "frameId"]].to_numpy()))
    # a teleport or off-field point also corrupts the next frame's displacement: exclude the whole track
    keys = list(zip(tracking.gameId, tracking.playId, tracking.nflId.fillna(-1).astype(int), strict=True))
    tracks = {(g, p, n) for g, p, n, _f in bad}
    return pd.Series([k not in tracks for k in keys], index=tracking.index)


def test_files_and_exact_columns(release):
    names = {p.name for p in release.iterdir()}
    assert {"games.csv", "plays.csv", "players.csv", "pffScoutingData.csv", "tracking_week_1.csv", "_truth"} <= names
    assert list(pd.read_csv(release / "plays.csv", nrows=1).columns) == PLAYS_COLUMNS
    assert list(pd.read_csv(release / "tracking_week_1.csv", nrows=1).columns) == TRACKING_COLUMNS
    assert list(pd.read_csv(release / "games.csv").columns) == [
        "gameId", "season", "week", "gameDate", "gameTimeEastern", "homeTeamAbbr", "visitorTeamAbbr"]
    assert list(pd.read_csv(release / "players.csv", nrows=1).columns) == [
        "nflId", "height", "weight", "birthDate", "collegeName", "officialPosition", "displayName"]
    assert list(pd.read_csv(release / "pffScoutingData.csv", nrows=1).columns) == [
        "gameId", "playId", "nflId", "pff_role", "pff_positionLinedUp"]
    games = pd.read_csv(release / "games.csv")
    assert games.gameId.astype(str).str.len().eq(10).all() and (games.season == 2030).all()
    plays = pd.read_csv(release / "plays.csv", keep_default_na=False)
    assert set(plays.passResult) <= {"C", "I", "IN", "S", "NA"}
    assert (plays.passResult != "NA").mean() > 0.75


def test_tracking_conventions(tracking):
    per_frame = tracking.drop_duplicates(["gameId", "playId", "nflId", "frameId"]).groupby(
        ["gameId", "playId", "frameId"]).size()
    assert per_frame.median() == 23
    ball = tracking[tracking.team == "football"]
    assert ball.nflId.isna().all() and ball.o.isna().all() and ball.dir.isna().all()
    assert set(tracking.playDirection) == {"left", "right"}
    players = tracking[tracking.team != "football"]
    assert players.o.between(0, 360).all() and players.dir.between(0, 360).all()
    assert (tracking.x.round(2) == tracking.x).all()


def test_deterministic_per_seed_and_prefix_stable(release, tmp_path):
    simulate_release(2, SEED, tmp_path / "again", plays_per_game=40, workers=2)
    for name in ("games.csv", "plays.csv", "players.csv", "pffScoutingData.csv", "tracking_week_1.csv",
                 "_truth/passes.csv", "_truth/anomalies.csv"):
        assert (release / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    simulate_release(1, SEED, tmp_path / "one", plays_per_game=40, workers=1)
    one = pd.read_csv(tmp_path / "one" / "plays.csv")
    two = pd.read_csv(release / "plays.csv")
    pd.testing.assert_frame_equal(one, two[two.gameId == one.gameId[0]].reset_index(drop=True))
    simulate_release(1, SEED + 1, tmp_path / "other", plays_per_game=40, workers=1)
    assert (tmp_path / "other" / "tracking_week_1.csv").read_bytes() != (release / "tracking_week_1.csv").read_bytes()


def test_physically_plausible(tracking, anomalies):
    clean = tracking[_clean_mask(tracking, anomalies)]
    players = clean[clean.team != "football"]
    assert players.s.max() <= 12.5
    assert players.a.max() <= 15.0
    assert players.x.between(-5, 125).all() and players.y.between(-5, 58.3).all()
    p = players.sort_values(["gameId", "playId", "nflId", "frameId"])
    same = (p.nflId.shift() == p.nflId) & (p.playId.shift() == p.playId)
    step = np.hypot(p.x.diff(), p.y.diff())[same]
    assert np.allclose(step, p.dis[same], atol=0.015)
    # the speed the sensors report agrees with the displacement on average
    assert abs((step / 0.1).mean() - p.s[same].mean()) < 0.25


def test_events_in_order_per_pass_play(release, tracking):
    passes = pd.read_csv(release / "_truth" / "passes.csv")
    ev = tracking[tracking.event.notna()].drop_duplicates(["gameId", "playId", "frameId", "event"])
    first = ev.groupby(["gameId", "playId", "event"]).frameId.min().unstack()
    outcomes = ["pass_outcome_caught", "pass_outcome_incomplete", "pass_outcome_interception"]
    outcome = first.reindex(columns=outcomes).min(axis=1)
    for r in passes.itertuples():
        f = first.loc[(r.gameId, r.playId)]
        assert f["line_set"] < f["ball_snap"] < f["pass_forward"] < f["pass_arrived"] < outcome[(r.gameId, r.playId)]
        assert f["ball_snap"] == r.snapFrameId and f["pass_forward"] == r.throwFrameId
        assert f["pass_arrived"] == r.arrivalFrameId
        assert 1.5 <= (r.throwFrameId - r.snapFrameId) / 10 <= 4.5


def test_outcome_follows_separation(tmp_path):
    simulate_release(4, 3, tmp_path, plays_per_game=90, workers=2, anomalies=False)
    p = pd.read_csv(tmp_path / "_truth" / "passes.csv")
    assert len(p) > 250
    done = p.passResult.eq("C")
    open_rate = done[p.separationYd > 3].mean()
    tight_rate = done[p.separationYd < 1].mean()
    assert open_rate > tight_rate + 0.15, (open_rate, tight_rate)
    assert 0.5 < done.mean() < 0.8


def test_anomalies_recorded_match_rows(release, tmp_path, anomalies):
    simulate_release(2, SEED, tmp_path, plays_per_game=40, workers=1, anomalies=False)
    clean = pd.read_csv(tmp_path / "tracking_week_1.csv")
    dirty = pd.read_csv(release / "tracking_week_1.csv")
    key = ["gameId", "playId", "nflId", "frameId"]
    assert 0.0001 <= len(anomalies) / len(clean) <= 0.0006
    assert set(anomalies.kind) == {"duplicate", "off_field", "teleport", "speed_spike", "missing_frame"}
    dups = dirty[dirty.duplicated(key, keep=False)].drop_duplicates(key)
    a = anomalies.set_index(key)
    assert set(map(tuple, dups[key].to_numpy())) == set(a[a.kind == "duplicate"].index)
    missing = clean.merge(dirty[key].drop_duplicates(), on=key, how="left", indicator=True)
    missing = missing[missing._merge == "left_only"]
    assert set(map(tuple, missing[key].to_numpy())) == set(a[a.kind == "missing_frame"].index)
    d = dirty.drop_duplicates(key).merge(clean, on=key, suffixes=("", "_c"))
    changed = d[(d.x != d.x_c) | (d.y != d.y_c) | (d.s != d.s_c)]
    assert set(map(tuple, changed[key].to_numpy())) == set(
        a[a.kind.isin(["off_field", "teleport", "speed_spike"])].index)
    off = d.set_index(key).loc[list(a[a.kind == "off_field"].index)]
    assert ((off.x < -5) | (off.x > 125) | (off.y < -5) | (off.y > 58.3)).all()
    assert (d.set_index(key).loc[list(a[a.kind == "speed_spike"].index)].s > 12.5).all()
    # everything else is byte for byte the same rows
    assert len(dirty) == len(clean) + (a.kind == "duplicate").sum() - (a.kind == "missing_frame").sum()


@pytest.mark.real_data
def test_compare_against_real(release):
    if not (SHARED_DATA / "bdb2019").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"real data missing at {SHARED_DATA}")
        pytest.skip(f"real data missing at {SHARED_DATA}")
    from ngs.simulate.compare import compare, markdown

    res = compare(release, SHARED_DATA)
    assert {"sim", "bdb2019", "highlights"} <= set(res)
    assert "| WR |" in markdown(res)
    for src in ("sim", "bdb2019"):
        assert 1.0 < res[src]["separation"]["p50"] < 6.0
        assert 6.5 < res[src]["speed"]["WR"]["p90"] < 9.0
