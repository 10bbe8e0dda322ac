"""A DuckDB warehouse's tables copied into Spark, and the dbt Python models run on them there.

The development harness of the Python models on Spark (docs/scale-out.md): the Python models read a few
tables built by SQL models (PYTHON_INPUTS); copying those from a DuckDB build into Spark tables of the same
schema and name (parquet, Arrow types kept) lets ``dbt run --select <python models>`` run on Spark without
the SQL models, and each Python model's table can then be compared with the DuckDB build's.

    python -m ngs.spark.mirror --duckdb warehouse/ngs.duckdb --select tag:python   # one JVM: copy + dbt

Spark settings come from the ``NGS_SPARK_*`` variables (ngs.spark.settings), as for ``ngs spark dbt``.
"""

from __future__ import annotations

import argparse
import ast
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ngs.errors import NgsError
from ngs.paths import REPO_ROOT

PYTHON_MODELS_DIR = REPO_ROOT / "python_models"


def python_models() -> list[str]:
    """The names of the dbt Python models (python_models/**/*.py, the file names)."""
    return sorted(p.stem for p in PYTHON_MODELS_DIR.rglob("*.py") if not p.name.startswith("_"))


def python_inputs() -> list[str]:
    """The refs of the Python models that are not Python models themselves: what a DuckDB build must give
    Spark (the literal names in ``dbt.ref("...")`` calls, as dbt's parser reads them)."""
    own = set(python_models())
    refs: set[str] = set()
    for path in PYTHON_MODELS_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ref"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                refs.add(node.args[0].value)
    return sorted(refs - own)


def duckdb_tables(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, str]:
    """name -> its schema in the DuckDB warehouse (tables and views); a name not there is an error."""
    rows = con.execute("select table_schema, table_name from information_schema.tables "
                       "where table_catalog = current_database()").fetchall()
    where: dict[str, list[str]] = {}
    for schema, name in rows:
        where.setdefault(name, []).append(schema)
    missing = [n for n in names if n not in where]
    if missing:
        raise NgsError(f"the DuckDB warehouse has no table {', '.join(missing)} (build it with `ngs build` first)")
    ambiguous = [n for n in names if len(where[n]) > 1]
    if ambiguous:
        raise NgsError(f"tables in more than one schema: {', '.join(ambiguous)}")
    return {n: where[n][0] for n in names}


def mirror(spark, warehouse: Path, names: list[str] | None = None) -> dict[str, int]:
    """Copy ``names`` (default: :func:`python_inputs`) from the DuckDB file ``warehouse`` into Spark tables
    ``<schema>.<name>`` (parquet, replaced), types as Arrow carries them. Returns name -> rows."""
    names = python_inputs() if names is None else names
    if not Path(warehouse).is_file():
        raise NgsError(f"no DuckDB warehouse at {warehouse}")
    copied = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, schema in duckdb_tables(con, names).items():
            table = con.sql(f'select * from "{schema}"."{name}"').to_arrow_table()
            spark.sql(f"create database if not exists `{schema}`")
            spark.sql(f"drop table if exists `{schema}`.`{name}`")
            spark.createDataFrame(table).write.format("parquet").mode("overwrite").saveAsTable(f"`{schema}`.`{name}`")
            copied[name] = table.num_rows
    return copied


# What differs between two builds by nature, left out of the comparison: wall times measured by the training
MEASURED = {"ghosting_model_training": lambda f: f[~f["metric"].isin(["train_seconds", "total_seconds"])]}

# Tables above this many rows are compared in SQL: at 50 simulated games int_tracking_flagged (10.5M rows, 40
# columns) as two pandas frames with a string sort key needs ~25 GB; DuckDB's sort spills instead
LARGE_ROWS = 1_000_000
COMPARE_MEMORY = "3GB"   # the comparison's DuckDB memory; its sorts spill to a temporary folder beyond it
_FLOATS = ("FLOAT", "DOUBLE", "REAL", "DECIMAL")
_NUMBERS = (*_FLOATS, "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT")


