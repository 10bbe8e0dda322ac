"""Load Big Data Bowl files into Spark's `raw.*` tables: the same tables, columns and types `ngs.ingest` gives
DuckDB, from the files `ngs.ingest.discover` recognised (it reads headers only: vintage and entity detection,
missing required columns, empty / binary / truncated files fail there, before Spark starts reading).

Each CSV is read by Spark with every column as text (mode FAILFAST: a row whose field count differs from the
header's fails the read), then each value is converted to its column's type with `try_cast` after the
null spellings DuckDB's loader accepts ('NA', '', 'NaN', 'nan', 'NULL'). One aggregation per file finds the
first value that does not convert and the first fraction in a whole-number column: the error names the file,
the line and the column, like DuckDB's loader. Rows keep their file order in `source_row` (1-based data row:
Spark's `monotonically_increasing_id` numbers a file's rows in order within each input split, and the
splits of one file are in file order; the per-split counts give each split's offset).

Nothing is written until every file has been read and checked; then each raw table is written once (parquet,
overwritten), empty tables are created for vintages that were not given, and `raw.load_manifest` lists the
files with their rows and bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ngs.errors import IngestError
from ngs.ingest.formats import SPECS, WHOLE_NUMBER_DOUBLES, B, FormatSpec
from ngs.ingest.load import INT, NULL_STRINGS, DataFile, _actual_columns, _printable, _size

# DuckDB type -> Spark type
SPARK_TYPES = {"DOUBLE": "double", "BIGINT": "bigint", "VARCHAR": "string", "INTEGER": "int",
               "TIMESTAMP": "timestamp", "BOOLEAN": "boolean"}
_TYPE_WORDS = {"double": "a number", "bigint": "a whole number", "int": "a whole number",
               "timestamp": "a timestamp", "boolean": "true or false"}
RAW_SCHEMA = "raw"
_LOCAL_BITS = 33  # monotonically_increasing_id = partition id << 33 | row index within the partition


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _lit(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def raw_ddl_columns(spec: FormatSpec) -> str:
    """`col type, ...` of a raw table: the spec's columns, then source_file and source_row."""
    cols = [f"{_q(c)} {SPARK_TYPES[t]}" for c, t in spec.columns.items()]
    return ", ".join([*cols, "source_file string", "source_row bigint"])


MANIFEST_DDL = ("source_file string, vintage string, entity string, raw_table string, rows bigint, "
                "bytes bigint, loaded_at timestamp")


def _whole(column: str, duck_type: str) -> bool:
    return duck_type in (INT, B) or column in WHOLE_NUMBER_DOUBLES


def parquet_read_schema(f: DataFile):
    """The Spark schema to read a parquet file with, from its footer (pyarrow), so that Spark does not infer one:
    Spark 4.0 refuses to infer the schema of a file holding a column type it has no type for (the NGS
    highlights' `gameClock` is parquet TIME: `[PARQUET_TYPE_ILLEGAL] Illegal Parquet type: INT64
    (TIME(MICROS,false))`), even when that column is never read. Such a column is declared as a string here and
    left unread (only the spec's columns are selected); one the spec needs is an error naming it."""
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import StringType, StructField, StructType

    needed = set(_actual_columns(f).values())
    fields = []
    for field in pq.read_schema(f.path):
        try:
            # a timestamp without a time zone (DuckDB's TIMESTAMP) is Spark's TIMESTAMP_NTZ, as Spark infers it
            spark_type = from_arrow_type(field.type, prefer_timestamp_ntz=True)
        except (TypeError, NotImplementedError) as exc:
            if field.name in needed:
                raise IngestError(f"{f.path}: column '{field.name}' has the parquet type {field.type}, which Spark "
                                  f"cannot read ({_printable(str(exc), 200)})") from None
            spark_type = StringType()
        fields.append(StructField(field.name, spark_type, True))
    return StructType(fields)


