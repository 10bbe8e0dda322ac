"""Faults during `ngs build`, replayed: a full disk at every step, two builds or two appends at once, the
parent killed with -9, SIGTERM/SIGINT, a result that dbt calls built but the file lacks, unexpected
errors in the CLI. Each asserts a clear one-line error (or success), the old warehouse byte-identical,
no temp file left and no dbt left running.

The disk-full and read-only trials mount a small tmpfs (needs root; the injected ENOSPC tests cover the
same steps without it). Small inputs: one simulated game of 5 plays (two more for the appends)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

import ngs.build as ngs_build
from ngs import cli
from ngs.build import build
from ngs.errors import BuildError
from ngs.safety import (
    BuildInterrupted,
    NoSpaceError,
    clean_stale,
    dbt_target_dir,
    lock_path,
    pid_alive,
    temp_path,
    verify_warehouse,
    warehouse_lock,
)

FOUNDATION = "+path:models/marts/core"


# ------------------------------------------------------------------------------------------- helpers


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(warehouse: Path) -> list[str]:
    """Temp files, WALs, spill folders and lock files of builds of `warehouse`."""
    return sorted(p.name for p in warehouse.parent.glob(f".{warehouse.name}.*"))


def _env(tmp_path: Path) -> dict[str, str]:
    """The CLI's environment: its own dbt logs; no NGS_DBT_TARGET_PATH or NGS_DUCKDB_TMP, so each build
    uses its own target and spill folders, as a user's does."""
    env = dict(os.environ, DBT_LOG_PATH=str(tmp_path / "dbt_logs"), NGS_DBT_THREADS="1", DO_NOT_TRACK="1")
    for k in ("NGS_DBT_TARGET_PATH", "NGS_DUCKDB_TMP", "NGS_BUILD_WAIT", "NGS_DEBUG"):
        env.pop(k, None)
    return env


def _ngs(*args: str) -> list[str]:
    return [sys.executable, "-m", "ngs.cli", *map(str, args)]


def _run(cmd: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ngs ")]


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(stat.parent.name))
    return out


