"""`ngs build --append --no-train` scores only the new or changed passes (ngs.incremental) and leaves a
warehouse equal to a full rebuild of the same data with the same stored artefacts: every relation of
schema marts compared (row sets equal, floats within 1e-9). Small scale: 3 simulated games built and
trained, 1 more game appended, vs all 4 built at once with --no-train."""

from __future__ import annotations

import re
import subprocess
import sys
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


def test_append_scores_only_new_passes_and_equals_a_full_rebuild(releases, tmp_path, capfd):
    first, nxt = releases
    with EnvVars(NGS_ARTIFACTS_DIR=str(tmp_path / "artifacts")):
        appended = tmp_path / "appended.duckdb"
        build([first], appended, quiet=False)           # trains: the stored artefacts both builds use
        full_first = _scored(capfd.readouterr().out)
        assert set(full_first) == set(PER_PASS)
        assert all(how == "full build" and n == m for n, m, how in full_first.values())

        build([nxt], appended, train=False, append=True, quiet=False)
        scored = _scored(capfd.readouterr().out)
        rebuilt = tmp_path / "rebuilt.duckdb"
        build([first, nxt], rebuilt, train=False, quiet=False)
        capfd.readouterr()

    # the append scored the new game's passes, not the season's
    assert set(scored) == set(PER_PASS)
    for name, (n, total, how) in scored.items():
        assert how == "incremental", name
        assert 0 < n < total, f"{name}: the append scored {n} of {total} passes"
    n, total, _ = scored["fct_completion_probability"]
    old_passes = full_first["fct_completion_probability"][1]
    assert n == total - old_passes, "completion: only the new game's passes are scored"

    # every mart of the appended warehouse equals the full rebuild's
    got, want = _marts(appended), _marts(rebuilt)
    assert sorted(got) == sorted(want)
    assert "fct_completion_cv_predictions" not in got, "the old training table was dropped (not rebuilt)"
    for name in want:
        _assert_same(name, got[name], want[name])


def test_append_after_a_retrain_uses_latest_and_rescores_everything(releases, tmp_path, capfd):
    """LATEST moved after the warehouse was built (a retrain elsewhere): the append scores with LATEST, not
    with the version of the training table the old build left in the warehouse (it is dropped), and
    rescores every pass, since every fingerprint holds the model version."""
    first, nxt = releases
    with EnvVars(NGS_ARTIFACTS_DIR=str(tmp_path / "artifacts")):
        wh = tmp_path / "w.duckdb"
        build([first], wh, quiet=True)
        old = _versions(wh)
        build([first, nxt], tmp_path / "other.duckdb", quiet=True)   # other data: new versions, LATEST moves
        latest = _versions(tmp_path / "other.duckdb")
        assert latest != old
        capfd.readouterr()
        build([nxt], wh, train=False, append=True, quiet=False)
        scored = _scored(capfd.readouterr().out)
    assert _versions(wh) == latest
    for name in PER_PASS:
        n, total, how = scored[name]
        assert how == "incremental" and n == total, f"{name}: {n} of {total} passes rescored"


def _versions(warehouse: Path) -> tuple[set, set]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return (set(con.execute("select distinct model_version from marts.fct_completion_probability").fetchall()),
                set(con.execute("select distinct model_version from marts.fct_ghost_trajectories").fetchall()))
    finally:
        con.close()