def _source_frame(spark, f: DataFile):
    """The file's rows, every column under a positional name `_cI` (text for a CSV), with `__ngs_id`."""
    from pyspark.sql import functions as F

    path = str(f.path)
    if f.path.suffix.lower() == ".parquet":
        df = spark.read.schema(parquet_read_schema(f)).parquet(path)
        df = df.toDF(*[f"_c{i}" for i in range(len(df.columns))])
    else:
        from pyspark.sql.types import StringType, StructField, StructType

        schema = StructType([StructField(f"_c{i}", StringType(), True) for i in range(len(f.columns))])
        reader = (spark.read.schema(schema)
                  .option("header", "true").option("enforceSchema", "true").option("mode", "FAILFAST")
                  .option("sep", ",").option("quote", '"').option("escape", '"')
                  .option("encoding", "UTF-16" if f.encoding == "utf-16" else "UTF-8"))
        if f.encoding == "utf-16":
            reader = reader.option("multiLine", "true")
        df = reader.csv(path)
    return df.withColumn("__ngs_id", F.monotonically_increasing_id())


def _typed_exprs(f: DataFile, from_parquet: bool) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    """The select list (spec columns, typed; NULL where the file lacks an optional column) and, per column
    read, (column, raw expression, typed expression, spark type) for the checks."""
    position = {c: i for i, c in enumerate(f.columns)}
    actual = _actual_columns(f)
    select, checks = [], []
    for c, t in f.spec.columns.items():
        stype = SPARK_TYPES[t]
        if c not in actual:
            select.append(f"cast(null as {stype}) as {_q(c)}")
            continue
        raw = f"_c{position[actual[c]]}"
        if from_parquet:
            value = raw
        else:
            nulls = ", ".join(_lit(n) for n in NULL_STRINGS)
            value = f"(case when {raw} in ({nulls}) then null else {raw} end)"
        # whole-number columns are read as double first: a fraction is an error, never rounded
        read_type = "double" if stype in ("int", "bigint") else stype
        typed = f"try_cast({value} as {read_type})"
        select.append(f"cast({typed} as {stype}) as {_q(c)}")
        checks.append((actual[c], value, typed, stype if not _whole(c, t) else "whole"))
    return select, checks


