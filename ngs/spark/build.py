"""`ngs build --engine spark --data DIR`: load the files into Spark's raw tables (ngs.spark.ingest), then run
`dbt build` on the `spark` target in the same process and SparkSession (ngs.spark.launcher).

Python models (python_models/) and everything downstream of them are left out (`--exclude
path:python_models+`) unless `--spark-python` is given (or NGS_SPARK_PYTHON_MODELS=1): they are being
ported to Spark separately. The build says which it did.

Unlike the DuckDB build there is no file to swap in: the raw tables are written only after every file has been
read and checked (a bad file leaves the previous tables as they were), and dbt rebuilds each model by drop +
create on parquet (docs/scale-out.md).

`--append` (ngs.spark.append) adds the folders' files to the warehouse's raw tables, with DuckDB's checks and
errors (a file already loaded, a bad value, tracking of a play already loaded: nothing written), then dbt
builds: int_tracking_flagged (batched_by_game: a parquet table partitioned by game) overwrites only the
partitions of the games the new files hold, every other model is rebuilt from all the loaded files (the
per-pass Python models rescore every pass: they are tables on Spark), so the result is a full build's. If dbt
fails, the files the append added to the raw tables are removed again and the partitioned tables are put back
as they were (ngs.spark.append.PartitionBackup): the append can be run again. An append to a Spark warehouse
that has no raw.load_manifest yet is a full build, as on DuckDB. `--full-refresh` is passed to dbt (every
model, int_tracking_flagged included, is then rebuilt whole).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ngs.errors import BuildError
from ngs.ingest.load import discover
from ngs.paths import REPO_ROOT

PYTHON_EXCLUDE = "path:python_models+"


@dataclass
class SparkBuildResult:
    files: int
    raw_rows: int
    python_models: bool
    appended: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def python_models_included(flag: bool | None = None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("NGS_SPARK_PYTHON_MODELS", "").strip().lower() in ("1", "true", "yes")


def dbt_build_args(select: str | None = None, exclude: list[str] | None = None, train: bool = True,
                   python_models: bool = False, full_refresh: bool = False) -> list[str]:
    args = ["build", "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT), "--target", "spark",
            *(["--full-refresh"] if full_refresh else [])]
    excluded = [*(exclude or []), *([] if train else ["tag:train"]), *([] if python_models else [PYTHON_EXCLUDE])]
    if excluded:
        args += ["--exclude", *excluded]
    if select:
        args += ["--select", select]
    return args


def build(data_dirs: list[Path], select: str | None = None, exclude: list[str] | None = None,
          train: bool = True, python_models: bool | None = None, quiet: bool = False, append: bool = False,
          full_refresh: bool = False) -> SparkBuildResult:
    from ngs.spark import launcher
    from ngs.spark import settings as spark_settings
    from ngs.spark.append import PartitionBackup, append_raw, has_warehouse
    from ngs.spark.ingest import load_raw

    t0 = time.perf_counter()
    include_python = python_models_included(python_models)
    files = discover([Path(d) for d in data_dirs])  # headers only: fails before Spark starts
    cfg = spark_settings.load()
    launcher._export_settings(cfg)
    os.environ.setdefault("NGS_REPO_ROOT", str(REPO_ROOT))
    if os.environ.get("NGS_DBT_TARGET_PATH"):  # the project's name for dbt's target folder (tests, parallel runs)
        os.environ["DBT_TARGET_PATH"] = os.environ["NGS_DBT_TARGET_PATH"]
    seconds: dict[str, float] = {}
    spark = launcher.start_session(cfg)
    try:
        seconds["session"] = time.perf_counter() - t0

        def report(f, n: int) -> None:
            if not quiet:
                print(f"  read {f.path} as {f.spec.vintage} {f.spec.entity}: {n:,} rows", flush=True)

        t1 = time.perf_counter()
        appended = None
        if append and has_warehouse(spark):
            appended = append_raw(spark, files, str(cfg.warehouse_dir), on_loaded=report)
            raw_rows = appended.rows
        else:
            if append and not quiet:
                print(f"no Spark warehouse at {cfg.warehouse_dir} yet (no raw.load_manifest): a full build",
                      flush=True)
            raw_rows = load_raw(spark, files, on_loaded=report)
        seconds["ingest"] = time.perf_counter() - t1
        loaded = spark.sql("select coalesce(sum(rows), 0) from raw.load_manifest").collect()[0][0]
        partitions = spark_settings.shuffle_partitions_for(loaded, cfg.shuffle_partitions)
        if partitions != cfg.shuffle_partitions:   # a runtime setting: dbt's session (the same) keeps it
            spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
            spark.conf.set("spark.sql.adaptive.advisoryPartitionSizeInBytes", spark_settings.ADVISORY_PARTITION_BYTES)
            if not quiet:
                print(f"spark.sql.shuffle.partitions {partitions} for {loaded:,} loaded rows, adaptive execution's "
                      f"advisory partition size {spark_settings.ADVISORY_PARTITION_BYTES} "
                      "(NGS_SPARK_SHUFFLE_PARTITIONS sets the partitions, and leaves both)", flush=True)
        if not quiet:
            what = (f"raw tables appended to ({raw_rows:,} new rows); int_tracking_flagged gets the new games' "
                    "partitions, every other model is rebuilt from all loaded files"
                    if appended else f"raw tables written ({raw_rows:,} rows)")
            print(f"{what}; dbt build on Spark (master {cfg.master}), "
                  + ("Python models included" if include_python else
                     f"Python models and their descendants excluded (--exclude {PYTHON_EXCLUDE}; "
                     "--spark-python or NGS_SPARK_PYTHON_MODELS=1 includes them)"), flush=True)
        backup = None
        if appended is not None:
            try:
                backup = PartitionBackup.take(spark, cfg.warehouse_dir)
            except BaseException:
                appended.rollback()
                raise
        launcher.register()
        from dbt.cli.main import dbtRunner

        t2 = time.perf_counter()
        args = dbt_build_args(select, exclude, train, include_python, full_refresh)
        if quiet:
            args = ["--quiet", *args]
        try:
            result = dbtRunner().invoke(args)
        except BaseException:
            _undo(appended, backup)
            raise
        seconds["dbt_build"] = time.perf_counter() - t2
        if not result.success:
            why = f": {result.exception}" if result.exception is not None else " (see the dbt log above)"
            raise BuildError(f"dbt build on Spark failed{why}{_undo(appended, backup)}")
        if backup is not None:
            backup.discard()
    finally:
        launcher.stop_session()
    seconds["total"] = time.perf_counter() - t0
    return SparkBuildResult(files=len(files), raw_rows=raw_rows, python_models=include_python,
                            appended=appended is not None, seconds=seconds)


def _undo(appended, backup=None) -> str:
    """After a failed dbt build: take the append's files out of the raw tables again and put the partitioned
    (incremental) model tables back as they were (ngs.spark.append.PartitionBackup); what happened, as the end
    of the error message ('' when nothing was appended)."""
    if appended is None:
        return ""
    try:
        appended.rollback()
    except Exception as exc:  # noqa: BLE001 - reported in the build's error, which is raised anyway
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return (f"; removing the appended files from the raw tables failed as well ({first}): rebuild without "
                "--append from all the folders")
    restored = []
    if backup is not None:
        try:
            restored = backup.restore()
        except Exception as exc:  # noqa: BLE001 - as above
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return (f"; the files this append added to the raw tables were removed again, but putting the "
                    f"incremental model tables back failed ({first}): rebuild with --full-refresh")
    tables = f"; incremental tables: {', '.join(restored)}" if restored else ""
    return ("; the files this append added to the raw tables were removed again" + tables + " (run the append "
            "again once fixed; models dbt rebuilt whole before the failure hold the new rows until then)")


def cli_main(args) -> int:
    result = build(args.data, select=args.select, exclude=getattr(args, "exclude", None), train=not args.no_train,
                   python_models=True if getattr(args, "spark_python", False) else None,
                   append=getattr(args, "append", False), full_refresh=getattr(args, "full_refresh", False))
    s = result.seconds
    rows = f"{result.raw_rows:,} raw rows" + (" appended" if result.appended else "")
    print(f"\nSpark build done: {result.files} files, {rows}, {s['total']:.1f} s "
          f"(session {s['session']:.1f} s, ingest {s['ingest']:.1f} s, dbt build {s['dbt_build']:.1f} s)\n"
          f"  tables: {os.environ.get('NGS_SPARK_WAREHOUSE_DIR')} (databases raw, staging, intermediate, marts, "
          "reference)", file=sys.stderr)
    return 0
