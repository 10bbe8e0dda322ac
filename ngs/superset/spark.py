"""Superset on Spark: the dashboards' database as Spark's thrift server, through PyHive (`hive://`).

PyHive's Hive dialect lists tables with `SHOW TABLES` and keeps the first column of each row. Hive answers
(tab_name); Spark answers (namespace, tableName, isTemporary), so on Spark the "table names" are schema
names and Superset's dataset picker shows nothing usable (dropbox/PyHive#150, apache/superset#30208).
`install_pyhive_spark_fix()` replaces the dialect's get_table_names/get_view_names with `spark_table_names`,
which reads the table-name column on Spark (and still the only column on Hive) and leaves temporary views
out; call it in the Superset process (superset_config.py) before the database is used.
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


_installed = False


def install_pyhive_spark_fix() -> bool:
    """Patch PyHive's HiveDialect (table and view listing) for Spark; False when PyHive is not installed."""
    global _installed
    try:
        from pyhive.sqlalchemy_hive import HiveDialect
    except ImportError:
        return False
    if not _installed:
        def get_table_names(self, connection, schema=None, **kw):
            return spark_table_names(connection, schema, self.identifier_preparer.quote_identifier)

        HiveDialect.get_table_names = get_table_names
        # Spark's SHOW TABLES lists views too (so they appear as tables above); PyHive's own view listing
        # repeats get_table_names, which would show every name twice in Superset
        HiveDialect.get_view_names = lambda self, connection, schema=None, **kw: []
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
