"""What keeps `ngs build` safe: one writer per warehouse, no orphaned dbt, no stale temp files, and a check
of the new file before it is swapped in.

- `warehouse_lock`: an exclusive `fcntl.flock` on `.<name>.lock` next to the warehouse, holding the
  writer's PID (for the message a second build gets). The kernel drops the lock when its holder dies, even
  by `kill -9`, so a dead build never blocks the next one.
- `clean_stale`: removes `.<name>.building-PID` files (and their `.wal` and spill folders) left by builds
  whose PID is gone (killed, power loss).
- `run_child`: runs dbt in its own process group; SIGTERM/SIGINT/SIGHUP to `ngs` stop that group (SIGTERM,
  SIGKILL after a grace period) and, on Linux, starts it through a tiny wrapper that sets PR_SET_PDEATHSIG, so dbt
  dies with its parent even when the parent is killed by `kill -9`. No `preexec_fn`: the parent has loaded
  DuckDB's threads, and running Python between fork and exec is unsafe then.
- `verify_warehouse`: checkpoints the new file and checks it holds what dbt says it built.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ngs.errors import BuildError

UNTOUCHED = "the previous warehouse was left untouched"
# how long dbt may take to stop after a forwarded SIGTERM/SIGINT before its process group is killed
STOP_GRACE_S = 10.0
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class BuildInterrupted(BuildError):
    """The build was stopped by a signal; the CLI exits with 128 + the signal number."""

    def __init__(self, signum: int, detail: str = "") -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}{detail}; {UNTOUCHED} and the temporary files were removed")


# ---------------------------------------------------------------------------------------------- lock


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(f".{warehouse.name}.lock")


def _read_pid(path: Path) -> int | None:
    # the holder writes its PID right after taking the lock: allow it a moment
    for _ in range(10):
        try:
            text = path.read_text().strip()
        except OSError:
            text = ""
        if text.isdigit():
            return int(text)
        time.sleep(0.05)
    return None


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold the warehouse's write lock; another holder makes this fail at once (or after `wait_s` seconds)
    with "another build (pid N) is writing W". The lock file is removed on release, while still locked;
    a process that opened it before that sees its inode gone from the path and tries again."""
    path = lock_path(warehouse)
    deadline = time.monotonic() + max(wait_s, 0.0)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise BuildError(f"{path}: cannot create the build's lock file ({exc.strerror}); "
                             "is the warehouse folder writable?") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                holder = _read_pid(path)
                raise BuildError(
                    f"another build (pid {holder if holder is not None else 'unknown'}) is writing {warehouse}; "
                    "wait for it to finish, or set NGS_BUILD_WAIT=SECONDS to wait for it"
                ) from None
            time.sleep(0.2)
            continue
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # locked a lock file its holder had just removed: take the one at the path now
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


# ---------------------------------------------------------------------------------------- temp files


def temp_path(warehouse: Path, pid: int | None = None) -> Path:
    # Same catalog name as the target (DuckDB takes it from the name up to its first dot): the views dbt
    # creates name their catalog, and they must still resolve after the file is renamed into place.
    return warehouse.with_name(f".{warehouse.name}.building-{os.getpid() if pid is None else pid}")


def temp_files(tmp: Path) -> list[Path]:
    """The temp file, its WAL and the DuckDB spill folders a build may leave next to it."""
    return [tmp, Path(f"{tmp}.wal"), Path(f"{tmp}.tmp"), Path(f"{tmp}.spill")]


def remove_temp(tmp: Path) -> int:
    """Remove a build's temp files; the bytes freed."""
    freed = 0
    for p in temp_files(tmp):
        with contextlib.suppress(FileNotFoundError):
            if p.is_dir() and not p.is_symlink():
                freed += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                shutil.rmtree(p, ignore_errors=True)
            else:
                freed += p.stat().st_size
                p.unlink()
    return freed


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (dead, not yet reaped) is gone for our purpose
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


TARGET_PREFIX = "ngs-dbt-target-"


def dbt_target_dir() -> Path:
    """A new dbt target folder for one build, in the system's temp folder, named after this process."""
    return Path(tempfile.mkdtemp(prefix=f"{TARGET_PREFIX}{os.getpid()}-"))


