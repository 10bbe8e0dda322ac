"""Superset on Spark: the dashboards' database as Spark's thrift server, through PyHive (`hive://`).

PyHive's Hive dialect lists tables with `SHOW TABLES` and keeps the first column of each row. Hive answers
(tab_name); Spark answers (namespace, tableName, isTemporary), so on Spark the "table names" are schema
names and Superset's dataset picker shows nothing usable (dropbox/PyHive#150, apache/superset#30208).
`install_pyhive_spark_fix()` replaces the dialect's get_table_names/get_view_names with `spark_table_names`,
which reads the table-name column on Spark (and still the only column on Hive) and leaves temporary views
out; call it in the Superset process (superset_config.py) before the database is used.

It also fixes PyHive's SQL compiler, which rewrites every column it renders by counting dots: with exactly two it
drops everything up to the first (meant for `schema.table.column`), with three or more it raises. Superset sends a
metric or calculated column as `literal_column(<SQL text>)`, so `AVG(CASE WHEN is_complete THEN 1.0 ELSE 0.0 END)`
reached Spark as `0 ELSE 0.0 END)` (`Error parsing near 'ELSE'`; dropbox/PyHive#413 is the same code on quoted
names). `hive_visit_column` leaves a literal column's text as written.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from ngs.spark import settings as spark_settings


def _row_table_name(row) -> str | None:
    """The table name of one SHOW TABLES row: Spark's (namespace, tableName, isTemporary), Hive's (tab_name,);
    None for a Spark temporary view (session-scoped: not a dataset)."""
    values = tuple(row)
    if len(values) >= 3:
        return None if str(values[2]).lower() in ("true", "1") else values[1]
    if len(values) == 2:
        return values[1]
    return values[0]


def spark_table_names(connection, schema: str | None = None, quote_identifier=None) -> list[str]:
    """`SHOW TABLES [IN schema]` on `connection` (a SQLAlchemy connection), the names of its tables."""
    from sqlalchemy import text

    query = "SHOW TABLES"
    if schema:
        query += " IN " + (quote_identifier(schema) if quote_identifier else f"`{schema}`")
    rows: Iterable = connection.execute(text(query))
    return [name for name in (_row_table_name(r) for r in rows) if name is not None]


def hive_visit_column(original):
    """PyHive's HiveCompiler.visit_column (`original`) for table columns; a literal column (SQL text: Superset's
    metrics and calculated columns) is rendered by SQLAlchemy's own compiler, unchanged."""
    import functools

    from sqlalchemy.sql.compiler import SQLCompiler

    @functools.wraps(original)
    def visit_column(self, column, *args, **kwargs):
        if getattr(column, "is_literal", False):
            return SQLCompiler.visit_column(self, column, *args, **kwargs)
        return original(self, column, *args, **kwargs)

    visit_column.ngs_spark_fix = True
    return visit_column


_installed = False


def install_pyhive_spark_fix() -> bool:
    """Patch PyHive's HiveDialect (table and view listing) and HiveCompiler (literal columns) for Spark; False
    when PyHive is not installed."""
    global _installed
    try:
        from pyhive.sqlalchemy_hive import HiveCompiler, HiveDialect
    except ImportError:
        return False
    if not _installed:
        def get_table_names(self, connection, schema=None, **kw):
            return spark_table_names(connection, schema, self.identifier_preparer.quote_identifier)

        HiveDialect.get_table_names = get_table_names
        # Spark's SHOW TABLES lists views too (so they appear as tables above); PyHive's own view listing
        # repeats get_table_names, which would show every name twice in Superset
        HiveDialect.get_view_names = lambda self, connection, schema=None, **kw: []
        if not getattr(HiveCompiler.visit_column, "ngs_spark_fix", False):
            HiveCompiler.visit_column = hive_visit_column(HiveCompiler.visit_column)
        _installed = True
    return True