def read_checked(spark, f: DataFile):
    """One file as a Spark DataFrame in its raw table's columns (source_file, source_row included) and its
    row count; a value of the wrong type or a fraction in a whole-number column is an IngestError naming
    the file, the line (row, for parquet) and the column."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    from_parquet = f.path.suffix.lower() == ".parquet"
    select, checks = _typed_exprs(f, from_parquet)
    try:
        df = _source_frame(spark, f)
        df = df.withColumn("__ngs_part", F.expr(f"shiftright(__ngs_id, {_LOCAL_BITS})"))
        df = df.withColumn("__ngs_local", F.expr(f"__ngs_id & {(1 << _LOCAL_BITS) - 1}"))
        aggs = ["count(*) as n"]
        for i, (_, value, typed, kind) in enumerate(checks):
            if kind == "whole":
                bad = f"({typed} is not null and {typed} <> floor({typed})) or ({value} is not null and {typed} is null)"
            else:
                bad = f"{value} is not null and {typed} is null"
            aggs.append(f"min(case when {bad} then __ngs_local end) as bad{i}")
        per_part = df.groupBy("__ngs_part").agg(*[F.expr(a) for a in aggs]).collect()
    except PySparkException as exc:
        raise IngestError(_explain_spark(f, exc)) from None
    except Exception as exc:  # py4j errors from the JVM (a malformed row under FAILFAST)
        if type(exc).__name__ in ("Py4JJavaError", "Py4JError"):
            raise IngestError(_explain_spark(f, exc)) from None
        raise
    per_part.sort(key=lambda r: r["__ngs_part"])
    offsets, total = {}, 0
    for r in per_part:
        offsets[r["__ngs_part"]] = total
        total += r["n"]
    if total == 0:
        raise IngestError(f"{f.path}: no data rows")
    first: tuple[int, int] | None = None  # (data row, check index)
    for r in per_part:
        for i in range(len(checks)):
            local = r[f"bad{i}"]
            if local is not None:
                row = offsets[r["__ngs_part"]] + local + 1
                if first is None or row < first[0]:
                    first = (row, i)
    if first is not None:
        row, i = first
        column, value, typed, kind = checks[i]
        part_expr = " ".join(f"when {p} then {o}" for p, o in offsets.items())
        got = (df.where(F.expr(f"(case __ngs_part {part_expr} end) + __ngs_local + 1 = {row}"))
               .select(F.expr(f"cast({value} as string)").alias("v")).collect())
        shown = _printable(str(got[0]["v"])) if got else "?"
        where = f"row {row}" if from_parquet else f"line {row + 1}"
        if kind == "whole":
            raise IngestError(f"{f.path} ({where}), column '{column}': '{shown}' is not a whole number "
                              f"({column} holds whole numbers)")
        raise IngestError(f"{f.path} ({where}), column '{column}': '{shown}' is not "
                          f"{_TYPE_WORDS.get(kind, kind)} (the column's type is {kind})")
    offset_expr = "case __ngs_part " + " ".join(f"when {p} then {o}" for p, o in offsets.items()) + " end"
    out = df.selectExpr(*select, f"{_lit(str(f.path))} as source_file",
                        f"cast({offset_expr} + __ngs_local + 1 as bigint) as source_row")
    return out, total


def _explain_spark(f: DataFile, exc: BaseException) -> str:
    """Spark's read error as one line naming the file; a malformed row (field count) is located with the
    line-exact DuckDB reader when it agrees."""
    text = str(exc)
    if "Malformed" in text or "MALFORMED" in text or "FAILED_READ_FILE" in text:
        from ngs.ingest.load import read_file

        try:
            read_file(f)
        except IngestError as located:
            return str(located)
        except Exception:  # noqa: BLE001 - the diagnosis is best effort; Spark's own line follows
            pass
        return f"{f.path}: a row does not match the header's {len(f.columns)} columns (malformed or truncated file)"
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return f"{f.path}: cannot read the file ({_printable(first, 300)})"


def load_raw(spark, files: list[DataFile], on_loaded: Callable[[DataFile, int], None] | None = None) -> int:
    """Read and check every file, then (re)write every raw table and raw.load_manifest; returns the rows loaded."""
    from pyspark.sql import Row

    frames: dict[str, list] = {}
    manifest = []
    rows = 0
    for f in files:
        df, n = read_checked(spark, f)
        frames.setdefault(f.spec.table, []).append(df)
        manifest.append(Row(source_file=str(f.path), vintage=f.spec.vintage, entity=f.spec.entity,
                            raw_table=f"{RAW_SCHEMA}.{f.spec.table}", rows=n, bytes=_size(f.path),
                            loaded_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)))
        rows += n
        if on_loaded:
            on_loaded(f, n)
    spark.sql(f"create database if not exists {RAW_SCHEMA}")
    for spec in SPECS:
        table = f"{RAW_SCHEMA}.{spec.table}"
        parts = frames.get(spec.table)
        spark.sql(f"drop table if exists {table}")
        if not parts:
            spark.sql(f"create table {table} ({raw_ddl_columns(spec)}) using parquet")
            continue
        df = parts[0]
        for other in parts[1:]:
            df = df.unionByName(other)
        df.write.format("parquet").mode("overwrite").saveAsTable(table)
    spark.sql(f"drop table if exists {RAW_SCHEMA}.load_manifest")
    manifest_df = spark.createDataFrame(manifest, schema=MANIFEST_DDL) if manifest else \
        spark.createDataFrame([], schema=MANIFEST_DDL)
    manifest_df.write.format("parquet").mode("overwrite").saveAsTable(f"{RAW_SCHEMA}.load_manifest")
    return rows


__all__ = ["SPARK_TYPES", "load_raw", "raw_ddl_columns", "read_checked"]