def clean_stale(warehouse: Path) -> tuple[list[Path], int]:
    """Remove the temp files of builds of `warehouse` whose process is gone, and the dbt target folders
    of any dead build; (files removed, bytes freed). Call it holding the warehouse lock."""
    pattern = re.compile(rf"\.{re.escape(warehouse.name)}\.building-(\d+)(\.wal|\.tmp|\.spill)?")
    targets = re.compile(rf"{TARGET_PREFIX}(\d+)-\w+")
    removed: list[Path] = []
    freed = 0
    candidates = [(p, pattern.fullmatch(p.name)) for p in sorted(warehouse.parent.iterdir())]
    with contextlib.suppress(OSError):
        candidates += [(p, targets.fullmatch(p.name)) for p in sorted(Path(tempfile.gettempdir()).iterdir())
                       if p.name.startswith(TARGET_PREFIX) and p.is_dir()]
    for p, m in candidates:
        if not m:
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or pid_alive(pid):
            continue
        try:
            size = (sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir()
                    else p.stat().st_size)
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        except FileNotFoundError:
            continue
        removed.append(p)
        freed += size
    return removed, freed


# -------------------------------------------------------------------------------------------- signals


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM/SIGINT/SIGHUP raise `BuildInterrupted`, so the caller's cleanup runs
    (by default SIGTERM ends Python at once and leaves the temp files behind). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001
        raise BuildInterrupted(signum)

    old = {s: signal.signal(s, handler) for s in _FORWARDED}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


