"""`ngs build --engine spark --append`: add files to an existing Spark warehouse's raw tables, with the checks
of DuckDB's `ngs build --append` and the same errors, then (ngs.spark.build) run dbt: int_tracking_flagged
overwrites the partitions of the new games, the other models are rebuilt from every loaded file.

In order, and nothing is written until every check has passed:

1. a file already in `raw.load_manifest` (same path) is refused: "<file>: already loaded into <warehouse>
   (use a new file name)";
2. every new file is read and checked (ngs.spark.ingest.read_checked: wrong types, fractions in whole-number
   columns, malformed rows, each naming the file, the line and the column);
3. tracking of a (game, play) an earlier load holds is refused, naming the new file, the first such play
   and how many (ngs.ingest.load.check_no_replayed_plays' message); new play metadata for loaded plays is
   allowed (the file loaded last describes them, as on DuckDB).

Then the new rows are appended to their raw tables (new parquet files beside the old ones) and to
`raw.load_manifest`. :class:`Appended` remembers which files each table had before, so a failure while
writing, or a failed dbt build afterwards (ngs.spark.build), removes exactly the files the append added: the
raw tables are back to what they were and the same append can be run again. :class:`PartitionBackup` does the
same for the partitioned model tables a failed dbt build may have written partitions of.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from ngs.ingest.load import DataFile, _key_columns, _size, refuse_loaded, replayed_plays_error
from ngs.spark.ingest import MANIFEST_DDL, RAW_SCHEMA, _q, read_checked

MANIFEST = f"{RAW_SCHEMA}.load_manifest"


def has_warehouse(spark) -> bool:
    """True when the Spark warehouse holds a loaded build (its raw.load_manifest exists)."""
    return bool(spark.catalog.tableExists(MANIFEST))


def already_loaded(spark) -> set[str]:
    return {r[0] for r in spark.sql(f"select distinct source_file from {MANIFEST}").collect()}




def check_no_replayed_plays(spark, frames: dict[str, list[tuple[DataFile, object]]]) -> None:
    """DuckDB's check (ngs.ingest.load.check_no_replayed_plays) on the new files' checked frames, before
    anything is written: the first new tracking file (by name) holding a play a loaded file holds."""
    for table, parts in frames.items():
        files = [f for f, _ in parts if "tracking" in f.spec.entity]
        if not files:
            continue
        game, play = (_q(c) for c in _key_columns(files[0].spec))
        new = None
        for f, df in parts:
            if "tracking" not in f.spec.entity:
                continue
            keys = df.selectExpr("source_file", f"{game} as game_id", f"{play} as play_id").distinct()
            new = keys if new is None else new.unionByName(keys)
        new.createOrReplaceTempView("ngs_append_new_plays")
        try:
            rows = spark.sql(
                f"with old as (select distinct {game} as game_id, {play} as play_id from {RAW_SCHEMA}.{_q(table)}) "
                "select n.source_file, n.game_id, n.play_id, count(*) over () as n "
                "from ngs_append_new_plays as n inner join old on n.game_id = old.game_id and n.play_id = old.play_id "
                "order by 1, 2, 3 limit 1").collect()
        finally:
            spark.catalog.dropTempView("ngs_append_new_plays")
        if rows:
            raise replayed_plays_error(*rows[0])


@dataclass
class Appended:
    """The files each raw table held before the append (Hadoop paths), to take the append back."""
    spark: object
    before: dict[str, set[str]] = field(default_factory=dict)
    rows: int = 0

    def _fs_dir(self, table: str):
        jvm = self.spark.sparkContext._jvm
        location = next(r["data_type"] for r in self.spark.sql(f"describe table extended {table}").collect()
                        if r["col_name"] == "Location")
        path = jvm.org.apache.hadoop.fs.Path(location)
        return path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()), path

    def _files(self, table: str) -> set[str]:
        fs, path = self._fs_dir(table)
        if not fs.exists(path):
            return set()
        return {str(s.getPath().toString()) for s in fs.listStatus(path)}

    def remember(self, table: str) -> None:
        self.before[table] = self._files(table)

    def rollback(self) -> list[str]:
        """Delete every file the append added to the tables it touched; the tables' names, refreshed."""
        undone = []
        for table, old in self.before.items():
            fs, _ = self._fs_dir(table)
            jvm = self.spark.sparkContext._jvm
            for name in sorted(self._files(table) - old):
                fs.delete(jvm.org.apache.hadoop.fs.Path(name), True)
            self.spark.catalog.refreshTable(table)
            undone.append(table)
        return undone


BACKUP_DIR = ".ngs_append_backup"


def _partitioned_tables(spark) -> dict[str, list[str]]:
    """`schema.table` -> partition columns of every partitioned table outside raw (the incremental models:
    batched_by_game on Spark)."""
    out = {}
    for db in spark.catalog.listDatabases():
        if db.name == RAW_SCHEMA:
            continue
        for t in spark.catalog.listTables(db.name):
            if t.isTemporary or (t.tableType or "").upper() == "VIEW":
                continue
            name = f"{db.name}.{t.name}"
            parts = [c.name for c in spark.catalog.listColumns(name) if c.isPartition]
            if parts:
                out[name] = parts
    return out