def spark_sqlalchemy_uri(host: str | None = None, port: int | None = None, schema: str | None = None,
                         user: str = "ngs") -> str:
    """The dashboards' database on the Spark thrift server: hive://user@host:port/schema (from NGS_SPARK_*)."""
    cfg = spark_settings.load()
    host = host or cfg.host
    port = port or cfg.thrift_port
    schema = schema or cfg.schema
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"thrift port {port} is not a TCP port")
    return f"hive://{quote(user, safe='')}@{host}:{int(port)}/{quote(schema, safe='')}"


# ------------------------------------------------------------------------------ `ngs serve --spark-thrift`
def parse_thrift_uri(uri: str) -> tuple[str, int, str]:
    """(host, port, schema) of a `hive://[user@]host[:port][/schema]` URI; ValueError naming what is wrong."""
    from sqlalchemy.engine.url import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(uri)
    except ArgumentError:
        raise ValueError(f"{uri!r} is not a SQLAlchemy URI (expected hive://host:10000/default)") from None
    if url.get_backend_name() != "hive":
        raise ValueError(f"{uri!r}: the Spark thrift server's URI starts with hive:// "
                         "(e.g. hive://127.0.0.1:10000/default)")
    if not url.host:
        raise ValueError(f"{uri!r}: no host")
    port = url.port or 10000
    if not 1 <= port <= 65535:
        raise ValueError(f"{uri!r}: port {port} is not a TCP port")
    return url.host, port, url.database or "default"


def _connect(uri: str):
    from pyhive import hive
    from sqlalchemy.engine.url import make_url

    host, port, schema = parse_thrift_uri(uri)
    return hive.connect(host=host, port=port, database=schema, username=make_url(uri).username or "ngs")


def describe_rows_columns(rows) -> dict[str, str]:
    """{column: type} from the rows of Spark's `DESCRIBE TABLE` (col_name, data_type, comment): the column
    rows stop at the first blank or '#' row (partition and detail sections follow)."""
    out: dict[str, str] = {}
    for row in rows:
        name = (row[0] or "").strip()
        if not name or name.startswith("#"):
            break
        out[name] = (row[1] or "").strip().upper()
    return out


def thrift_tables(uri: str, schemas: Iterable[str]) -> dict[tuple[str, str], dict[str, str]]:
    """{(schema, table): {column: type}} of the thrift server's tables in `schemas` (what `check_bundle`
    compares the dashboards' datasets with)."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    conn = _connect(uri)
    try:
        cur = conn.cursor()
        cur.execute("SHOW DATABASES")
        existing = {str(r[0]) for r in cur.fetchall()}
        for schema in sorted(set(schemas) & existing):
            cur.execute(f"SHOW TABLES IN `{schema}`")
            for name in [n for n in (_row_table_name(r) for r in cur.fetchall()) if n is not None]:
                cur.execute(f"DESCRIBE TABLE `{schema}`.`{name}`")
                out[(schema, name)] = describe_rows_columns(cur.fetchall())
    finally:
        conn.close()
    return out


def thrift_dataset_values(uri: str, tables: set[str]) -> dict[str, set[str]]:
    """`ngs.superset.bundle.dataset_values` on the thrift server: per mart with a `dataset` column, the
    datasets of its rows."""
    conn = _connect(uri)
    out: dict[str, set[str]] = {}
    try:
        cur = conn.cursor()
        cur.execute("SHOW TABLES IN marts")
        have = {n for n in (_row_table_name(r) for r in cur.fetchall()) if n is not None}
        for t in sorted(tables & have):
            cur.execute(f"DESCRIBE TABLE marts.`{t}`")
            if "dataset" not in describe_rows_columns(cur.fetchall()):
                continue
            cur.execute(f"SELECT DISTINCT dataset FROM marts.`{t}` WHERE dataset IS NOT NULL")
            out[t] = {r[0] for r in cur.fetchall()}
    finally:
        conn.close()
    return out
