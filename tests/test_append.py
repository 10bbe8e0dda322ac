"""`ngs build --append --no-train` scores only the new or changed passes (ngs.incremental) and leaves a
warehouse equal to a full rebuild of the same data with the same stored artefacts: every relation of
schema marts compared (row sets equal, floats within 1e-9), the per-pass models' markers
(``<model>__scored``) included. Small scale: 3 simulated games built and trained once for the module (tests
append to copies), 1 more game appended, vs all 4 built at once with --no-train."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import EnvVars

from ngs import bench
from ngs.build import build

pytestmark = pytest.mark.timeout(1500)

SEED = 11
SCORED = re.compile(r"ngs incremental: (\w+): scored (\d+) of (\d+) passes \((\w[\w ]*);")
NO_TESTS = ["resource_type:test", "resource_type:unit_test"]
PER_PASS = ("fct_completion_probability", "fct_ghost_trajectories", "fct_closing_scores", "fct_target_options")


def _marts(warehouse: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1").fetchall()]
        return {n: con.execute(f'select * from marts."{n}"').df() for n in names}
    finally:
        con.close()


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in an order that does not depend on how they were written: sorted by every column (floats
    rounded for the sort only, so values within the tolerance sort alike)."""
    frame = frame[sorted(frame.columns)]
    keys = pd.DataFrame({c: (frame[c].round(6) if pd.api.types.is_float_dtype(frame[c]) else frame[c].astype(str))
                         for c in frame.columns})
    order = keys.sort_values(list(keys.columns), kind="mergesort").index
    return frame.loc[order].reset_index(drop=True)


def _assert_same(name: str, got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert sorted(got.columns) == sorted(want.columns), f"{name}: columns differ"
    assert len(got) == len(want), f"{name}: {len(got)} rows appended vs {len(want)} rebuilt"
    got, want = _canonical(got), _canonical(want)
    for c in got.columns:
        a, b = got[c], want[c]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            same = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-9)
            assert same.all(), f"{name}.{c}: {int((~same).sum())} values differ by more than 1e-9"
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), f"{name}.{c}: values differ"


def _scored(out: str) -> dict[str, tuple[int, int, str]]:
    return {m[1]: (int(m[2]), int(m[3]), m[4]) for m in SCORED.finditer(out)}


@pytest.fixture(scope="module")
def releases(tmp_path_factory, dbt_isolation, monkeypatch_module) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("append")
    first = root / "first3"
    subprocess.run([sys.executable, "-m", "ngs.cli", "simulate", "--games", "3", "--seed", str(SEED), "--out",
                    str(first), "--plays-per-game", "40"], check=True, capture_output=True, timeout=600)
    monkeypatch_module.setattr(bench, "BENCH_DIR", root / "bench")
    return first, bench.next_games(3, 1, seed=SEED)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def base(releases, tmp_path_factory) -> tuple[Path, Path, dict[str, tuple[int, int, str]]]:
    """The first 3 games built and trained once for the module: the warehouse (tests append to copies), its
    artefacts (read only; a test that retrains copies them) and what the full build scored."""
    first, _ = releases
    root = tmp_path_factory.mktemp("base")
    wh, artifacts = root / "first.duckdb", root / "artifacts"
    with EnvVars(NGS_ARTIFACTS_DIR=str(artifacts)):
        out = _logged([first], wh)                        # trains: the stored artefacts every build uses
    return wh, artifacts, _scored(out)


def _logged(data: list[Path], warehouse: Path, **kwargs) -> str:
    """``build(...)`` with the dbt child's output captured at file descriptor 1 (a module fixture has no
    capfd): the text, which holds the models' ``ngs incremental:`` lines."""
    with tempfile.TemporaryFile(mode="w+") as f:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(f.fileno(), 1)
        try:
            build(data, warehouse, quiet=False, **kwargs)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        f.seek(0)
        return f.read()


