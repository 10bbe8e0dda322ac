"""`ngs build` end to end: real releases of every vintage and a simulated one, row accounting, the
cleaning rules against the simulator's injected anomalies, pass-event inference against its truth, and
the atomic swap that leaves the previous warehouse untouched when a build fails."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import require_shared_data

from ngs.build import build
from ngs.errors import BuildError, IngestError

# The foundation only (staging, intermediate, core marts, their tests): the model domains have their own.
FOUNDATION = "+path:models/marts/core"


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def real_warehouse(tmp_path_factory, dbt_isolation) -> Path:
    folders = [
        require_shared_data("bdb2019"),
        require_shared_data("bdb2023"),
        require_shared_data("ngs_highlights"),
    ]
    # two weeks of the 2026 outputs keep the test short; the loader treats all 14 the same way
    out = tmp_path_factory.mktemp("bdb2026")
    for week in ("01", "02"):
        src = require_shared_data("bdb2026", f"output_2023_w{week}.csv")
        (out / src.name).symlink_to(src)
    warehouse = tmp_path_factory.mktemp("wh") / "real.duckdb"
    build([*folders, out], warehouse, quiet=True, select=FOUNDATION)
    return warehouse


@pytest.fixture(scope="module")
def sim_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "release"
    subprocess.run(
        [sys.executable, "-m", "ngs.cli", "simulate", "--games", "1", "--seed", "11", "--out", str(out),
         "--plays-per-game", "60"],
        check=True, capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def sim_warehouse(sim_release, tmp_path_factory, dbt_isolation) -> Path:
    warehouse = tmp_path_factory.mktemp("simwh") / "sim.duckdb"
    build([sim_release], warehouse, quiet=True, select=FOUNDATION)
    return warehouse


@pytest.mark.real_data
@pytest.mark.slow
def test_every_real_file_is_accounted_for(real_warehouse):
    acc = _query(real_warehouse, "select * from marts.rpt_row_accounting")
    assert set(acc["vintage"]) == {"bdb2019", "bdb_weekly", "ngs_highlights", "bdb2026"}
    assert acc["is_balanced"].all()
    assert (acc["raw_rows"] == acc["clean_rows"] + acc["quarantined_rows"]).all()
    by_vintage = acc.groupby("vintage")["raw_rows"].sum()
    assert by_vintage["bdb2019"] == 316_025
    assert by_vintage["ngs_highlights"] == 4_104_719
    assert by_vintage["bdb_weekly"] == 6_049
    assert by_vintage["bdb2026"] == 32_088 + 32_180


@pytest.mark.real_data
@pytest.mark.slow
def test_real_anomalies_are_quarantined_with_reasons(real_warehouse):
    q = _query(real_warehouse, "select source, rule, count(*) as n from marts.fct_tracking_quarantine group by all")
    n = {(r.source, r.rule): r.n for r in q.itertuples()}
    # the data README: 22,912 highlight player rows repeat another row's key (the ball's repeats add more)
    assert n[("ngs_highlights", "duplicate_key")] >= 22_912
    # the 2019 game: 27 player rows imply more than 12.5 yd/s
    assert n.get(("bdb2019", "teleport"), 0) + n.get(("bdb2019", "implied_speed"), 0) == 27
    assert n[("bdb2019", "off_field")] > 0
    # the 2026 outputs contain teleports (up to 28.9 yd/s)
    assert n.get(("bdb2026", "teleport"), 0) + n.get(("bdb2026", "implied_speed"), 0) > 0
    fastest = _query(real_warehouse, "select max(speed_yps) from marts.fct_tracking where not is_ball").iloc[0, 0]
    assert fastest <= 12.5


@pytest.mark.real_data
@pytest.mark.slow
def test_plays_are_standardised_towards_plus_x(real_warehouse):
    passes = _query(real_warehouse, """
        select source, ball_arrival_x_std - line_of_scrimmage_x_std as depth
        from marts.fct_pass_events
        where source in ('bdb2019', 'ngs_highlights') and ball_arrival_x_std is not null
    """)
    # passes travel downfield: after standardisation the ball lands beyond the line of scrimmage
    for source, group in passes.groupby("source"):
        assert (group["depth"] > 0).mean() > 0.8, source
    directions = _query(real_warehouse, "select distinct source, direction_method from marts.fct_plays "
                                        "where has_tracking")
    assert ("bdb2019", "inferred_lineup") in set(map(tuple, directions.values))


@pytest.mark.real_data
@pytest.mark.slow
def test_real_pass_events(real_warehouse):
    pe = _query(real_warehouse, "select * from marts.fct_pass_events")
    game_2019 = pe[pe["source"] == "bdb2019"]
    assert len(game_2019) == 72  # every 2019 play with a pass_forward event
    assert game_2019["target_nfl_id"].notna().mean() > 0.95
    assert set(game_2019["pass_result"].dropna()) <= {"C", "I", "IN", "S", "R"}
    highlights = pe[pe["source"] == "ngs_highlights"]
    assert len(highlights) > 350 and highlights["is_complete"].notna().mean() > 0.9
    outputs = pe[pe["source"] == "bdb2026"]
    assert len(outputs) > 0 and (outputs["throw_method"] == "bdb2026_output_start").all()


@pytest.mark.slow
def test_sim_anomalies_are_all_caught(sim_warehouse, sim_release):
    truth = pd.read_csv(sim_release / "_truth" / "anomalies.csv")
    q = _query(sim_warehouse, "select game_id, play_id, nfl_id, frame_id, all_rules "
                              "from marts.fct_tracking_quarantine")
    caught: dict[tuple, set[str]] = {}
    for r in q.itertuples():
        caught.setdefault((r.game_id, r.play_id, r.nfl_id, r.frame_id), set()).update(r.all_rules.split(","))
    expected_rule = {"duplicate": "duplicate_key", "off_field": "off_field", "teleport": "teleport",
                     "speed_spike": "reported_speed"}
    for kind, rule in expected_rule.items():
        rows = truth[truth["kind"] == kind]
        if rows.empty:
            continue
        hit = [rule in caught.get((r.gameId, r.playId, r.nflId, r.frameId), set()) for r in rows.itertuples()]
        assert all(hit), f"{kind}: {sum(hit)}/{len(hit)} injected rows quarantined"
    gaps = truth[truth["kind"] == "missing_frame"]
    if not gaps.empty:
        quality = _query(sim_warehouse, "select sum(missing_frames) from marts.fct_play_quality").iloc[0, 0]
        assert quality >= len(gaps)


@pytest.mark.slow
def test_pass_event_inference_matches_simulator_truth(sim_warehouse, sim_release):
    truth = pd.read_csv(sim_release / "_truth" / "passes.csv")
    pe = _query(sim_warehouse, "select * from marts.fct_pass_events")
    merged = truth.merge(pe, left_on=["gameId", "playId"], right_on=["game_id", "play_id"])
    assert len(merged) == len(truth)
    assert (merged["passer_method"] == "metadata").all()  # pffScoutingData names the passer
    assert (merged["passerNflId"] == merged["passer_nfl_id"]).all()
    assert (merged["targetNflId"] == merged["target_nfl_id"]).mean() > 0.9
    assert (merged["throwFrameId"] == merged["throw_frame_id"]).all()
    assert (merged["passResult"] == merged["pass_result"]).all()


@pytest.mark.slow
def test_failed_build_leaves_previous_warehouse_untouched(sim_warehouse, tmp_path, dbt_isolation):
    before = hashlib.sha256(sim_warehouse.read_bytes()).hexdigest()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "tracking_week_1.csv").write_text("gameId,playId,nflId,frameId,x,y\n1,1,5,1,10.0,oops\n")
    with pytest.raises(IngestError, match=r"tracking_week_1.csv \(line 2\), column 'y'"):
        build([bad], sim_warehouse, quiet=True, select=FOUNDATION)
    assert hashlib.sha256(sim_warehouse.read_bytes()).hexdigest() == before
    assert not list(sim_warehouse.parent.glob(f".{sim_warehouse.name}.building-*"))


@pytest.mark.slow
def test_failed_dbt_test_leaves_previous_warehouse_untouched(sim_warehouse, tmp_path, dbt_isolation):
    """Files that load but contradict each other (the scouting file names a passer who is nowhere in the
    tracking or the players file) fail a data test: the build fails, the warehouse does not change."""
    before = hashlib.sha256(sim_warehouse.read_bytes()).hexdigest()
    bad = tmp_path / "inconsistent"
    bad.mkdir()
    header = "gameId,playId,nflId,frameId,time,jerseyNumber,team,playDirection,x,y,s,a,dis,o,dir,event\n"
    rows = []
    for f in range(1, 6):
        event = {2: "ball_snap", 4: "pass_forward"}.get(f, "")
        rows.append(f"2031090900,1,1,{f},,12,AAA,right,{30 + f * 0.1},20,1,0,0.1,90,90,{event}")
        rows.append(f"2031090900,1,,{f},,,football,right,{30 + f * 0.1},21,1,0,0.1,,,{event}")
    (bad / "tracking_week_1.csv").write_text(header + "\n".join(rows) + "\n")
    (bad / "pffScoutingData.csv").write_text("gameId,playId,nflId,pff_role\n2031090900,1,999,Pass\n")
    with pytest.raises(BuildError, match="previous warehouse was left untouched"):
        build([bad], sim_warehouse, quiet=True, select=FOUNDATION)
    assert hashlib.sha256(sim_warehouse.read_bytes()).hexdigest() == before
    assert not list(sim_warehouse.parent.glob(f".{sim_warehouse.name}.building-*"))


def test_warehouse_named_like_a_schema_is_refused(tmp_path):
    with pytest.raises(BuildError, match="may not be named after one of its schemas"):
        build([tmp_path], tmp_path / "marts.duckdb", quiet=True)


@pytest.mark.real_data
@pytest.mark.slow
def test_bdb2021_week_file_alone_builds_every_model(tmp_path, dbt_isolation, monkeypatch):
    """One real game of a 2021 week file, no plays.csv, every model trained: its 68 throws are passes (no play
    table says who had the ball, so no side and no target is inferred: NULL, not guessed), the
    completion model skips a one-game dataset, and the ghosting model, with no game before the held-out
    weeks to learn from, is not trained (no artefact) while its scoring tables stay empty instead of failing."""
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    warehouse = tmp_path / "b21.duckdb"
    build([require_shared_data("bdb2021")], warehouse, quiet=True)
    passes = _query(warehouse, "select * from marts.fct_pass_events")
    assert len(passes) == 68 and passes["throw_frame_id"].notna().all()
    assert _query(warehouse, "select count(*) from marts.fct_ghost_trajectories").iloc[0, 0] == 0
    assert not (tmp_path / "artifacts" / "ghosting").exists() or not any((tmp_path / "artifacts" / "ghosting").iterdir())
