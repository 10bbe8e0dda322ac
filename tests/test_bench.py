"""`ngs bench` and incremental appends, for correctness only (never timed assertions): the bench's JSON
on one simulated game, and `ngs build --append` of a second game (in batches) equal to a build of both."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import duckdb
import pytest

from ngs.build import build

FOUNDATION = "+path:models/marts/core"
NO_TESTS = ["resource_type:test", "resource_type:unit_test"]


@pytest.fixture(scope="module")
def bench_mod(tmp_path_factory, dbt_isolation):
    mp = pytest.MonkeyPatch()
    mp.setenv("NGS_BENCH_DIR", str(tmp_path_factory.mktemp("bench")))
    import ngs.bench

    mod = importlib.reload(ngs.bench)
    yield mod
    mp.undo()
    importlib.reload(ngs.bench)


def _counts(warehouse: Path, tracking_only: bool = False) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        tracking = {
            "fct_tracking": one("select count(*) from marts.fct_tracking"),
            "quarantine": one("select count(*) from marts.fct_tracking_quarantine"),
            "quarantine_by_rule": dict(con.execute(
                "select rule, count(*) from marts.fct_tracking_quarantine group by rule").fetchall()),
            "tracking_hash": one("select sum(hash(game_id, play_id, nfl_id, frame_id, x_std, vx, ax)) "
                                 "from marts.fct_tracking"),
        }
        if tracking_only:
            return tracking
        return {
            **tracking,
            "plays": one("select count(*) from marts.fct_play_quality"),
            "pass_events": one("select count(*) from marts.fct_pass_events"),
            "raw_rows": one("select sum(raw_rows) from marts.rpt_row_accounting"),
            "files": one("select count(*) from marts.rpt_row_accounting"),
            "balanced": one("select bool_and(is_balanced) from marts.rpt_row_accounting"),
        }


def test_batched_build_equals_one_statement(bench_mod, tmp_path, monkeypatch):
    """int_tracking_flagged built in batches of a few games (materialized batched_by_game) holds exactly the
    rows of a build in one statement; an append in batches too: game 0, then game 1 appended (the incremental
    models recompute only its plays) holds the marts of games 0-1 built at once. (Every mart of an append with
    scoring against a full rebuild: tests/test_append.py.)"""
    both = bench_mod.release(2)
    one_statement = tmp_path / "one.duckdb"
    build([both], one_statement, train=False, quiet=True, select=FOUNDATION)
    with duckdb.connect(str(one_statement), read_only=True) as con:
        rows_per_game = con.execute("select count(*) from intermediate.int_tracking_flagged group by game_id").fetchall()
    monkeypatch.setenv("NGS_BATCH_ROWS", str(min(n for (n,) in rows_per_game) // 3))  # a batch per game
    # the data and unit tests ran on the first build and run on the append; the other two builds are compared
    batched = tmp_path / "batched.duckdb"
    build([both], batched, train=False, quiet=True, select=FOUNDATION, exclude=NO_TESTS)
    appended = tmp_path / "appended.duckdb"
    build([bench_mod.release(1)], appended, train=False, quiet=True, select=FOUNDATION, exclude=NO_TESTS)
    before = _counts(appended)
    build([bench_mod.next_games(1, 1)], appended, train=False, quiet=True, select=FOUNDATION, append=True)

    assert _counts(batched) == _counts(one_statement)
    after, expected = _counts(appended), _counts(one_statement)
    assert before["fct_tracking"] < after["fct_tracking"]
    assert after["balanced"] and expected["balanced"]
    assert after["files"] == 2 * before["files"]  # the appended batch's tracking file is accounted for too
    for key in ("fct_tracking", "quarantine", "quarantine_by_rule", "plays", "pass_events", "raw_rows",
                "tracking_hash"):
        assert after[key] == expected[key], key
    # the appended game comes from another file: compare what does not name the file
    cols = ("source, game_id, play_id, nfl_id, frame_id, x_std, y_std, vx, vy, ax, ay, frames_missing_before, "
            "quarantine_rule, quarantine_measured_value, all_rules")
    with duckdb.connect() as con:
        for name, path in (("one", one_statement), ("batched", batched), ("appended", appended)):
            con.execute(f"attach '{path}' as {name} (read_only)")
        flagged = "{}.intermediate.int_tracking_flagged"
        n = con.execute(f"select count(*) from {flagged.format('one')}").fetchone()[0]
        assert n == sum(n for (n,) in rows_per_game)
        same_files = f"source_file, source_row, {cols}"
        for other, compared in (("batched", same_files), ("appended", cols)):
            for a, b in (("one", other), (other, "one")):
                diff = con.execute(f"select count(*) from (select {compared} from {flagged.format(a)} "
                                   f"except all select {compared} from {flagged.format(b)})").fetchone()[0]
                assert diff == 0, (a, b)


def test_bench_json_on_one_game(bench_mod):
    """The bench's figures are those of the rows it built: counts equal the warehouses' count(*), the floor
    query writes every tracking row, and each printed ratio is the ratio of the printed figures."""
    result = bench_mod.bench(1, select=FOUNDATION)
    assert result["games"] == 1 and result["selected"] == FOUNDATION

    built = _counts(bench_mod.BENCH_DIR / "wh" / "g1.duckdb")
    assert result["balanced"] and built["balanced"]
    assert result["rows"] == built["raw_rows"] == built["fct_tracking"] + built["quarantine"]
    assert result["clean_rows"] == built["fct_tracking"]
    assert result["pandas_clean_rows"] == result["clean_rows"]  # the pandas pipeline cleans the same way
    with duckdb.connect() as con:  # what the simulator wrote: every data line of the tracking CSVs
        csv_rows = con.execute(f"select count(*) from read_csv('{bench_mod.release(1)}/tracking_week_*.csv', "
                               "header = true, all_varchar = true)").fetchone()[0]
    assert result["rows"] == csv_rows > 100_000

    # the floor query reads and writes every row the warehouse accounts for
    assert result["floor_rows"] == built["fct_tracking"] + built["quarantine"]
    # the same-work build holds the same clean and quarantined rows, and the pass features
    same = _counts(bench_mod.BENCH_DIR / "wh" / "g1_same_work.duckdb", tracking_only=True)
    assert result["same_work_rows"] == same["fct_tracking"] + same["quarantine"] == result["rows"]
    assert same["tracking_hash"] == built["tracking_hash"] and same["quarantine_by_rule"] == built["quarantine_by_rule"]
    with duckdb.connect(str(bench_mod.BENCH_DIR / "wh" / "g1_same_work.duckdb"), read_only=True) as con:
        passes = con.execute("select count(*) from marts.fct_pass_features").fetchone()[0]
    assert result["same_work_pass_features"] == passes > 0

    # each ratio is the ratio of the printed figures (rounded to 2 places)
    stages = result["stages"]
    assert result["vs_floor"] == pytest.approx((stages["ingest"] + stages["clean"]) / result["floor_s"], abs=0.011)
    assert result["same_work_vs_floor"] == pytest.approx(result["same_work_s"] / result["floor_s"], abs=0.011)
    assert result["speedup_vs_pandas"] == pytest.approx(result["pandas_s"] / result["build_s"], abs=0.011)
    assert result["same_work_speedup_vs_pandas"] == pytest.approx(result["pandas_s"] / result["same_work_s"],
                                                                  abs=0.011)
    assert result["rows_per_s"] == pytest.approx(result["rows"] / result["build_s"], rel=0.01)
    assert result["same_work_cpu_speedup_vs_pandas"] == pytest.approx(
        result["pandas_cpu_s"] / result["same_work_cpu_s"], abs=0.011)
    assert result["same_work_cpu_vs_floor"] == pytest.approx(result["same_work_cpu_s"] / result["floor_cpu_s"],
                                                             abs=0.011)
    for run in ("build", "pandas", "same_work", "floor"):  # CPU of the child's process tree: some, not more
        cpu, wall = result[f"{run}_cpu_s"], result[f"{run}_s"]  # than every core for the whole run
        assert 0 < cpu <= wall * (os.cpu_count() or 1) * 1.05, run
    # the stage seconds are parts of the build: none negative, their wall-clock parts within build_s
    assert all(v >= 0 for v in stages.values()) and {"ingest", "clean", "marts", "tests"} <= set(stages)
    assert stages["ingest"] + stages["dbt_overhead"] <= result["build_s"]
    assert 50 < result["peak_rss_mb"] < 64_000 and 50 < result["pandas_peak_rss_mb"] < 64_000


def test_ensure_artifacts_asks_each_store_for_latest(tmp_path, monkeypatch):
    """A model family counts as trained only when its store's LATEST names a complete version: a version
    folder without LATEST (an old store layout) or an empty root makes the bench train first."""
    import ngs.bench as bench

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    (tmp_path / "completion" / "cp-v1-0000000000").mkdir(parents=True)  # a version, but no LATEST
    ghost = tmp_path / "ghosting" / "ghost-v2-0000000000"
    ghost.mkdir(parents=True)
    for name in ("config.json", "model.pt"):
        (ghost / name).write_text("x")
    (tmp_path / "ghosting" / "LATEST").write_text("ghost-v2-0000000000\n")
    trained = []
    monkeypatch.setattr(bench, "release", lambda games, seed=bench.SEED: tmp_path / f"g{games}")
    monkeypatch.setattr(bench, "run_measured", lambda cmd, env: trained.append(cmd) or {})
    assert bench.ensure_artifacts({}) == ["completion"]
    assert len(trained) == 1 and "build" in trained[0]