# Sets PR_SET_PDEATHSIG (SIGKILL when the parent dies, even by kill -9), checks the parent did not die
# before that, then becomes the real command. Runs after exec, so it is safe in a threaded parent.
_PDEATHSIG_WRAPPER = (
    "import ctypes, os, signal, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.prctl(1, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),"
    " ctypes.c_ulong(0)) != 0:\n"
    "    sys.stderr.write('ngs: prctl(PR_SET_PDEATHSIG) failed; dbt would outlive a killed ngs\\n')\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(70)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def with_parent_death_signal(cmd: list[str]) -> list[str]:
    """`cmd` started through the PR_SET_PDEATHSIG wrapper (Linux); unchanged elsewhere."""
    if not sys.platform.startswith("linux"):
        return cmd
    return [sys.executable, "-S", "-c", _PDEATHSIG_WRAPPER, str(os.getpid()), *cmd]


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def run_child(cmd: list[str], *, env: dict[str, str], cwd: Path, capture: bool) -> tuple[int, str]:
    """Run `cmd` in its own process group, dying with this process. SIGTERM/SIGINT/SIGHUP sent to this
    process stop the group: SIGTERM (SIGINT would make dbt print a KeyboardInterrupt traceback when it
    comes during dbt's start-up), SIGKILL after STOP_GRACE_S; then `BuildInterrupted` is raised.
    Returns (exit code, captured output)."""
    stop: dict[str, float] = {}
    child: list[subprocess.Popen] = []

    def forward(signum, frame):  # noqa: ARG001
        if "signum" not in stop:
            stop.update(signum=signum, at=time.monotonic())
        if child:
            _killpg(child[0].pid, signal.SIGTERM)

    main = threading.current_thread() is threading.main_thread()
    old = {s: signal.signal(s, forward) for s in _FORWARDED} if main else {}
    out = ""
    try:
        proc = subprocess.Popen(
            with_parent_death_signal(cmd), cwd=cwd, env=env, text=True, process_group=0,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None,
        )
        child.append(proc)
        if "signum" in stop:  # a signal came while it was starting
            _killpg(proc.pid, signal.SIGTERM)
        while True:
            try:
                o, _ = proc.communicate(timeout=0.5)
                out += o or ""
                break
            except subprocess.TimeoutExpired:
                if "signum" in stop and time.monotonic() - stop["at"] > STOP_GRACE_S:
                    _killpg(proc.pid, signal.SIGKILL)
    finally:
        if child and (child[0].poll() is None or "signum" in stop):
            # stopped by a signal, or left by an exception of ours: nothing of the group may outlive us
            _killpg(child[0].pid, signal.SIGKILL)
            child[0].wait()
        for s, h in old.items():
            signal.signal(s, h)
    if "signum" in stop:
        raise BuildInterrupted(int(stop["signum"]), "; dbt was stopped")
    return proc.returncode, out


# ------------------------------------------------------------------------------------------- checking


class NoSpaceError(BuildError):
    """The disk filled during a build. The message is made when it is shown, after the temp files were
    removed, so the free space it gives is what the user has to work with."""

    def __init__(self, where: Path, stage: str, detail: str = "") -> None:
        super().__init__(where, stage, detail)
        self.where, self.stage, self.detail = where, stage, detail

    def __str__(self) -> str:
        try:
            free = f"{shutil.disk_usage(self.where).free / 1e6:,.1f} MB free after cleaning up"
        except OSError:
            free = "free space unknown"
        return (f"no space left on device in {self.where} while {self.stage} ({free}; a build needs room for "
                f"a second copy of the warehouse beside it); {UNTOUCHED} and the temporary files were removed"
                + self.detail)


def is_no_space(exc: BaseException) -> bool:
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "No space left on device" in str(exc)


def built_relations(target: Path) -> list[tuple[str, str, str]]:
    """(unique_id, schema, name) of every model, seed and snapshot dbt reports as built in `target`
    (run_results.json + manifest.json), ephemeral models excluded."""
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
        nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    except (OSError, KeyError, ValueError) as exc:
        raise BuildError(f"dbt left no readable run_results.json/manifest.json in {target} ({exc}); "
                         f"the new warehouse cannot be verified, {UNTOUCHED}") from None
    out = []
    for r in results:
        node = nodes.get(r.get("unique_id", ""))
        if not node or node.get("resource_type") not in ("model", "seed", "snapshot") or r.get("status") != "success":
            continue
        if node.get("config", {}).get("materialized") == "ephemeral":
            continue
        out.append((node["unique_id"], node["schema"], node.get("alias") or node["name"]))
    return out


def verify_warehouse(path: Path, target: Path, loaded_files: list[str]) -> None:
    """Checkpoint the new warehouse at `path`, then check it: no pending WAL, schema `raw` and every
    relation (and so every schema) dbt built, every file of this run in `raw.load_manifest`, and
    `marts.rpt_row_accounting` balanced when it was built. Raises `BuildError` naming what is wrong."""
    expected = built_relations(target)
    con = duckdb.connect(str(path))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    wal = Path(f"{path}.wal")
    if wal.exists():
        raise BuildError(f"{path}: the checkpoint left a pending write-ahead log ({wal.name}, "
                         f"{wal.stat().st_size:,} bytes); {UNTOUCHED}")
    problems: list[str] = []
    con = duckdb.connect(str(path), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
        relations = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
        missing_schemas = sorted(({"raw"} | {s for _, s, _ in expected}) - schemas)
        if missing_schemas:
            problems.append(f"schema(s) {', '.join(missing_schemas)} missing")
        missing = [f"{s}.{n}" for _, s, n in expected if (s, n) not in relations and s not in missing_schemas]
        if missing:
            problems.append(f"{len(missing)} relation(s) dbt reported as built are missing "
                            f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})")
        if ("raw", "load_manifest") in relations and loaded_files:
            have = {r[0] for r in con.execute("select source_file from raw.load_manifest").fetchall()}
            lost = [f for f in loaded_files if f not in have]
            if lost:
                problems.append(f"{len(lost)} loaded file(s) missing from raw.load_manifest ({lost[0]}, ...)")
        elif loaded_files:
            problems.append("raw.load_manifest missing")
        if any(s == "marts" and n == "rpt_row_accounting" for _, s, n in expected) \
                and ("marts", "rpt_row_accounting") in relations:
            bad = con.execute("select count(*) from marts.rpt_row_accounting where not is_balanced").fetchone()[0]
            if bad:
                problems.append(f"marts.rpt_row_accounting: {bad} source file(s) not balanced "
                                "(raw rows != clean + quarantined)")
    finally:
        con.close()
    if problems:
        raise BuildError(f"{path}: the new warehouse failed its check: {'; '.join(problems)}; {UNTOUCHED}")


def fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot fsync a directory
        if not (directory and exc.errno in (errno.EINVAL, errno.ENOTSUP)):
            raise
    finally:
        os.close(fd)
