"""`ngs build`: ingest folders into raw tables, run `dbt build`, check the result, swap it in atomically.

One writer per warehouse: a build holds the lock `.<name>.lock` next to the warehouse (`ngs.safety`); a
second build of the same warehouse fails at once with "another build (pid N) is writing W" (set
NGS_BUILD_WAIT=SECONDS to wait for it instead). Temp files of builds that died are removed first.

The warehouse is built in a temporary file next to the target (`.<name>.building-PID`; for `--append` a
copy of the target). After dbt, the file is checkpointed and verified (`ngs.safety.verify_warehouse`: no
pending WAL, every schema and relation dbt reports as built, the loaded files in the manifest, row
accounting balanced), fsynced, renamed over the target (`os.replace`, atomic on one file system) and the
directory fsynced. Any failure, a full disk or a signal included, removes the temporary files and leaves
the previous warehouse, and a Superset serving it, byte for byte as it was. dbt runs in its own process
group with its own target folder, and dies with `ngs` (signals are forwarded; PR_SET_PDEATHSIG on Linux).

dbt reaches the temporary file through a link with a stable name, `.<name>.dbt` (and spills to
`.<name>.dbt.spill`): the profile dbt sees is then the same from one build of a warehouse to the next, so
dbt's partial parsing stays valid (a new path in the profile makes dbt parse the whole project again, ~6 s
on 2 cores). Each build still gets its own target folder; its `partial_parse.msgpack` is seeded from, and
after a successful run saved to, `target/parse_cache/` (dbt itself checks the saved state against the
project's files, vars, env vars and profile, and re-parses what changed).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ngs.errors import BuildError, IngestError
from ngs.ingest import create_raw_tables, discover, load_files
from ngs.ingest.load import already_loaded, check_no_replayed_plays, refuse_loaded
from ngs.paths import REPO_ROOT
from ngs.safety import (
    UNTOUCHED,
    NoSpaceError,
    clean_stale,
    dbt_target_dir,
    fsync_path,
    is_no_space,
    remove_temp,
    run_child,
    signals_raise,
    temp_path,
    verify_warehouse,
    warehouse_lock,
)


@dataclass
class BuildResult:
    warehouse: Path
    files: int
    raw_rows: int
    seconds: dict[str, float] = field(default_factory=dict)
    stale_removed: list[Path] = field(default_factory=list)


def dbt_env(warehouse: Path, target_path: str | Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NGS_WAREHOUSE_PATH=str(warehouse),
        NGS_REPO_ROOT=str(REPO_ROOT),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        # numpy's OpenBLAS sets then deletes these at import; another dbt thread copying os.environ meanwhile
        # failed a run with KeyError 'OPENBLAS_MAIN_FREE' (set, they stay put)
        OPENBLAS_MAIN_FREE="1",
        GOTOBLAS_MAIN_FREE="1",
    )
    # DuckDB's spill folder: one per build (two DuckDB processes must not share one), removed with the
    # build's other temp files
    env.setdefault("NGS_DUCKDB_TMP", f"{warehouse}.spill")
    # dbt's own DBT_TARGET_PATH; NGS_DBT_TARGET_PATH is the project's name for it (parallel runs, tests)
    target = target_path or env.get("NGS_DBT_TARGET_PATH")
    if target:
        env["DBT_TARGET_PATH"] = str(target)
    return env


def check_dbt_project(root: Path | None = None) -> None:
    """The dbt project (dbt_project.yml, models/, macros/, seeds/) is read from the checkout the package
    runs from; an installed wheel carries only the package."""
    root = REPO_ROOT if root is None else root
    if not (root / "dbt_project.yml").is_file():
        raise BuildError(f"no dbt project at {root} (dbt_project.yml is missing): `ngs build` runs the dbt "
                         "project of a checkout of the repository; install the package from it with "
                         "`make venv` (pip install -e .)")


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def run_dbt(args: list[str], warehouse: Path, quiet: bool = False, target_path: str | Path | None = None) -> None:
    """Run one dbt command against `warehouse` in a subprocess (dbt and DuckDB keep global state), in its
    own process group, stopped with this process (`ngs.safety.run_child`)."""
    cmd = [dbt_executable(), *args, "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    env = dbt_env(warehouse, target_path)
    code, out = run_child(cmd, env=env, cwd=REPO_ROOT, capture=quiet)
    if code != 0:
        raise _dbt_failure_summary(env, warehouse, f"\n{out[-4000:]}" if quiet and out else "")


def _target_dir(env: dict[str, str]) -> Path:
    target = Path(env.get("DBT_TARGET_PATH", "target"))
    return target if target.is_absolute() else REPO_ROOT / target


def _dbt_failure_summary(env: dict[str, str], warehouse: Path | None = None, tail: str = "") -> BuildError:
    """The error for a failed dbt run, from this build's own run_results.json: the failing nodes."""
    failed: list[str] = []
    no_space = False
    try:
        for r in json.loads((_target_dir(env) / "run_results.json").read_text())["results"]:
            if r["status"] in ("error", "fail", "runtime error"):
                msg = (r.get("message") or "").strip().splitlines()
                no_space = no_space or "No space left on device" in (r.get("message") or "")
                failed.append(f"  {r['unique_id']}: {r['status']}{': ' + msg[0] if msg else ''}")
    except (OSError, KeyError, ValueError):
        pass
    nodes = ("\n" + "\n".join(failed[:20]) if failed else "") + tail
    if no_space and warehouse is not None:
        return NoSpaceError(warehouse.parent, "running dbt", nodes)
    return BuildError("dbt build failed; the previous warehouse was left untouched." + nodes)