def run(warehouse: Path, select: str, project_dir: Path = REPO_ROOT, extra_dbt: list[str] | None = None,
        compare: list[str] | None = None, tol: float = 1e-6) -> dict:
    """One Spark session (ngs.spark.launcher): mirror the Python models' inputs from ``warehouse``, then
    ``dbt run --select <select>`` on Spark, then (``compare``: model names) each model's Spark table against
    the DuckDB build's. Returns {"copied": {table: rows}, "ok": dbt succeeded, "dbt_s": seconds,
    "mirror_s": seconds, "differences": {model: [difference, ...]}, "rows": {model: rows on Spark}}."""
    from ngs.spark import launcher
    from ngs.spark import settings as spark_settings

    if not Path(warehouse).is_file():   # before a JVM starts
        raise NgsError(f"no DuckDB warehouse at {warehouse}")
    cfg = spark_settings.load()
    launcher._export_settings(cfg)
    spark = launcher.start_session(cfg)
    try:
        started = time.monotonic()
        copied = mirror(spark, warehouse)
        mirror_s = time.monotonic() - started
        launcher.register()
        from dbt.cli.main import dbtRunner

        args = ["run", "--select", select, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
                "--target", "spark", *(extra_dbt or [])]
        started = time.monotonic()
        result = dbtRunner().invoke(args)
        seconds = time.monotonic() - started
        if result.exception is not None and not result.success:
            raise NgsError(f"dbt run on Spark failed: {result.exception}")
        report = {"copied": copied, "ok": bool(result.success), "dbt_s": seconds, "mirror_s": mirror_s,
                  "differences": {}, "rows": {}}
        if compare and result.success:
            with duckdb.connect(str(warehouse), read_only=True) as con:
                for name, schema in duckdb_tables(con, compare).items():
                    duck = con.sql(f'select * from "{schema}"."{name}"').to_arrow_table().to_pandas()
                    other = spark.table(f"`{schema}`.`{name}`").toArrow().to_pandas()
                    report["rows"][name] = len(other)
                    keep = MEASURED.get(name, lambda f: f)
                    report["differences"][name] = frame_differences(keep(duck), keep(other), tol)
        return report
    finally:
        launcher.stop_session()


def spark_table_folders(spark_warehouse: Path, schema: str) -> dict[str, Path]:
    """name -> folder of each table of ``schema`` in a Spark warehouse directory (views have no folder)."""
    base = Path(spark_warehouse) / f"{schema}.db"
    return {p.name: p for p in sorted(base.iterdir()) if p.is_dir()} if base.is_dir() else {}


def compare_builds(duck_warehouse: Path, spark_warehouse: Path, schemas: tuple[str, ...] = ("marts",),
                   tol: float = 1e-6, skip: dict[str, str] | None = None,
                   ignore: dict[str, list[str]] | None = None, large_rows: int = LARGE_ROWS) -> dict:
    """Every table of ``schemas`` in a DuckDB build against the same table written by ``ngs build --engine
    spark`` (its parquet files under ``spark_warehouse``), with :data:`MEASURED` left out; ``skip``: table name
    -> why it is not compared; ``ignore``: table name -> columns left out of its comparison. A table of more
    than ``large_rows`` rows is compared by :func:`sql_differences` (in DuckDB, which spills to disk), the others
    by :func:`frame_differences` (pandas copies of both sides). Returns
    {"compared": {table: rows}, "differences": {table: [...]}, "views": [DuckDB views, compared through their
    tables], "skipped": {table: why}, "missing": [tables DuckDB has and Spark has not]}."""
    skip = skip or {}
    out: dict = {"compared": {}, "differences": {}, "views": [], "skipped": {}, "missing": []}
    with duckdb.connect(str(duck_warehouse), read_only=True) as con, tempfile.TemporaryDirectory() as spill:
        con.execute(f"set temp_directory = '{spill}'")
        con.execute(f"set memory_limit = '{COMPARE_MEMORY}'")   # DuckDB's default is 80% of the machine's
        for schema in schemas:
            rows = con.execute("select table_name, table_type from information_schema.tables "
                               "where table_catalog = current_database() and table_schema = ? order by 1",
                               [schema]).fetchall()
            folders = spark_table_folders(spark_warehouse, schema)
            for name, kind in rows:
                table = f"{schema}.{name}"
                if kind == "VIEW":
                    out["views"].append(table)
                    continue
                if name in skip:
                    out["skipped"][table] = skip[name]
                    continue
                if name not in folders:
                    out["missing"].append(table)
                    continue
                drop = list((ignore or {}).get(name, []))
                n_rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0]
                if n_rows > large_rows and name not in MEASURED:
                    out["compared"][table] = n_rows
                    out["differences"][table] = sql_differences(
                        con, f'"{schema}"."{name}"', _parquet_source(folders[name]), tol, drop=drop)
                    continue
                duck = con.sql(f'select * from "{schema}"."{name}"').to_arrow_table().to_pandas()
                with duckdb.connect() as reader:
                    other = reader.sql(f"select * from {_parquet_source(folders[name])}").to_arrow_table().to_pandas()
                measured = MEASURED.get(name, lambda f: f)

                def keep(f: pd.DataFrame, measured=measured, drop=drop) -> pd.DataFrame:
                    return measured(f).drop(columns=[c for c in drop if c in f.columns])

                out["compared"][table] = len(duck)
                out["differences"][table] = frame_differences(keep(duck), keep(other), tol)
    return out


