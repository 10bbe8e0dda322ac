"""Pandas-per-partition work that runs unchanged on DuckDB and on Spark, for dbt Python models.

In a dbt Python model `dbt.ref("x")` is a DuckDB relation on DuckDB and a Spark DataFrame on Spark. A model
that scores with `map_partitions(dbt.ref("x"), fn, by=[...], schema=...)` runs on both:

- `fn` receives a pandas DataFrame holding one or more *complete* groups of `by` (every row of a game, say)
  and returns a pandas DataFrame with exactly the columns of `schema`. It must not depend on which other
  groups share its partition (no global statistics): that is what lets Spark run it on the executors.
- On Spark: the frame is repartitioned by `by` and `fn` runs in `mapInPandas` on the executors, once per
  non-empty partition; the result is a Spark DataFrame (what dbt-spark writes).
- On DuckDB: the relation is split into `partitions` hash buckets of `by`, each read and scored in turn (a
  bounded slice of memory at a time); the result is one pandas DataFrame with `schema`'s dtypes (what
  dbt-duckdb writes).

`schema` is a Spark DDL string, e.g. "game_id bigint, play_id bigint, score double"; the types it accepts
are the ones both engines share (see _PANDAS_DTYPES).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pandas as pd

# Spark DDL type -> pandas dtype on the DuckDB side (nullable integers: a missing key stays missing)
_PANDAS_DTYPES = {
    "tinyint": "Int8", "smallint": "Int16", "int": "Int32", "integer": "Int32", "bigint": "Int64",
    "float": "float32", "double": "float64", "boolean": "boolean", "string": "object",
}

PartitionFn = Callable[[pd.DataFrame], pd.DataFrame]


def parse_schema(schema: str) -> list[tuple[str, str]]:
    """'a bigint, b double' -> [('a', 'bigint'), ('b', 'double')]; an unknown type or a malformed entry is a
    ValueError naming it."""
    fields = []
    for part in schema.split(","):
        words = part.split()
        if len(words) != 2:
            raise ValueError(f"map_partitions schema entry {part.strip()!r} is not '<column> <type>'")
        name, kind = words[0].strip("`"), words[1].lower()
        if kind not in _PANDAS_DTYPES:
            raise ValueError(f"map_partitions schema column {name!r}: type {kind!r} is not one of "
                             f"{sorted(_PANDAS_DTYPES)}")
        fields.append((name, kind))
    if not fields:
        raise ValueError("map_partitions schema is empty")
    return fields


def engine_of(frame: object) -> str:
    """'spark' for a Spark DataFrame (classic or Connect), 'duckdb' for a DuckDB relation."""
    module = type(frame).__module__
    if module.startswith("pyspark."):
        return "spark"
    if module.split(".")[0] in ("duckdb", "_duckdb"):
        return "duckdb"
    raise TypeError(f"map_partitions takes a DuckDB relation or a Spark DataFrame, not {type(frame).__name__}")


def _conform(out: pd.DataFrame, fields: list[tuple[str, str]]) -> pd.DataFrame:
    """`fn`'s output with exactly the schema's columns, in order, with its types; a missing column is an error."""
    if not isinstance(out, pd.DataFrame):
        raise TypeError(f"map_partitions function returned {type(out).__name__}, not a pandas DataFrame")
    names = [name for name, _ in fields]
    missing = [n for n in names if n not in out.columns]
    if missing:
        raise ValueError(f"map_partitions function output lacks column(s) {missing} of the schema")
    return out[names].astype({name: _PANDAS_DTYPES[kind] for name, kind in fields})


def _spark_partition_runner(fn: PartitionFn, fields: list[tuple[str, str]]):
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        # the whole partition at once: repartition(by) put every row of a group here, but Arrow batches
        # (spark.sql.execution.arrow.maxRecordsPerBatch) may split a group
        parts = [b for b in batches if len(b)]
        if not parts:
            return
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        yield _conform(fn(frame), fields)
    return run


def map_partitions(frame, fn: PartitionFn, by: Sequence[str], schema: str, partitions: int | None = None):
    """Run `fn` over complete groups of `by`: a Spark DataFrame on Spark, a pandas DataFrame on DuckDB."""
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise ValueError("map_partitions needs at least one `by` column")
    fields = parse_schema(schema)
    engine = engine_of(frame)
    missing = [c for c in by if c not in frame.columns]
    if missing:
        raise ValueError(f"map_partitions: `by` column(s) {missing} not in the input's columns {list(frame.columns)}")
    if partitions is not None and partitions < 1:
        raise ValueError(f"map_partitions: partitions must be >= 1, got {partitions}")

    if engine == "spark":
        spread = frame.repartition(partitions, *by) if partitions else frame.repartition(*by)
        return spread.mapInPandas(_spark_partition_runner(fn, fields), schema=schema)

    buckets = partitions or 4
    keys = ", ".join(f'"{c}"' for c in by)
    outputs = []
    for bucket in range(buckets):
        part = frame.filter(f"hash({keys}) % {buckets} = {bucket}").df()
        if len(part):
            outputs.append(_conform(fn(part), fields))
    if not outputs:
        return pd.DataFrame({name: pd.Series(dtype=_PANDAS_DTYPES[kind]) for name, kind in fields})
    return pd.concat(outputs, ignore_index=True)