# Schemas the build creates. DuckDB names a database file's catalog after the file, and a catalog named like
# a schema makes every reference to that schema ambiguous: `marts.duckdb` cannot hold schema `marts`.
SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "main")


def check_warehouse_name(warehouse: Path) -> None:
    catalog = warehouse.name.lstrip(".").split(".")[0]
    if catalog.lower() in SCHEMAS:
        raise BuildError(
            f"{warehouse}: a warehouse file may not be named after one of its schemas ({', '.join(SCHEMAS)}): "
            f"DuckDB would call its catalog '{catalog}' and every reference to schema {catalog} would be "
            "ambiguous. Choose another name, e.g. ngs.duckdb."
        )


def _check_no_pending_wal(warehouse: Path) -> None:
    """A `.wal` beside the warehouse belongs to the old file: DuckDB would replay it onto the new one."""
    wal = Path(f"{warehouse}.wal")
    if wal.exists():
        raise BuildError(
            f"{wal} exists: {warehouse.name} is open for writing elsewhere or was not closed cleanly. "
            f"Close that program, or open the file once with duckdb (which applies the log), then build again"
        )


def _check_target(warehouse: Path, append: bool) -> None:
    """Refuse to replace (or append to) something that is not a DuckDB warehouse: a folder, a CSV given
    as --warehouse by mistake."""
    if not warehouse.exists():
        return
    if not warehouse.is_file():
        raise BuildError(f"{warehouse}: is a folder or special file, not a DuckDB warehouse file")
    try:
        with open(warehouse, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise BuildError(f"{warehouse}: cannot read it ({exc.strerror})") from None
    if head and head[8:12] != b"DUCK":  # an empty file is a new warehouse to DuckDB
        what = "append to" if append else "replace"
        raise BuildError(f"{warehouse}: not a DuckDB database file; refusing to {what} it "
                         "(give --warehouse a new or existing .duckdb file)")


PARSE_CACHE = Path(os.environ.get("NGS_DBT_PARSE_CACHE", REPO_ROOT / "target" / "parse_cache"))


def dbt_link(warehouse: Path) -> Path:
    """The stable name dbt opens a build's temporary file by (a symbolic link to it, held under the lock).
    dbt-duckdb and DuckDB both name the catalog after it as after the warehouse (up to the first dot)."""
    return warehouse.with_name(f".{warehouse.name}.dbt")


def _point_link(link: Path, tmp: Path) -> None:
    _remove_link(link)
    os.symlink(tmp, link)


def _remove_link(link: Path) -> None:
    """The link and what DuckDB may have written under its name (a WAL, a spill folder): all belong to the
    build's temporary file."""
    for p in (link, Path(f"{link}.wal"), Path(f"{link}.tmp")):
        if p.is_symlink() or p.is_file():
            p.unlink()
    spill = Path(f"{link}.spill")
    if spill.exists():
        shutil.rmtree(spill, ignore_errors=True)


def _parse_cache_file(link: Path) -> Path:
    return PARSE_CACHE / f"{hashlib.sha1(str(link).encode()).hexdigest()[:16]}.msgpack"


def _restore_partial_parse(target: Path, link: Path) -> None:
    """Seed a build's target folder with the last partial-parse state of builds of the same warehouse."""
    cached, dest = _parse_cache_file(link), target / "partial_parse.msgpack"
    if cached.is_file() and not dest.exists():
        try:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, dest)
        except OSError:
            dest.unlink(missing_ok=True)  # no cache: dbt parses the whole project