def _parquet_source(folder: Path) -> str:
    """DuckDB's read of a Spark table's folder: its parquet files, or for a partitioned table (folders
    `<column>=<value>`, e.g. int_tracking_flagged by game_id) every partition's, the column from the folder name."""
    if any(p.is_dir() and "=" in p.name for p in Path(folder).iterdir()):
        return f"read_parquet('{folder}/*/*.parquet', hive_partitioning = true)"
    return f"read_parquet('{folder}/*.parquet')"


def _column_types(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    return {name: kind for name, kind, *_ in con.execute(f"describe select * from {source}").fetchall()}


def sql_differences(con: duckdb.DuckDBPyConnection, left: str, right: str, tol: float = 1e-6,
                    drop: list[str] | tuple[str, ...] = (), limit: int = 5) -> list[str]:
    """:func:`frame_differences` in one DuckDB query over two relations (table names or ``read_parquet(...)``):
    the same columns (``drop`` left out) and rows, and in the same canonical order (every column, floats
    rounded to 6 digits) every value equal (numbers within ``tol``, relative above 1; missing, null or NaN,
    equals missing; other types by their text). Per differing column the count and the first row."""
    types = {side: {c: t for c, t in _column_types(con, src).items() if c not in drop}
             for side, src in (("left", left), ("right", right))}
    if sorted(types["left"]) != sorted(types["right"]):
        return [f"columns differ: {sorted(types['left'])} vs {sorted(types['right'])}"]
    n_left, n_right = (con.execute(f"select count(*) from {src}").fetchall()[0][0] for src in (left, right))
    if n_left != n_right:
        return [f"{n_left} rows vs {n_right}"]
    columns = list(types["left"])

    def is_kind(c: str, kinds: tuple[str, ...]) -> bool:
        return all(types[side][c].split("(")[0] in kinds for side in types)

    order = ", ".join(f'round("{c}", 6)' if is_kind(c, _FLOATS) else f'"{c}"' for c in columns)
    listed = ", ".join(f'"{c}"' for c in columns)

    def same(c: str) -> str:
        a, b = f'a."{c}"', f'b."{c}"'
        if not is_kind(c, _NUMBERS):
            return f"{a}::varchar is not distinct from {b}::varchar"
        missing = "({0} is null or isnan({0}::double))"
        return (f"(({missing.format(a)} and {missing.format(b)}) or (not {missing.format(a)} and not "
                f"{missing.format(b)} and abs({a}::double - {b}::double) <= {tol!r} * greatest(1.0, abs({a}::double))))")

    # each column's test once per row (_bad_<i>), then per column the count and the first differing row
    flags = ", ".join(["_rn", *(f'a."{c}" as _a_{i}, b."{c}" as _b_{i}, not ({same(c)}) as _bad_{i}'
                                for i, c in enumerate(columns))])
    checks = ", ".join(f"count(*) filter (where _bad_{i}), min(_rn) filter (where _bad_{i}), "
                       f"arg_min(_a_{i}::varchar, _rn) filter (where _bad_{i}), "
                       f"arg_min(_b_{i}::varchar, _rn) filter (where _bad_{i})" for i in range(len(columns)))
    row = con.execute(
        f"with a as (select {listed}, row_number() over (order by {order}) as _rn from {left}), "
        f"b as (select {listed}, row_number() over (order by {order}) as _rn from {right}), "
        f"flagged as (select {flags} from a inner join b using (_rn)) "
        f"select {checks} from flagged").fetchall()[0]
    out = []
    for i, c in enumerate(columns):
        count, first, x, y = row[4 * i: 4 * i + 4]
        if count:
            out.append(f"{c}: {count} rows differ (first, row {first - 1}: {x!r} vs {y!r})")
    return out[:limit] + ([f"{len(out) - limit} more differing columns"] if len(out) > limit else [])


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in a canonical order: by every column (floats rounded to 6 digits for the order only)."""
    key = frame.copy()
    for c in key.columns:
        if pd.api.types.is_float_dtype(key[c]):
            key[c] = key[c].round(6)
        key[c] = key[c].astype(str)
    order = key.sort_values(list(key.columns), kind="mergesort").index
    return frame.loc[order].reset_index(drop=True)


def frame_differences(left: pd.DataFrame, right: pd.DataFrame, tol: float = 1e-6, limit: int = 5) -> list[str]:
    """How two tables differ ([] when equal): the same columns, the same number of rows, and in a canonical
    row order every value equal (numbers within ``tol``, relative above 1; missing equals missing)."""
    if sorted(left.columns) != sorted(right.columns):
        return [f"columns differ: {sorted(left.columns)} vs {sorted(right.columns)}"]
    if len(left) != len(right):
        return [f"{len(left)} rows vs {len(right)}"]
    a, b = _sorted(left), _sorted(right[list(left.columns)])
    out, bad = [], 0
    for c in a.columns:
        x, y = a[c], b[c]
        numeric = all(pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v) for v in (x, y))
        if numeric:
            xf, yf = x.astype("float64").to_numpy(), y.astype("float64").to_numpy()
            same = (np.isnan(xf) & np.isnan(yf)) | (np.abs(xf - yf) <= tol * np.maximum(1.0, np.abs(xf)))
        else:
            same = np.array([(pd.isna(u) and pd.isna(v)) or (not pd.isna(u) and not pd.isna(v) and u == v)
                             for u, v in zip(x.tolist(), y.tolist(), strict=True)], dtype=bool)
        for i in np.flatnonzero(~same):
            bad += 1
            if bad <= limit:
                out.append(f"{c} row {i}: {x.iloc[i]!r} vs {y.iloc[i]!r}")
    if bad > limit:
        out.append(f"{bad - limit} more differing values")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ngs.spark.mirror", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duckdb", type=Path, required=True, help="the DuckDB warehouse built by `ngs build`")
    parser.add_argument("--select", default="tag:python", help="dbt --select of the Python models to run")
    parser.add_argument("--compare", action="store_true",
                        help="compare each Python model's Spark table with the DuckDB build's (exit 1 if any differ)")
    args = parser.parse_args(argv)
    try:
        report = run(args.duckdb, args.select, compare=python_models() if args.compare else None)
    except (NgsError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, rows in report["copied"].items():
        print(f"copied {name}: {rows} rows", file=sys.stderr)
    print(f"mirror {report['mirror_s']:.1f} s; dbt run --select {args.select} on Spark: "
          f"{'ok' if report['ok'] else 'failed'} in {report['dbt_s']:.1f} s", file=sys.stderr)
    differ = False
    for name, diffs in report["differences"].items():
        print(f"{name}: {report['rows'][name]} rows, " + ("equal to DuckDB's" if not diffs else
              "DIFFERS: " + "; ".join(diffs)), file=sys.stderr)
        differ = differ or bool(diffs)
    return 0 if report["ok"] and not differ else 1


if __name__ == "__main__":
    sys.exit(main())