def _local_location(spark, table: str) -> Path | None:
    """The table's folder when it is on the local file system (None otherwise)."""
    location = next(r["data_type"] for r in spark.sql(f"describe table extended {table}").collect()
                    if r["col_name"] == "Location")
    url = urlparse(location)
    return Path(unquote(url.path)) if url.scheme in ("", "file") else None


def _data_files(folder: Path) -> set[str]:
    """The data files of a partitioned table's folder, relative ('game_id=1/part-...parquet'), without Hadoop's
    checksum and marker files."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith((".", "_"))}


def _link_tree(src: Path, dst: Path) -> None:
    """A copy of ``src``'s partition folders at ``dst``: hard links (parquet files are never changed in place,
    Spark replaces them), a plain copy where a link is not possible."""
    for part in sorted(p for p in src.iterdir() if p.is_dir() and "=" in p.name):
        (dst / part.name).mkdir(parents=True)
        for f in part.iterdir():
            if f.is_file():
                try:
                    os.link(f, dst / part.name / f.name)
                except OSError:
                    shutil.copy2(f, dst / part.name / f.name)


@dataclass
class PartitionBackup:
    """The files of every partitioned model table (the Spark `batched_by_game` tables, which an append
    overwrites game by game) before an append's dbt build, to put them back when the build fails: the
    partitions the append wrote go, the ones it overwrote come back. A partitioned table that was not saved
    (created or made partitioned by the failed build, or not on the local file system) is dropped: the next
    build builds it whole."""
    spark: object
    root: Path
    saved: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def take(cls, spark, warehouse_dir: Path) -> PartitionBackup:
        root = Path(warehouse_dir) / BACKUP_DIR
        shutil.rmtree(root, ignore_errors=True)  # a backup left by a killed run is stale
        backup = cls(spark, root)
        for table in _partitioned_tables(spark):
            folder = _local_location(spark, table)
            if folder is None or not folder.is_dir():
                continue
            _link_tree(folder, root / table)
            backup.saved[table] = folder
        return backup

    def restore(self) -> list[str]:
        """Put every saved table's partitions back as they were; drop a partitioned table that was not saved.
        What was done, one phrase per table changed."""
        done = []
        for table in sorted(_partitioned_tables(self.spark)):
            folder = self.saved.get(table)
            if folder is None:
                self.spark.sql(f"drop table if exists {table}")
                done.append(f"{table} dropped (built by the failed build: the next build builds it whole)")
                continue
            saved = self.root / table
            if _data_files(folder) == _data_files(saved):
                continue
            for part in [p for p in folder.iterdir() if p.is_dir() and "=" in p.name]:
                shutil.rmtree(part)
            for part in saved.iterdir():
                os.rename(part, folder / part.name)
            self.spark.sql(f"msck repair table {table} sync partitions")
            self.spark.catalog.refreshTable(table)
            done.append(f"{table} restored")
        missing = sorted(set(self.saved) - set(_partitioned_tables(self.spark)))
        done += [f"{t} gone (dropped by the failed build: the next build builds it whole)" for t in missing]
        self.discard()
        return done

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def append_raw(spark, files: list[DataFile], warehouse: str,
               on_loaded: Callable[[DataFile, int], None] | None = None) -> Appended:
    """Check the new files against the warehouse and each other (module docstring), then append their rows to
    the raw tables and raw.load_manifest. An error before the writes leaves every table as it was; one while
    writing takes back what was written, then raises."""
    from pyspark.sql import Row

    refuse_loaded(files, already_loaded(spark), warehouse)
    frames: dict[str, list[tuple[DataFile, object]]] = {}
    manifest = []
    appended = Appended(spark)
    for f in files:
        df, n = read_checked(spark, f)
        frames.setdefault(f.spec.table, []).append((f, df))
        manifest.append(Row(source_file=str(f.path), vintage=f.spec.vintage, entity=f.spec.entity,
                            raw_table=f"{RAW_SCHEMA}.{f.spec.table}", rows=n, bytes=_size(f.path),
                            loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
        appended.rows += n
        if on_loaded:
            on_loaded(f, n)
    check_no_replayed_plays(spark, frames)
    tables = [f"{RAW_SCHEMA}.{t}" for t in frames]
    for table in [*tables, MANIFEST]:
        appended.remember(table)
    try:
        for table_name, parts in frames.items():
            df = parts[0][1]
            for _, other in parts[1:]:
                df = df.unionByName(other)
            df.write.format("parquet").mode("append").saveAsTable(f"{RAW_SCHEMA}.{table_name}")
        spark.createDataFrame(manifest, schema=MANIFEST_DDL).write.format("parquet").mode("append") \
            .saveAsTable(MANIFEST)
    except BaseException:
        appended.rollback()
        raise
    return appended


__all__ = ["Appended", "PartitionBackup", "append_raw", "already_loaded", "check_no_replayed_plays", "has_warehouse"]
