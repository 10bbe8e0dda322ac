"""`ngs build`: ingest folders into raw tables, run `dbt build`, swap the new warehouse in atomically.

The warehouse is built in a temporary file next to the target. Only when ingestion and every dbt
model and test succeed is it renamed over the target (`os.replace`, atomic on one file system). Any
failure removes the temporary file: the previous warehouse, and a Superset serving it, are untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ngs.errors import BuildError, IngestError
from ngs.ingest import create_raw_tables, discover, load_files
from ngs.ingest.load import already_loaded, check_no_replayed_plays
from ngs.paths import REPO_ROOT


@dataclass
class BuildResult:
    warehouse: Path
    files: int
    raw_rows: int
    seconds: dict[str, float] = field(default_factory=dict)


def dbt_env(warehouse: Path, target_path: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        NGS_WAREHOUSE_PATH=str(warehouse),
        NGS_REPO_ROOT=str(REPO_ROOT),
        DO_NOT_TRACK="1",
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
    )
    env.setdefault("NGS_DUCKDB_TMP", str(warehouse.parent / ".duckdb_tmp"))
    # dbt's own DBT_TARGET_PATH; NGS_DBT_TARGET_PATH is the project's name for it (parallel runs, tests)
    target = target_path or env.get("NGS_DBT_TARGET_PATH")
    if target:
        env["DBT_TARGET_PATH"] = target
    return env


def dbt_executable() -> str:
    exe = Path(sys.executable).with_name("dbt")
    return str(exe) if exe.exists() else "dbt"


def run_dbt(args: list[str], warehouse: Path, quiet: bool = False) -> None:
    """Run one dbt command against `warehouse` in a subprocess (dbt and DuckDB keep global state)."""
    cmd = [dbt_executable(), *args, "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)]
    env = dbt_env(warehouse)
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, text=True,
                          stdout=subprocess.PIPE if quiet else None, stderr=subprocess.STDOUT if quiet else None)
    if proc.returncode != 0:
        raise BuildError(_dbt_failure_summary(env) + (f"\n{proc.stdout[-4000:]}" if quiet and proc.stdout else ""))


def _dbt_failure_summary(env: dict[str, str]) -> str:
    target = Path(env.get("DBT_TARGET_PATH", "target"))
    results = (target if target.is_absolute() else REPO_ROOT / target) / "run_results.json"
    failed: list[str] = []
    try:
        for r in json.loads(results.read_text())["results"]:
            if r["status"] in ("error", "fail", "runtime error"):
                msg = (r.get("message") or "").strip().splitlines()
                failed.append(f"  {r['unique_id']}: {r['status']}{': ' + msg[0] if msg else ''}")
    except (OSError, KeyError, ValueError):
        pass
    head = "dbt build failed; the previous warehouse was left untouched."
    return head + ("\n" + "\n".join(failed[:20]) if failed else "")


# Schemas the build creates. DuckDB names a database file's catalog after the file, and a catalog named like
# a schema makes every reference to that schema ambiguous: `marts.duckdb` cannot hold schema `marts`.
SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "main")


def _temp_path(warehouse: Path) -> Path:
    # Same catalog name as the target (DuckDB takes it from the name up to its first dot): the views dbt
    # creates name their catalog, and they must still resolve after the file is renamed into place.
    return warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")


def check_warehouse_name(warehouse: Path) -> None:
    catalog = warehouse.name.lstrip(".").split(".")[0]
    if catalog.lower() in SCHEMAS:
        raise BuildError(
            f"{warehouse}: a warehouse file may not be named after one of its schemas ({', '.join(SCHEMAS)}): "
            f"DuckDB would call its catalog '{catalog}' and every reference to schema {catalog} would be "
            "ambiguous. Choose another name, e.g. ngs.duckdb."
        )


def _remove(path: Path) -> None:
    for p in (path, Path(str(path) + ".wal")):
        p.unlink(missing_ok=True)


def build(
    data_dirs: list[Path],
    warehouse: Path,
    train: bool = True,
    select: str | None = None,
    append: bool = False,
    dbt_args: list[str] | None = None,
    quiet: bool = False,
    exclude: list[str] | None = None,
) -> BuildResult:
    warehouse = Path(warehouse).resolve()
    check_warehouse_name(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    files = discover([Path(d) for d in data_dirs])  # fails before anything is written
    tmp = _temp_path(warehouse)
    _remove(tmp)
    try:
        if append and warehouse.exists():
            shutil.copyfile(warehouse, tmp)
        con = duckdb.connect(str(tmp))
        try:
            create_raw_tables(con)
            done = already_loaded(con) if append else set()
            for f in files:
                if str(f.path) in done:
                    raise IngestError(f"{f.path}: already loaded into {warehouse} (use a new file name)")

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
        args = ["build", *(dbt_args or [])]
        excluded = [*(exclude or []), *([] if train else ["tag:train"])]
        if excluded:
            args += ["--exclude", *excluded]
        if select:
            args += ["--select", select]
        run_dbt(args, tmp, quiet=quiet)
        seconds["dbt_build"] = time.perf_counter() - t1
        os.replace(tmp, warehouse)
    except BaseException:
        _remove(tmp)
        raise
    seconds["total"] = time.perf_counter() - t0
    return BuildResult(warehouse=warehouse, files=len(files), raw_rows=raw_rows, seconds=seconds)


def cli_main(args) -> int:
    result = build(args.data, args.warehouse, train=not args.no_train, select=args.select, append=args.append)
    print(
        f"\nWarehouse ready: {result.warehouse}\n"
        f"  {result.files} files, {result.raw_rows:,} raw rows, {result.seconds['total']:.1f} s\n"
        f"  query it:  duckdb {result.warehouse} \"select * from marts.fct_pass_events limit 5\"\n"
        f"  or in Python: duckdb.connect('{result.warehouse}', read_only=True).sql('show all tables')"
    )
    return 0
