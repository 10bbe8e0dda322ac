"""`ngs bench` and incremental appends, for correctness only (never timed assertions): the bench's JSON
on one simulated game, and `ngs build --append` of a second game equal to a from-scratch build of both."""

from __future__ import annotations

import importlib
from pathlib import Path

import duckdb
import pytest

from ngs.build import build

FOUNDATION = "+path:models/marts/core"


@pytest.fixture(scope="module")
def bench_mod(tmp_path_factory, dbt_isolation):
    mp = pytest.MonkeyPatch()
    mp.setenv("NGS_BENCH_DIR", str(tmp_path_factory.mktemp("bench")))
    import ngs.bench

    mod = importlib.reload(ngs.bench)
    yield mod
    mp.undo()
    importlib.reload(ngs.bench)


def _counts(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "fct_tracking": one("select count(*) from marts.fct_tracking"),
            "quarantine": one("select count(*) from marts.fct_tracking_quarantine"),
            "quarantine_by_rule": dict(con.execute(
                "select rule, count(*) from marts.fct_tracking_quarantine group by rule").fetchall()),
            "plays": one("select count(*) from marts.fct_play_quality"),
            "pass_events": one("select count(*) from marts.fct_pass_events"),
            "raw_rows": one("select sum(raw_rows) from marts.rpt_row_accounting"),
            "files": one("select count(*) from marts.rpt_row_accounting"),
            "balanced": one("select bool_and(is_balanced) from marts.rpt_row_accounting"),
            "tracking_hash": one("select sum(hash(game_id, play_id, nfl_id, frame_id, x_std, vx, ax)) "
                                 "from marts.fct_tracking"),
        }


def test_append_equals_from_scratch(bench_mod, tmp_path):
    """Game 0, then game 1 appended (incremental models recompute only its plays) == games 0-1 at once."""
    both = bench_mod.release(2)
    first = bench_mod.release(1)
    second = bench_mod.next_games(1, 1)

    scratch = tmp_path / "scratch.duckdb"
    build([both], scratch, train=False, quiet=True, select=FOUNDATION)
    appended = tmp_path / "appended.duckdb"
    build([first], appended, train=False, quiet=True, select=FOUNDATION)
    before = _counts(appended)
    build([second], appended, train=False, quiet=True, select=FOUNDATION, append=True)
    after, expected = _counts(appended), _counts(scratch)

    assert before["fct_tracking"] < after["fct_tracking"]
    assert after["balanced"] and expected["balanced"]
    assert after["files"] == 2 * before["files"]  # the appended batch's tracking file is accounted for too
    for key in ("fct_tracking", "quarantine", "quarantine_by_rule", "plays", "pass_events", "raw_rows",
                "tracking_hash"):
        assert after[key] == expected[key], key


def test_batched_build_equals_one_statement(bench_mod, tmp_path, monkeypatch):
    """int_tracking_flagged built in batches of a few games (materialized batched_by_game) holds exactly the
    rows of a build in one statement; an append in batches too."""
    both = bench_mod.release(2)
    one_statement = tmp_path / "one.duckdb"
    build([both], one_statement, train=False, quiet=True, select=FOUNDATION)
    with duckdb.connect(str(one_statement), read_only=True) as con:
        rows_per_game = con.execute("select count(*) from intermediate.int_tracking_flagged group by game_id").fetchall()
    monkeypatch.setenv("NGS_BATCH_ROWS", str(min(n for (n,) in rows_per_game) // 3))  # a batch per game
    batched = tmp_path / "batched.duckdb"
    build([both], batched, train=False, quiet=True, select=FOUNDATION)
    appended = tmp_path / "appended.duckdb"
    build([bench_mod.release(1)], appended, train=False, quiet=True, select=FOUNDATION)
    build([bench_mod.next_games(1, 1)], appended, train=False, quiet=True, select=FOUNDATION, append=True)

    assert _counts(batched) == _counts(one_statement)
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
    result = bench_mod.bench(1, select=FOUNDATION)
    for key in ("games", "rows", "build_s", "peak_rss_mb", "stages", "pandas_s", "pandas_peak_rss_mb",
                "speedup_vs_pandas", "rows_per_s"):
        assert key in result, key
    assert result["games"] == 1
    assert result["rows"] > 100_000 and result["balanced"]
    assert result["clean_rows"] == result["pandas_clean_rows"]  # the pandas pipeline cleans the same way
    assert result["build_s"] > 0 and result["pandas_s"] > 0 and result["speedup_vs_pandas"] > 0
    assert 50 < result["peak_rss_mb"] < 64_000 and 50 < result["pandas_peak_rss_mb"] < 64_000
    assert {"ingest", "clean", "marts", "tests"} <= set(result["stages"])
    assert all(v >= 0 for v in result["stages"].values())