def _wait_for_dbt(ngs_pid: int, timeout: float = 90) -> int:
    """PID of the dbt process (exec'd, past the PDEATHSIG wrapper) that `ngs_pid` started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in _children(ngs_pid):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if len(argv) > 2 and argv[1].endswith(b"/dbt") and argv[2] == b"build":
                return child
        time.sleep(0.2)
    raise AssertionError(f"ngs (pid {ngs_pid}) started no dbt within {timeout} s")


def _wait_gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


def _lock_holder(warehouse: Path) -> int | None:
    try:
        text = lock_path(warehouse).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextmanager
def _tmpfs(path: Path, size_mb: float):
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(size_mb * 1024)}k", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip()}); the injected-ENOSPC tests cover this")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[str, Path]:
    """Three simulated games (5 plays each) in three folders: `base` (metadata and game 1's tracking),
    `a` and `b` (one more game's tracking each, for appends of different data)."""
    root = tmp_path_factory.mktemp("faults_sim")
    sim = root / "sim"
    subprocess.run(_ngs("simulate", "--games", "3", "--seed", "5", "--plays-per-game", "5", "--out", sim),
                   check=True, capture_output=True, timeout=300)
    lines = (sim / "tracking_week_1.csv").read_text().splitlines(keepends=True)
    games = sorted({line.split(",", 1)[0] for line in lines[1:]})
    assert len(games) == 3
    out = {name: root / name for name in ("base", "a", "b")}
    for folder in out.values():
        folder.mkdir()
    for name in ("games.csv", "plays.csv", "players.csv", "pffScoutingData.csv"):
        shutil.copy(sim / name, out["base"] / name)
    for name, game, file in (("base", games[0], "tracking_week_1.csv"), ("a", games[1], "tracking_week_1_a.csv"),
                             ("b", games[2], "tracking_week_1_b.csv")):
        (out[name] / file).write_text(lines[0] + "".join(x for x in lines[1:] if x.startswith(game + ",")))
    return out


@pytest.fixture(scope="module")
def base_build(releases, tmp_path_factory, dbt_isolation) -> tuple[Path, Path]:
    """The base release built (foundation marts): (warehouse, its dbt target folder). Tests copy it."""
    root = tmp_path_factory.mktemp("faults_base")
    target = root / "target"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NGS_DBT_TARGET_PATH", str(target))
        build([releases["base"]], root / "base.duckdb", quiet=True, select=FOUNDATION)
    return root / "base.duckdb", target


@pytest.fixture()
def built_warehouse(base_build, tmp_path) -> Path:
    """A fresh copy of the built base warehouse in its own folder."""
    wh = tmp_path / "wh" / "ngs.duckdb"
    wh.parent.mkdir()
    shutil.copyfile(base_build[0], wh)
    return wh


@pytest.fixture()
def warehouse(tmp_path) -> Path:
    """A small DuckDB file standing for the previous warehouse, where no dbt build is needed."""
    wh = tmp_path / "wh" / "ngs.duckdb"
    wh.parent.mkdir()
    with duckdb.connect(str(wh)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.answer as select range as n from range(1000)")
    return wh


# ------------------------------------------------------------------------- 1. disk full, checked swap


@pytest.mark.slow
def test_disk_full_at_the_end_of_a_build_keeps_the_old_warehouse(base_build, releases, tmp_path):
    """The reported trial, small: a good 5.3 MB warehouse with 0.5 MB more than its size free beside it
    (a 10.5 MB tmpfs): the new file fits, it and its WAL do not. dbt succeeds into the WAL, the checkpoint then
    finds the disk full. Before (measured at 67f9cdf): "Warehouse ready", exit 0, a raw-only 3.6 MB
    warehouse and an orphaned 2.6 MB .wal. Now: exit 2, one line, the old file intact, nothing left."""
    size_mb = 2 * base_build[0].stat().st_size / 2**20 + 0.5
    with _tmpfs(tmp_path / "mnt", size_mb) as mnt:
        wh = mnt / "ngs.duckdb"
        shutil.copyfile(base_build[0], wh)
        before = _sha(wh)
        r = _run(_ngs("build", "--data", releases["base"], "--warehouse", wh, "--select", FOUNDATION),
                 _env(tmp_path))
        errors = _error_lines(r.stderr)
        assert r.returncode == 2, r.stdout[-2000:] + r.stderr[-2000:]
        assert "Warehouse ready" not in r.stdout
        assert len(errors) == 1 and errors[0].startswith(f"ngs build: error: no space left on device in {mnt}")
        assert "the previous warehouse was left untouched" in errors[0]
        assert "Traceback" not in r.stderr
        assert _sha(wh) == before
        assert _leftovers(wh) == []
        assert sorted(p.name for p in mnt.iterdir()) == ["ngs.duckdb"]


def _inject(monkeypatch, stage: str) -> None:
    """Make one step of the build fail with ENOSPC, as it does on a full disk."""
    no_space = OSError(errno.ENOSPC, "No space left on device")

    if stage == "append_copy":
        def copy(src, dst, *a, **k):
            Path(dst).write_bytes(Path(src).read_bytes()[:100_000])  # a partial copy, then the disk is full
            raise no_space
        monkeypatch.setattr(ngs_build.shutil, "copyfile", copy)
    elif stage == "ingest":
        def load(con, files, on_loaded=None):
            con.execute("create table raw.partial as select 1 as x")
            raise duckdb.IOException('Could not write file "x.duckdb.building-1": No space left on device')
        monkeypatch.setattr(ngs_build, "load_files", load)
    elif stage == "dbt":
        def child(cmd, *, env, cwd, capture):  # dbt fails a model on a full disk and says so
            target = Path(env["DBT_TARGET_PATH"])
            target.mkdir(parents=True, exist_ok=True)
            (target / "run_results.json").write_text(json.dumps({"results": [{
                "unique_id": "model.ngs.int_tracking_flagged", "status": "error",
                "message": 'IO Error: Could not write file "t": No space left on device'}]}))
            Path(env["NGS_WAREHOUSE_PATH"] + ".wal").write_bytes(b"x" * 1000)
            return 2, ""
        monkeypatch.setattr(ngs_build, "run_child", child)
    else:
        monkeypatch.setattr(ngs_build, "run_dbt", lambda *a, **k: None)
        if stage == "checkpoint":
            def verify(path, target, files):
                Path(f"{path}.wal").write_bytes(b"x" * 1000)
                raise duckdb.IOException(f'Could not write file "{path}": No space left on device')
            monkeypatch.setattr(ngs_build, "verify_warehouse", verify)
        else:  # fsync of the new file before the swap
            monkeypatch.setattr(ngs_build, "verify_warehouse", lambda *a: None)

            def fsync(path, directory=False):
                raise no_space
            monkeypatch.setattr(ngs_build, "fsync_path", fsync)


@pytest.mark.parametrize("stage, append, where", [
    ("append_copy", True, "copying ngs.duckdb for --append"),
    ("ingest", False, "loading the data files"),
    ("dbt", False, "running dbt"),
    ("checkpoint", False, "checking the new warehouse"),
    ("fsync", True, "writing the new warehouse to disk"),
])
def test_no_space_at_any_step_fails_clearly_and_keeps_the_old_warehouse(
        warehouse, releases, monkeypatch, tmp_path, stage, append, where):
    monkeypatch.setenv("NGS_DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.delenv("NGS_DUCKDB_TMP", raising=False)
    _inject(monkeypatch, stage)
    before = _sha(warehouse)
    with pytest.raises(NoSpaceError) as info:
        build([releases["a"] if append else releases["base"]], warehouse, quiet=True, append=append)
    msg = str(info.value)
    first = msg.splitlines()[0]
    assert first.startswith(f"no space left on device in {warehouse.parent} while {where} (")
    assert "MB free after cleaning up" in first and "the previous warehouse was left untouched" in first
    assert _sha(warehouse) == before
    assert _leftovers(warehouse) == []


@pytest.mark.slow
def test_a_result_dbt_calls_built_but_the_file_lacks_is_refused(warehouse, base_build, releases, monkeypatch,
                                                                  tmp_path):
    """The shape of the disk-full bug without the disk: dbt reports every foundation model built, the file
    holds only the raw tables. The check refuses it; the old warehouse stays."""
    monkeypatch.setenv("NGS_DBT_TARGET_PATH", str(tmp_path / "target"))

    def fake_dbt(args, wh, quiet=False, target_path=None):
        shutil.copytree(base_build[1], tmp_path / "target", dirs_exist_ok=True)  # the base build's results
    monkeypatch.setattr(ngs_build, "run_dbt", fake_dbt)
    before = _sha(warehouse)
    with pytest.raises(BuildError, match=r"failed its check: schema\(s\) intermediate, marts, reference, staging "
                                         r"missing.*the previous warehouse was left untouched"):
        build([releases["base"]], warehouse, quiet=True)
    assert _sha(warehouse) == before
    assert _leftovers(warehouse) == []


@pytest.mark.slow
def test_verify_names_what_is_wrong(built_warehouse, base_build, tmp_path):
    warehouse, target = built_warehouse, base_build[1]
    verify_warehouse(warehouse, target, [])  # the good one passes
    with duckdb.connect(str(warehouse), read_only=True) as con:
        files = [r[0] for r in con.execute("select source_file from raw.load_manifest").fetchall()]
    verify_warehouse(warehouse, target, files)

    unbalanced = tmp_path / "unbalanced.duckdb"
    shutil.copyfile(warehouse, unbalanced)
    with duckdb.connect(str(unbalanced)) as con:
        con.execute("update marts.rpt_row_accounting set is_balanced = false")
        n = con.execute("select count(*) from marts.rpt_row_accounting").fetchone()[0]
    with pytest.raises(BuildError, match=rf"rpt_row_accounting: {n} source file\(s\) not balanced"):
        verify_warehouse(unbalanced, target, [])

    missing = tmp_path / "missing.duckdb"
    shutil.copyfile(warehouse, missing)
    with duckdb.connect(str(missing)) as con:
        con.execute("drop table marts.fct_pass_events")
    with pytest.raises(BuildError, match=r"1 relation\(s\) dbt reported as built are missing "
                                         r"\(marts.fct_pass_events\)"):
        verify_warehouse(missing, target, [])

    with pytest.raises(BuildError, match=r"1 loaded file\(s\) missing from raw.load_manifest \(/nowhere.csv"):
        verify_warehouse(warehouse, target, ["/nowhere.csv"])

    with pytest.raises(BuildError, match="dbt left no readable run_results.json"):
        verify_warehouse(warehouse, tmp_path / "no_target", [])


def test_a_pending_wal_beside_the_warehouse_is_refused(warehouse, releases):
    """DuckDB would replay the old file's WAL onto the new one: refuse, before writing anything."""
    wal = Path(f"{warehouse}.wal")
    wal.write_bytes(b"\0" * 64)
    before = _sha(warehouse)
    with pytest.raises(BuildError, match=r"ngs.duckdb.wal exists: ngs.duckdb is open for writing elsewhere"):
        build([releases["base"]], warehouse, quiet=True)
    assert _sha(warehouse) == before and wal.exists()
    assert _leftovers(warehouse) == []


def test_a_file_that_is_not_a_warehouse_is_not_replaced(tmp_path, releases):
    csv = tmp_path / "plays.duckdb"
    csv.write_text("gameId,playId\n1,1\n")
    with pytest.raises(BuildError, match="not a DuckDB database file; refusing to replace it"):
        build([releases["base"]], csv, quiet=True)
    with pytest.raises(BuildError, match="not a DuckDB database file; refusing to append to it"):
        build([releases["a"]], csv, quiet=True, append=True)
    folder = tmp_path / "dir.duckdb"
    folder.mkdir()
    with pytest.raises(BuildError, match="is a folder or special file"):
        build([releases["base"]], folder, quiet=True)
    assert csv.read_text() == "gameId,playId\n1,1\n"


def test_stale_temp_files_of_dead_builds_are_removed(tmp_path):
    wh = tmp_path / "ngs.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = temp_path(wh, dead.pid)
    stale.write_bytes(b"x" * 1000)
    Path(f"{stale}.wal").write_bytes(b"x" * 500)
    Path(f"{stale}.spill").mkdir()
    (Path(f"{stale}.spill") / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 250)
    alive = temp_path(wh, os.getppid())  # a live build's file is kept
    alive.write_bytes(b"y")
    other = tmp_path / ".other.duckdb.building-1"  # another warehouse's: not ours to judge
    other.write_bytes(b"z")
    dead_target = Path(tempfile.mkdtemp(prefix=f"ngs-dbt-target-{dead.pid}-"))  # a dead build's dbt target
    (dead_target / "manifest.json").write_bytes(b"{}" * 50)
    live_target = dbt_target_dir()
    try:
        with warehouse_lock(wh):
            removed, freed = clean_stale(wh)
        # (other dead builds' dbt targets in the temp folder go too)
        assert sorted(p.name for p in removed if p.parent == tmp_path) == sorted(
            [stale.name, f"{stale.name}.spill", f"{stale.name}.wal"])
        assert dead_target in removed and freed >= 1850
        assert alive.exists() and other.exists() and live_target.exists()
        assert not stale.exists() and not dead_target.exists()
    finally:
        shutil.rmtree(dead_target, ignore_errors=True)
        shutil.rmtree(live_target, ignore_errors=True)


# ----------------------------------------------------------------------------- 2. one writer at a time


def test_a_second_build_fails_at_once_naming_the_holder(warehouse, releases, tmp_path):
    before = _sha(warehouse)
    with warehouse_lock(warehouse) as lock:
        assert lock.read_text().strip() == str(os.getpid())
        t0 = time.monotonic()
        r = _run(_ngs("build", "--data", releases["a"], "--append", "--warehouse", warehouse), _env(tmp_path))
        took = time.monotonic() - t0
        with pytest.raises(BuildError, match=rf"another build \(pid {os.getpid()}\) is writing {warehouse}"):
            build([releases["a"]], warehouse, quiet=True, append=True, wait_s=0)
    assert r.returncode == 2 and took < 30
    assert _error_lines(r.stderr) == [
        f"ngs build: error: another build (pid {os.getpid()}) is writing {warehouse}; wait for it to finish, "
        "or set NGS_BUILD_WAIT=SECONDS to wait for it"]
    assert _sha(warehouse) == before
    assert _leftovers(warehouse) == []  # the lock file goes with its holder


def test_the_lock_of_a_killed_holder_is_free_and_waiting_works(tmp_path):
    wh = tmp_path / "ngs.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from ngs.safety import warehouse_lock\n"
        f"with warehouse_lock(Path({str(wh)!r})):\n    print('locked', flush=True); time.sleep(600)")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BuildError, match=rf"another build \(pid {holder.pid}\)"):
            with warehouse_lock(wh):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert lock_path(wh).read_text().strip() == str(holder.pid)  # left by kill -9, but not held
    with warehouse_lock(wh) as lock:
        assert lock.read_text().strip() == str(os.getpid())
        # a waiter gets the lock when the holder releases it
        got: list[float] = []

        def waiter():
            with warehouse_lock(wh, wait_s=30):
                got.append(time.monotonic())

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(1.0)
        assert not got
        released = time.monotonic()
    t.join(30)
    assert got and got[0] >= released
    assert not lock_path(wh).exists()


@pytest.mark.slow
def test_two_appends_at_once_never_lose_data(built_warehouse, releases, tmp_path):
    """Before: both exit 0 and one week is missing. Now: the second fails at once naming the first; the
    first succeeds; the second, run again, adds its data: nothing lost."""
    warehouse = built_warehouse
    env = _env(tmp_path)
    first = subprocess.Popen(_ngs("build", "--append", "--data", releases["a"], "--warehouse", warehouse,
                                  "--select", "stg_ingest__load_manifest"), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while _lock_holder(warehouse) != first.pid:
            assert time.monotonic() < deadline and first.poll() is None, "the first build never took the lock"
            time.sleep(0.05)
        second = _run(_ngs("build", "--append", "--data", releases["b"], "--warehouse", warehouse,
                           "--select", "stg_ingest__load_manifest"), env)
        assert first.poll() is None, "the first build ended before the second tried"
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 2
    assert _error_lines(second.stderr) == [
        f"ngs build: error: another build (pid {first.pid}) is writing {warehouse}; wait for it to finish, "
        "or set NGS_BUILD_WAIT=SECONDS to wait for it"]
    again = _run(_ngs("build", "--append", "--data", releases["b"], "--warehouse", warehouse,
                      "--select", "stg_ingest__load_manifest"), env)
    assert again.returncode == 0, again.stderr[-3000:]
    expected = {f.name: len(f.read_text().splitlines()) - 1
                for f in (*releases["base"].glob("tracking*.csv"), *releases["a"].glob("*.csv"),
                          *releases["b"].glob("*.csv"))}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = {Path(r[0]).name: r[1] for r in con.execute(
            "select source_file, rows from raw.load_manifest where entity = 'tracking'").fetchall()}
        raw = con.execute("select count(*), count(distinct gameId) from raw.bdb_weekly_tracking").fetchone()
    assert loaded == expected
    assert raw == (sum(expected.values()), 3)
    assert _leftovers(warehouse) == []
    # each build used its own dbt target folder, removed afterwards
    assert not list(Path(tempfile.gettempdir()).glob(f"ngs-dbt-target-{first.pid}-*"))


def test_each_build_gets_its_own_dbt_target(warehouse, releases, monkeypatch):
    monkeypatch.delenv("NGS_DBT_TARGET_PATH", raising=False)
    seen: list[Path] = []

    def fake_dbt(args, wh, quiet=False, target_path=None):
        seen.append(Path(target_path))
        assert Path(target_path).is_dir() and Path(target_path).name.startswith(f"ngs-dbt-target-{os.getpid()}-")
        raise BuildError("stop here")
    monkeypatch.setattr(ngs_build, "run_dbt", fake_dbt)
    for _ in range(2):
        with pytest.raises(BuildError, match="stop here"):
            build([releases["base"]], warehouse, quiet=True)
    assert len(set(seen)) == 2 and not any(p.exists() for p in seen)
    # the failure summary reads the run_results of the target it is given, not ./target
    summary = ngs_build._dbt_failure_summary({"DBT_TARGET_PATH": "/nonexistent/target"})
    assert str(summary) == "dbt build failed; the previous warehouse was left untouched."


# ----------------------------------------------------------------------------------------- 3. orphans


def _start_build(warehouse: Path, data: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(_ngs("build", "--data", data, "--warehouse", warehouse, "--select", FOUNDATION),
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


@pytest.mark.slow
def test_kill_9_of_ngs_takes_dbt_with_it_and_the_next_run_cleans_up(warehouse, releases, tmp_path):
    env = _env(tmp_path)
    before = _sha(warehouse)
    proc = _start_build(warehouse, releases["base"], env)
    try:
        dbt = _wait_for_dbt(proc.pid)
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert _wait_gone(dbt), f"dbt (pid {dbt}) outlived its killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = _leftovers(warehouse)
    assert f".ngs.duckdb.building-{proc.pid}" in left  # what kill -9 leaves; the next run's job
    dead_targets = list(Path(tempfile.gettempdir()).glob(f"ngs-dbt-target-{proc.pid}-*"))
    assert len(dead_targets) == 1
    assert _sha(warehouse) == before
    # the next run, even one that fails at once on its input, removes them and says so in one line
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run(_ngs("build", "--data", empty, "--warehouse", warehouse), env)
    assert r.returncode == 2
    report = [line for line in r.stdout.splitlines() if "dead builds" in line]
    assert len(report) == 1 and report[0].startswith("removed ")
    assert f"/.ngs.duckdb.building-{proc.pid}" in report[0] and str(dead_targets[0]) in report[0]
    assert not dead_targets[0].exists()
    assert _error_lines(r.stderr) == [f"ngs build: error: {empty}: no .csv or .parquet data files found"]
    assert _leftovers(warehouse) == []
    assert _sha(warehouse) == before


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_and_sigint_stop_dbt_and_clean_up(warehouse, releases, tmp_path, sig):
    env = _env(tmp_path)
    before = _sha(warehouse)
    proc = _start_build(warehouse, releases["base"], env)
    try:
        dbt = _wait_for_dbt(proc.pid)
        time.sleep(1.0)
        os.kill(proc.pid, sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + sig
    assert _wait_gone(dbt, timeout=5), "dbt still running"
    assert _error_lines(err) == [f"ngs build: error: interrupted by {sig.name}; dbt was stopped; the previous "
                                 "warehouse was left untouched and the temporary files were removed"]
    assert "Traceback" not in err
    assert _leftovers(warehouse) == []
    assert _sha(warehouse) == before


# ------------------------------------------------------------------------ 4. no traceback from the CLI


@pytest.mark.parametrize("exc, code, line", [
    (PermissionError(errno.EACCES, "Permission denied", "/data/plays.csv"), 1,
     "ngs build: error: /data/plays.csv: Permission denied (NGS_DEBUG=1 shows the traceback)"),
    (OSError(errno.ENOSPC, "No space left on device", "/w/ngs.duckdb"), 1,
     "ngs build: error: /w/ngs.duckdb: No space left on device (NGS_DEBUG=1 shows the traceback)"),
    (duckdb.IOException('IO Error: Could not read file "/w/x.duckdb": Permission denied\nmore'), 1,
     'ngs build: error: DuckDB: IO Error: Could not read file "/w/x.duckdb": Permission denied '
     "(NGS_DEBUG=1 shows the traceback)"),
    (RuntimeError("something odd\nsecond line"), 1,
     "ngs build: error: RuntimeError: something odd (NGS_DEBUG=1 shows the traceback)"),
    (KeyboardInterrupt(), 130, "ngs build: interrupted"),
    (BuildInterrupted(signal.SIGTERM), 143,
     "ngs build: error: interrupted by SIGTERM; the previous warehouse was left untouched and the temporary "
     "files were removed"),
    (BuildError("dbt build failed; the previous warehouse was left untouched."), 2,
     "ngs build: error: dbt build failed; the previous warehouse was left untouched."),
])
def test_cli_prints_one_line_not_a_traceback(monkeypatch, capsys, tmp_path, exc, code, line):
    def boom(args):
        raise exc
    monkeypatch.setattr(ngs_build, "cli_main", boom)
    monkeypatch.delenv("NGS_DEBUG", raising=False)
    assert cli.main(["build", "--data", str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert err.splitlines() == [line]


def test_ngs_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    def boom(args):
        raise PermissionError(errno.EACCES, "Permission denied", "/data/plays.csv")
    monkeypatch.setattr(ngs_build, "cli_main", boom)
    monkeypatch.setenv("NGS_DEBUG", "1")
    assert cli.main(["build", "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in boom" in err
    assert err.splitlines()[-1] == "ngs build: error: /data/plays.csv: Permission denied"


def test_read_only_folder_gives_one_line(warehouse, releases, tmp_path):
    """A warehouse folder that cannot be written: the lock file cannot be created. Also `ngs simulate` into
    it (an OSError the CLI catches). Before: a traceback for simulate."""
    with _tmpfs(tmp_path / "ro", 20) as mnt:
        wh = mnt / "ngs.duckdb"
        shutil.copyfile(warehouse, wh)
        before = _sha(wh)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        env = _env(tmp_path)
        r = _run(_ngs("build", "--data", releases["base"], "--warehouse", wh), env)
        assert r.returncode == 2
        assert _error_lines(r.stderr) == [f"ngs build: error: {mnt}/.ngs.duckdb.lock: cannot create the build's "
                                          "lock file (Read-only file system); is the warehouse folder writable?"]
        r = _run(_ngs("simulate", "--games", "1", "--plays-per-game", "5", "--out", mnt / "sim"), env)
        assert r.returncode != 0 and "Traceback" not in r.stderr
        assert len(_error_lines(r.stderr)) == 1, r.stderr
        assert _sha(wh) == before