def _without_rows(warehouse: Path) -> dict[str, int]:
    """Per per-pass model: passes its marker holds that have no rows in its table (scored, nothing written)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {m: con.execute(f'select count(*) from marts."{m}__scored" as s anti join marts."{m}" as t '
                               "using (game_id, play_id)").fetchall()[0][0] for m in PER_PASS}
    finally:
        con.close()


def test_append_scores_only_new_passes_and_equals_a_full_rebuild(releases, base, tmp_path):
    first, nxt = releases
    base_wh, artifacts, full_first = base
    assert set(full_first) == set(PER_PASS)
    assert all(how == "full build" and n == m for n, m, how in full_first.values())
    # the full build recorded every pass it scored, rows or not; some passes give a model no rows
    empty = _without_rows(base_wh)
    assert sum(empty.values()) > 0, f"no pass without rows to test the marker with: {empty}"
    with EnvVars(NGS_ARTIFACTS_DIR=str(artifacts)):
        appended = tmp_path / "appended.duckdb"
        shutil.copyfile(base_wh, appended)
        scored = _scored(_logged([nxt], appended, train=False, append=True))
        rebuilt = tmp_path / "rebuilt.duckdb"
        # the reference rebuild runs the models only: the data tests ran on the append, and its rows are compared
        build([first, nxt], rebuilt, train=False, quiet=True, exclude=NO_TESTS)

    # the append scored exactly the new game's passes: not the season's, and not again the passes that gave
    # a model no rows (the marker <model>__scored records them)
    assert set(scored) == set(PER_PASS)
    for name, (n, total, how) in scored.items():
        assert how == "incremental", name
        old_passes = full_first[name][1]
        assert 0 < n == total - old_passes, f"{name}: the append scored {n} of {total} passes ({old_passes} old)"

    # every mart of the appended warehouse (the markers too) equals the full rebuild's
    got, want = _marts(appended), _marts(rebuilt)
    assert sorted(got) == sorted(want)
    assert {f"{m}__scored" for m in PER_PASS} <= set(got)
    assert "fct_completion_cv_predictions" not in got, "the old training table was dropped (not rebuilt)"
    for name in want:
        _assert_same(name, got[name], want[name])
    for name, (_, total, _) in scored.items():
        assert len(got[f"{name}__scored"]) == total, f"{name}: the marker holds every pass of the inputs"


def test_append_after_a_retrain_uses_latest_and_rescores_everything(releases, base, tmp_path):
    """LATEST moved after the warehouse was built (a retrain elsewhere): the append scores with LATEST, not
    with the version of the training table the old build left in the warehouse (it is dropped), and
    rescores every pass of the models whose version changed (every fingerprint holds the version), those
    that gave no rows included."""
    first, nxt = releases
    base_wh, base_artifacts, _ = base
    artifacts = tmp_path / "artifacts"
    shutil.copytree(base_artifacts, artifacts)             # the retrain must not move the module's LATEST
    with EnvVars(NGS_ARTIFACTS_DIR=str(artifacts)):
        wh = tmp_path / "w.duckdb"
        shutil.copyfile(base_wh, wh)
        old = _versions(wh)
        # a retrain on other data (only the training models and what they read): new versions, LATEST moves
        build([first, nxt], tmp_path / "other.duckdb", select="+tag:train", exclude=NO_TESTS, quiet=True)
        latest = _latest(artifacts)
        assert latest[0] != old[0], "the completion model was retrained on other passes"
        scored = _scored(_logged([nxt], wh, train=False, append=True))
    assert _versions(wh) == latest
    # the completion version is in the fingerprints of the completion and decisions rows; the ghosting
    # version (the new game may be a held-out one: then the same training games, the same version) in the
    # ghosting rows'
    ghosting_moved = latest[1] != old[1]
    for name in PER_PASS:
        n, total, how = scored[name]
        everything = name in ("fct_completion_probability", "fct_target_options") or ghosting_moved
        assert how == "incremental" and (n == total) == everything, f"{name}: {n} of {total} passes rescored"


def _latest(artifacts: Path) -> tuple[set, set]:
    """The versions LATEST names (completion, ghosting), shaped like :func:`_versions`."""
    return tuple({((artifacts / domain / "LATEST").read_text().strip(),)} for domain in ("completion", "ghosting"))


def _versions(warehouse: Path) -> tuple[set, set]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return (set(con.execute("select distinct model_version from marts.fct_completion_probability").fetchall()),
                set(con.execute("select distinct model_version from marts.fct_ghost_trajectories").fetchall()))
    finally:
        con.close()


# ------------------------------------------------------------------------------------------ unit level
def test_closing_draws_do_not_depend_on_the_other_passes():
    """The randomised condition of a pass is the same scored alone or with every other pass."""
    from test_ghosting import synthetic_tracks

    from ngs.ghosting import closing, data

    tr = data.infer_targets_full(data.normalise_tracks(synthetic_tracks()))
    _, together = closing.closing_experiment(tr, None, seed=3)
    plays = sorted(tr["play_id"].unique())
    alone = pd.concat([closing.closing_experiment(tr[tr["play_id"] == p], None, seed=3)[1] for p in plays[:5]])
    key = ["game_id", "play_id", "nfl_id", "condition"]
    got = alone.merge(together, on=key, suffixes=("", "_all"))
    assert len(got) == len(alone) > 0
    assert got["randomised"].eq(got["randomised_all"]).all()
    assert np.allclose(got["score"], got["score_all"], rtol=0, atol=1e-12)
    rnd = together[together["condition"] == "randomised_25pct"]
    assert 0.05 < rnd["randomised"].mean() < 0.6                   # about a quarter drawn
    _, other_seed = closing.closing_experiment(tr, None, seed=4)
    assert not other_seed[other_seed["condition"] == "randomised_25pct"]["randomised"].equals(rnd["randomised"])


def test_plan_scores_new_and_changed_passes_and_removes_stale_rows():
    from ngs import incremental

    con = duckdb.connect()
    con.execute("create table t as select * from (values (1, 1, 'a', 0.5), (1, 2, 'b', 0.1), (1, 2, 'b', 0.2), "
                "(2, 7, 'c', 0.3)) v(game_id, play_id, scoring_fingerprint, value)")
    inc = incremental.Increment("t", con, "t")
    current = pd.DataFrame({"game_id": [1, 1, 3], "play_id": [1, 2, 1],
                            "scoring_fingerprint": ["a", "B", "n"]})   # same, changed, new; (2, 7) gone
    todo = incremental.plan(inc, current)
    assert sorted(map(tuple, todo[["game_id", "play_id"]].to_numpy().tolist())) == [(1, 2), (3, 1)]
    assert con.execute("select game_id, play_id from t").fetchall() == [(1, 1)]   # changed and gone deleted
    assert len(incremental.plan(incremental.FULL, current)) == 3                  # a full build scores all
    # a table of an older build, without fingerprints: every pass rescored, its rows replaced
    con.execute("create table old as select 1 as game_id, 1 as play_id, 0.5 as value")
    todo = incremental.plan(incremental.Increment("old", con, "old"), current)
    assert len(todo) == 3 and con.execute("select count(*) from old").fetchone() == (0,)
    assert incremental.COLUMN in [c[0] for c in con.sql("select * from old").description]


def test_marker_keeps_passes_scored_without_rows():
    """A pass that gave the model no rows is recorded in ``<model>__scored`` and not scored again while its
    fingerprint holds; a full build rewrites the marker; a warehouse without one falls back to the rows."""
    from ngs import incremental

    class This:  # dbt's `this`
        database, schema, identifier = "db", "marts", "t"

        def __repr__(self):
            return '"db"."marts"."t"'

    con = duckdb.connect()
    con.execute("attach ':memory:' as db")
    con.execute("create schema db.marts")
    current = pd.DataFrame({"game_id": [1, 1, 2], "play_id": [1, 2, 1], "scoring_fingerprint": ["a", "b", "c"]})
    # a full build: every pass scored, (1, 2) and (2, 1) gave no rows; the marker holds all three
    assert len(incremental.plan(incremental.Increment(None, con, "t", This()), current)) == 3
    con.execute("create table db.marts.t as select 1 as game_id, 1 as play_id, 'a' as scoring_fingerprint")
    assert incremental.Increment(None, con, "t", This()).marker == '"db"."marts"."t__scored"'
    marker = 'db.marts."t__scored"'
    assert con.execute(f"select count(*) from {marker}").fetchall() == [(3,)]
    inc = incremental.Increment(This(), con, "t", This())
    nxt = pd.concat([current, pd.DataFrame({"game_id": [3], "play_id": [1], "scoring_fingerprint": ["n"]})])
    todo = incremental.plan(inc, nxt)
    assert todo[["game_id", "play_id"]].values.tolist() == [[3, 1]]          # only the new pass
    assert con.execute(f"select count(*) from {marker}").fetchall() == [(4,)]
    # a pass without rows whose inputs changed is scored again; one gone from the inputs leaves the marker
    changed = nxt.assign(scoring_fingerprint=["a", "B", "c", "n"]).iloc[[0, 1, 3]]
    todo = incremental.plan(inc, changed)
    assert todo[["game_id", "play_id"]].values.tolist() == [[1, 2]]
    assert sorted(con.execute(f"select game_id, play_id, scoring_fingerprint from {marker}").fetchall()) == [
        (1, 1, "a"), (1, 2, "B"), (3, 1, "n")]
    # the rows win over a marker that disagrees with them: their pass is rescored and its rows replaced
    con.execute(f"update {marker} set scoring_fingerprint = 'z' where game_id = 1 and play_id = 1")
    con.execute("update db.marts.t set scoring_fingerprint = 'old'")
    todo = incremental.plan(inc, changed)
    assert todo[["game_id", "play_id"]].values.tolist() == [[1, 1]]
    assert con.execute("select count(*) from db.marts.t").fetchall() == [(0,)]
    # no marker (a warehouse of an older build): passes without rows are scored, and the marker is written
    con.execute(f"drop table {marker}")
    con.execute("insert into db.marts.t values (1, 1, 'a')")
    todo = incremental.plan(inc, changed)
    assert todo[["game_id", "play_id"]].values.tolist() == [[1, 2], [3, 1]]
    assert con.execute(f"select count(*) from {marker}").fetchall() == [(3,)]
    assert len(incremental.plan(inc, changed)) == 0                       # and holds on the next run


def test_fingerprints_follow_rows_context_and_labels():
    from ngs import incremental

    con = duckdb.connect()
    rel = con.sql("select * from (values (1, 1, 2.0), (1, 1, 3.0), (1, 2, 4.0)) v(game_id, play_id, x)")
    swapped = con.sql("select * from (values (1, 2, 4.0), (1, 1, 3.0), (1, 1, 2.0)) v(game_id, play_id, x)")
    changed = con.sql("select * from (values (1, 1, 2.0), (1, 1, 3.5), (1, 2, 4.0)) v(game_id, play_id, x)")

    def fp(r, context="v1", labels=None):
        h = incremental.play_hashes(r).sort_values(["game_id", "play_id"]).reset_index(drop=True)
        return incremental.fingerprints(h, context, labels)[incremental.COLUMN].tolist()

    base = fp(rel)
    assert fp(swapped) == base                                   # row order does not matter
    assert fp(changed)[0] != base[0] and fp(changed)[1] == base[1]
    assert fp(rel, "v2") != base and all(a != b for a, b in zip(fp(rel, "v2"), base, strict=True))
    assert fp(rel, labels=pd.Series(["train", "test"]))[1] != base[1]
