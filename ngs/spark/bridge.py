"""The dbt Python models on Spark: the same model files and the same DuckDB-based package functions.

``ngs.dbt_glue.run(func, *args)`` comes here when an argument is a Spark DataFrame or a SparkSession (what
``dbt.ref`` and ``session`` are on Spark). Two ways to run ``func``, chosen by what it declares:

* **On the driver** (training, reports, metrics: inputs of one row per pass or fewer): every Spark
  DataFrame among the arguments is collected through Arrow and registered in a fresh in-memory DuckDB
  connection; the SparkSession argument becomes that connection; ``func`` runs unchanged on it; its pandas
  result becomes a Spark DataFrame (:func:`to_spark`).
* **On the executors, by game** (``@per_game``: the per-pass scoring models, and the tracking part of
  rpt_decisions_metrics): the inputs named by the declaration are grouped by ``game_id`` (one input:
  ``groupBy().applyInPandas``; two: ``cogroup``), and each
  game runs ``func`` unchanged on the executor, on an in-process DuckDB connection holding that game's rows
  (and the small inputs, collected once on the driver and shipped with the closure). Every function so
  declared computes each pass from that pass's rows only (and from per-game labels of the small inputs),
  so game by game gives the rows a single run gives; tests/test_spark.py compares them with DuckDB's.

Incremental models are full rebuilds on Spark (their YAML materialises them as ``table`` there: parquet has
no delete); an ``Increment`` with a table is refused. Artefacts (ngs.artifacts) are read where ``func``
runs: the executors get the driver's resolved artefact folder and thread limit with the closure, so on a
multi-node cluster that folder must be at the same path on every worker (a shared mount), like the
warehouse folder.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from ngs.errors import NgsError


def is_spark_frame(value: object) -> bool:
    return type(value).__module__.startswith("pyspark.") and hasattr(value, "toArrow")


def is_spark_session(value: object) -> bool:
    return type(value).__module__.startswith("pyspark.") and hasattr(value, "createDataFrame") \
        and not hasattr(value, "toArrow")


def _nodes(value) -> Iterator:
    """`value` and, depth first, everything inside it: dict values, list and tuple items, dataclass fields
    (how model arguments nest Spark frames: settings objects, increments, mappings of refs)."""
    yield value
    if isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, (list, tuple)):
        children = list(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = [getattr(value, f.name) for f in dataclasses.fields(value)]
    else:
        return
    for child in children:
        yield from _nodes(child)


def find_spark(args: Sequence, kwargs: dict) -> object | None:
    """The SparkSession behind the arguments (a Spark DataFrame's or the session itself), None when no
    argument comes from Spark (the DuckDB path)."""
    for value in _nodes((tuple(args), kwargs)):
        if is_spark_frame(value):
            return value.sparkSession
        if is_spark_session(value):
            return value
    return None


# ------------------------------------------------------------------------------------- Arrow conversions
def to_arrow(frame) -> pa.Table:
    """A Spark DataFrame's rows as one Arrow table (collected on the driver)."""
    return frame.toArrow()


def spark_to_pandas(frame) -> pd.DataFrame:
    """A Spark DataFrame as pandas with the dtypes DuckDB's ``.df()`` gives (it goes through DuckDB)."""
    con = duckdb.connect()
    try:
        return con.from_arrow(to_arrow(frame)).df()
    finally:
        con.close()


def pandas_to_arrow(out: pd.DataFrame) -> pa.Table:
    """A model's pandas result as Arrow, as DuckDB would type it; a column of no type (all None, no rows)
    becomes a string column (Spark cannot store the null type)."""
    con = duckdb.connect()
    try:
        con.register("ngs_model_result", out)
        table = con.sql("select * from ngs_model_result").to_arrow_table()
    finally:
        con.close()
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table


def to_spark(spark, out) -> object:
    """A package function's result (pandas, or already Spark) as a Spark DataFrame."""
    if is_spark_frame(out):
        return out
    if not isinstance(out, pd.DataFrame):
        raise TypeError(f"a dbt Python model on Spark must return a pandas or Spark DataFrame, not {type(out).__name__}")
    return spark.createDataFrame(pandas_to_arrow(out))


# ---------------------------------------------------------------------------------------------- driver
class _Substitute:
    """Replaces Spark objects among the arguments by DuckDB ones on ``con`` (recursively through dicts,
    lists, tuples and dataclasses such as decisions.Trained and incremental.Increment)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, frames: dict[int, object] | None = None) -> None:
        self.con, self.count = con, 0
        self.frames = frames or {}   # id(spark frame) -> what to put in its place (per-game path)

    def __call__(self, value):
        if is_spark_frame(value):
            if id(value) in self.frames:
                return self.frames[id(value)]
            return self.relation(to_arrow(value))
        if is_spark_session(value):
            return self.con
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            _refuse_incremental(value)
            changes = {f.name: self(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
            return dataclasses.replace(value, **changes)
        return value

    def relation(self, table: pa.Table | pd.DataFrame) -> duckdb.DuckDBPyRelation:
        """``table`` as a table of the connection (a name, so ``sql_query()`` of the relation works in views)."""
        self.count += 1
        return _as_table(self.con, f"ngs_spark_ref_{self.count}", table)


def _as_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table | pd.DataFrame) -> duckdb.DuckDBPyRelation:
    """``table`` copied into a table ``name`` of ``con`` (a named table: ``sql_query()`` of the relation
    works in views, and the rows do not depend on the Arrow object staying alive)."""
    con.register(f"{name}_src", table)
    con.execute(f"create table {name} as select * from {name}_src")
    con.unregister(f"{name}_src")
    return con.table(name)


def _refuse_incremental(value) -> None:
    from ngs.incremental import Increment

    if isinstance(value, Increment) and value.this is not None:
        raise NgsError(f"{value.name}: incremental scoring needs delete on the model's table, which parquet on "
                       "Spark lacks; on Spark the per-pass models are materialised as tables (full rebuild)")


def _connection(threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"set threads = {int(threads)}")
    return con


def run_on_driver(spark, func: Callable, args: Sequence, kwargs: dict, threads: int):
    """``func`` on the driver over DuckDB copies of its Spark inputs; the result as a Spark DataFrame."""
    con = _connection(threads)
    try:
        sub = _Substitute(con)
        out = func(*sub(tuple(args)), **sub(kwargs))
        return to_spark(spark, out)
    finally:
        con.close()


# ---------------------------------------------------------------------------------------- per game
@dataclass(frozen=True)
class PerGame:
    """How a package function scores game by game on the executors: ``inputs`` are paths to the big
    arguments (an int: a positional argument; 'name': a keyword or, after a dot, a dict key, e.g.
    'refs.int_ball_in_air_tracks' or '0.int_ball_in_air_tracks'), at most two; ``schema`` the output's
    columns and types as Spark DDL."""
    inputs: tuple[str, ...]
    schema: str
    unless: Callable[[dict], str | None] | None = None


def per_game(*inputs: str, schema: str, unless: Callable[[dict], str | None] | None = None):
    """Declare that ``func`` scores each game from that game's rows of ``inputs`` (see :class:`PerGame`).
    ``unless(arguments)`` (the bound arguments on the driver: small inputs as DuckDB relations, the per-game
    inputs None) may name a reason why this call needs every game at once; it then runs on the driver."""
    if not 1 <= len(inputs) <= 2:
        raise ValueError("per_game takes one or two inputs (Spark's applyInArrow / cogroup)")

    def mark(func):
        func.ngs_per_game = PerGame(tuple(inputs), schema, unless)
        return func
    return mark


def _resolve(path: str, args: Sequence, kwargs: dict, params: list[str]):
    head, _, key = path.partition(".")
    if head.isdigit():
        value = args[int(head)]
    elif head in kwargs:
        value = kwargs[head]
    else:
        value = args[params.index(head)]
    return value[key] if key else value


def run_by_game(spark, func: Callable, spec: PerGame, args: Sequence, kwargs: dict, threads: int):
    """``func`` on the executors, once per game of ``spec.inputs`` (Spark DataFrames, grouped by game_id);
    every other Spark input is collected on the driver once and shipped with the closure (as Arrow)."""
    import inspect

    from pyspark.sql.pandas.types import to_arrow_schema

    params = list(inspect.signature(func).parameters)
    big = [_resolve(p, args, kwargs, params) for p in spec.inputs]
    if not all(is_spark_frame(b) for b in big):
        raise TypeError(f"{func.__qualname__}: per-game inputs {spec.inputs} must be Spark DataFrames")
    big_ids = [id(b) for b in big]
    small: dict[int, pa.Table] = {}

    for value in _nodes((tuple(args), kwargs)):
        if is_spark_frame(value):
            if id(value) not in big_ids and id(value) not in small:
                small[id(value)] = to_arrow(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            _refuse_incremental(value)
    # the arguments with every Spark object replaced by a slot that the executor fills with a DuckDB relation
    slots = {i: _Slot(n) for n, i in enumerate((*big_ids, *small))}
    shipped_args, shipped_kwargs = _Placeholders(slots)((tuple(args), kwargs))
    small_tables = {slots[i].key: t for i, t in small.items()}
    if spec.unless is not None:
        con = _connection(threads)
        try:
            fill = _Fill(con, small_tables)
            bound = inspect.signature(func).bind(*fill(shipped_args), **fill(shipped_kwargs)).arguments
            reason = spec.unless(dict(bound))
        finally:
            con.close()
        if reason:
            print(f"ngs spark: {func.__qualname__} on the driver: {reason}", flush=True)
            from ngs.threads import limited_threads

            with limited_threads(threads):
                return run_on_driver(spark, func, args, kwargs, threads)
    out_schema = spark.createDataFrame([], spec.schema).schema
    task = _GameTask(func, shipped_args, shipped_kwargs, [slots[i].key for i in big_ids],
                     small_tables,
                     {"NGS_ARTIFACTS_DIR": str(_artifacts_root()), "NGS_MODEL_THREADS": str(threads)},
                     threads, to_arrow_schema(out_schema))
    keyed = [b.groupBy("game_id") for b in big]
    # plain functions with the key: pyspark picks (table) or (key, table) by the function's arity

    def one(key, table: pa.Table) -> pa.Table:
        return task.run([table])

    def two(key, left: pa.Table, right: pa.Table) -> pa.Table:
        return task.run([left, right])

    if len(keyed) == 1:
        return keyed[0].applyInArrow(one, schema=out_schema)
    return keyed[0].cogroup(keyed[1]).applyInArrow(two, schema=out_schema)


def _artifacts_root():
    from ngs.artifacts import artifacts_root

    return artifacts_root().resolve()


@dataclass(frozen=True)
class _Slot:
    key: int


class _Placeholders:
    def __init__(self, slots: dict[int, _Slot]) -> None:
        self.slots = slots

    def __call__(self, value):
        if id(value) in self.slots:
            return self.slots[id(value)]
        if is_spark_session(value):
            return _Slot(-1)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and not isinstance(value, _Slot):
            return dataclasses.replace(value, **{f.name: self(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init})
        return value


class _Fill:
    """On the executor: placeholders -> DuckDB relations / the connection."""

    def __init__(self, con, tables: dict[int, object]) -> None:
        self.con, self.tables, self.made = con, tables, {}

    def __call__(self, value):
        if isinstance(value, _Slot):
            if value.key == -1:
                return self.con
            if value.key not in self.tables:   # a per-game input where only the small ones are given
                return None
            if value.key not in self.made:
                self.made[value.key] = _as_table(self.con, f"ngs_spark_ref_{value.key}", self.tables[value.key])
            return self.made[value.key]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(value, **{f.name: self(getattr(value, f.name))
                                                 for f in dataclasses.fields(value) if f.init})
        return value


class _GameTask:
    """What an executor task runs for one game (pickled with the closure; ``func`` travels by reference)."""

    def __init__(self, func, args, kwargs, slots, small, env, threads, schema: pa.Schema) -> None:
        self.func, self.args, self.kwargs, self.slots = func, args, kwargs, slots
        self.small, self.env, self.threads, self.schema = small, env, threads, schema

    def run(self, tables: list[pa.Table]) -> pa.Table:
        from ngs.threads import limited_threads

        os.environ.update(self.env)   # the driver's artefact folder and thread limit, in this Python worker
        con = _connection(self.threads)
        try:
            fill = _Fill(con, {**self.small, **dict(zip(self.slots, tables, strict=True))})
            with limited_threads(self.threads):
                out = self.func(*fill(self.args), **fill(self.kwargs))
            return conform(pandas_to_arrow(out), self.schema)
        finally:
            con.close()


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns, in order, cast to its types; a missing column is an error."""
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise ValueError(f"per-game output lacks column(s) {missing} of its declared schema")
    return table.select(schema.names).cast(schema)


__all__ = ["PerGame", "find_spark", "is_spark_frame", "per_game", "run_by_game", "run_on_driver",
           "spark_to_pandas", "to_spark"]