def _save_partial_parse(target: Path, link: Path) -> None:
    src, cached = target / "partial_parse.msgpack", _parse_cache_file(link)
    if not src.is_file():
        return
    part = cached.with_name(f"{cached.name}.{os.getpid()}")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, part)
        os.replace(part, cached)  # atomic: another build reads the old state or this one
    except OSError:
        part.unlink(missing_ok=True)


def _wait_s() -> float:
    raw = os.environ.get("NGS_BUILD_WAIT", "0")
    try:
        return max(float(raw), 0.0)
    except ValueError:
        raise BuildError(f"NGS_BUILD_WAIT must be a number of seconds, got {raw!r}") from None


def build(
    data_dirs: list[Path],
    warehouse: Path,
    train: bool = True,
    select: str | None = None,
    append: bool = False,
    dbt_args: list[str] | None = None,
    quiet: bool = False,
    exclude: list[str] | None = None,
    wait_s: float | None = None,
) -> BuildResult:
    """Build (or with `append`, extend) `warehouse` from `data_dirs`; see the module docstring."""
    check_dbt_project()
    warehouse = Path(warehouse).resolve()
    check_warehouse_name(warehouse)
    try:
        warehouse.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"{warehouse.parent}: cannot create the warehouse folder ({exc.strerror})") from None
    wait = _wait_s() if wait_s is None else wait_s
    with signals_raise(), warehouse_lock(warehouse, wait):
        return _build_locked([Path(d) for d in data_dirs], warehouse, train, select, append, dbt_args, quiet,
                             exclude)


def _build_locked(data_dirs: list[Path], warehouse: Path, train: bool, select: str | None, append: bool,
                  dbt_args: list[str] | None, quiet: bool, exclude: list[str] | None) -> BuildResult:
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    stale, freed = clean_stale(warehouse)
    link = dbt_link(warehouse)
    _remove_link(link)  # left by a build that died (we hold the lock)
    if stale and not quiet:
        print(f"removed {len(stale)} temp file(s) of dead builds ({freed / 1e6:,.1f} MB): "
              f"{', '.join(str(p) for p in stale)}", flush=True)
    _check_target(warehouse, append)
    _check_no_pending_wal(warehouse)
    files = discover(data_dirs)  # fails before anything is written
    tmp = temp_path(warehouse)
    remove_temp(tmp)
    target: Path | None = None
    stage = "creating its dbt target folder"
    try:
        try:
            # each build its own dbt target folder: run_results.json and manifest.json describe this build only
            if not os.environ.get("NGS_DBT_TARGET_PATH"):
                target = dbt_target_dir()
            if append and warehouse.exists():
                stage = f"copying {warehouse.name} for --append"
                shutil.copyfile(warehouse, tmp)
            stage = "loading the data files"
            con = duckdb.connect(str(tmp))
            try:
                create_raw_tables(con)
                refuse_loaded(files, already_loaded(con) if append else set(), warehouse)

                def report(f, n: int) -> None:
                    if not quiet:
                        print(f"  loaded {f.path} as {f.spec.vintage} {f.spec.entity}: {n:,} rows", flush=True)

                raw_rows = load_files(con, files, on_loaded=report)
                if append:
                    check_no_replayed_plays(con, files)
                con.execute("checkpoint")
            finally:
                con.close()
            seconds["ingest"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            stage = "running dbt"
            args = ["build", *(dbt_args or [])]
            excluded = [*(exclude or []), *([] if train else ["tag:train"])]
            if excluded:
                args += ["--exclude", *excluded]
            if select:
                args += ["--select", select]
            _point_link(link, tmp)
            dbt_target = _target_dir(dbt_env(link, target))
            _restore_partial_parse(dbt_target, link)
            run_dbt(args, link, quiet=quiet, target_path=target)
            if Path(f"{link}.wal").exists():  # DuckDB logs beside the file it resolved; never expected here
                raise BuildError(f"{link}.wal: dbt left a write-ahead log under the link's name; {UNTOUCHED}")
            _save_partial_parse(dbt_target, link)
            _remove_link(link)
            seconds["dbt_build"] = time.perf_counter() - t1
            stage = "checking the new warehouse"
            t2 = time.perf_counter()
            verify_warehouse(tmp, _target_dir(dbt_env(tmp, target)), [str(f.path) for f in files])
            _check_no_pending_wal(warehouse)
            stage = "writing the new warehouse to disk"
            fsync_path(tmp)
            os.replace(tmp, warehouse)
            try:
                fsync_path(warehouse.parent, directory=True)
            except OSError as exc:
                raise BuildError(f"{warehouse}: the new warehouse is in place, but its folder could not be "
                                 f"synced to disk ({exc.strerror}); a power loss now may bring back the old one") \
                    from exc
            seconds["verify_swap"] = time.perf_counter() - t2
        except IngestError as exc:
            if is_no_space(exc):
                raise NoSpaceError(warehouse.parent, stage) from exc
            raise
        except BuildError:
            raise
        except (OSError, duckdb.Error) as exc:
            if is_no_space(exc):
                raise NoSpaceError(warehouse.parent, stage) from exc
            what = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) and exc.filename else \
                str(exc).strip().splitlines()[0]
            raise BuildError(f"{what} (while {stage}); {UNTOUCHED}") from exc
    finally:
        _remove_link(link)
        remove_temp(tmp)  # after a failure: the new file and its WAL; after a swap: the spill folders
        if target is not None:
            shutil.rmtree(target, ignore_errors=True)
    seconds["total"] = time.perf_counter() - t0
    return BuildResult(warehouse=warehouse, files=len(files), raw_rows=raw_rows, seconds=seconds,
                       stale_removed=stale)


def cli_main(args) -> int:
    result = build(args.data, args.warehouse, train=not args.no_train, select=args.select, append=args.append,
                   dbt_args=["--full-refresh"] if getattr(args, "full_refresh", False) else None,
                   exclude=getattr(args, "exclude", None))
    print(
        f"\nWarehouse ready: {result.warehouse}\n"
        f"  {result.files} files, {result.raw_rows:,} raw rows, {result.seconds['total']:.1f} s\n"
        f"  query it:  duckdb {result.warehouse} \"select * from marts.fct_pass_events limit 5\"\n"
        f"  or in Python: duckdb.connect('{result.warehouse}', read_only=True).sql('show all tables')"
    )
    return 0
