"""What Superset's database connections may do: open the serving snapshot, read-only, with DuckDB's
file access off and its configuration locked.

Superset refuses DDL/DML in SQL Lab (`allow_dml: false`), but DuckDB's own features read and write
host files from a plain `select` (`read_text('/etc/passwd')`, `read_csv`, `COPY ... TO`, `ATTACH` of
another file, `INSTALL`/`LOAD` of an extension). DuckDB closes all of them when a connection is opened
with the settings in `DUCKDB_LOCKDOWN`: `enable_external_access=false` refuses every file, glob,
URL, ATTACH and extension install (the database file itself is opened before the setting applies),
and `lock_configuration=true` refuses every later `SET`/`RESET`, so a query cannot turn it back on.

Two layers apply them, so neither the bundle nor an admin editing the database in Superset's UI can
weaken them:

- `duckdb_uri()` writes them into the database's SQLAlchemy URI (duckdb-engine passes URI query
  settings to `duckdb.connect(config=...)`), so the bundle is locked down wherever it is imported;
- the generated `superset_config.py` installs `uri_validator` (`DB_SQLA_URI_VALIDATOR`: a connection
  to anything but a DuckDB file in the serving folder is refused, also when an admin adds or tests a
  database) and `connection_mutator` (`DB_CONNECTION_MUTATOR`: every engine Superset creates is rebuilt
  from the file path alone, with these settings, whatever the URI query or `engine_params` say).

This module imports neither Superset nor DuckDB (the CLI imports it; Superset's config does too).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

# DuckDB settings of every connection Superset opens (duckdb 2.0: all are honoured at connect time).
DUCKDB_LOCKDOWN: dict[str, Any] = {
    "access_mode": "read_only",
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "lock_configuration": True,
}
# One user agent for every connection: DuckDB refuses a second connection to an open file whose
# configuration differs, and Superset may set a per-source user agent (USER_AGENT_FUNC).
USER_AGENT = "ngs-serve"
# engine_params that Superset itself sets and that may stay (anything else is dropped).
_KEPT_ENGINE_KWARGS = ("poolclass",)


class ConnectionRefused(ValueError):
    """A database URI that is not the serving snapshot."""


def _setting(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def duckdb_uri(path: Path) -> str:
    """The snapshot's SQLAlchemy URI, locked down (what the bundle's database gets). The path is made
    absolute but its symlink is kept: the URI names `serving/<name>.duckdb`, not one refresh's copy."""
    query = urlencode({k: _setting(v) for k, v in DUCKDB_LOCKDOWN.items()})
    return f"duckdb:///{os.path.abspath(path)}?{query}"


def snapshot_path(url, serving_dir: Path) -> Path:
    """The DuckDB file `url` (a SQLAlchemy URL) names, if it is a snapshot in `serving_dir`: the real
    file, symlinks resolved (so each refresh's copy is a new path to DuckDB, see snapshot_warehouse)."""
    serving_dir = Path(serving_dir).resolve()
    refused = (f"ngs serve: Superset may only open the warehouse snapshot in {serving_dir} "
               "(read-only, DuckDB file access off)")
    if url.get_backend_name() != "duckdb":
        raise ConnectionRefused(f"{refused}; a {url.get_backend_name()} connection is refused")
    database = url.database or ""
    if not database or database.startswith((":", "md:", "motherduck:")) or "?" in database:
        raise ConnectionRefused(f"{refused}; {database or 'an in-memory database'!s} is refused")
    path = Path(database).resolve()
    if path.parent != serving_dir or path.suffix != ".duckdb":
        raise ConnectionRefused(f"{refused}; {path} is refused")
    return path


def lock_down(url, engine_kwargs: dict[str, Any], serving_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Rebuild a connection from the snapshot path alone, with `DUCKDB_LOCKDOWN` (see the module doc)."""
    from sqlalchemy.engine.url import URL

    path = snapshot_path(url, serving_dir)
    new_url = URL.create("duckdb", database=str(path),
                         query={k: _setting(v) for k, v in DUCKDB_LOCKDOWN.items()})
    kwargs = {k: engine_kwargs[k] for k in _KEPT_ENGINE_KWARGS if k in engine_kwargs}
    kwargs["connect_args"] = {"config": {**DUCKDB_LOCKDOWN, "custom_user_agent": USER_AGENT}}
    return new_url, kwargs


def thrift_allowed(url, thrift: tuple[str, int] | None) -> bool:
    """True when `url` is the Spark thrift server `ngs serve --spark-thrift` was given (hive://, same host
    and port); that server is the one database Superset may open besides the snapshot."""
    return (thrift is not None and url.get_backend_name() == "hive"
            and (url.host, url.port or 10000) == (thrift[0], int(thrift[1])))


def uri_validator(serving_dir: Path, thrift: tuple[str, int] | None = None):
    """`DB_SQLA_URI_VALIDATOR` for superset_config.py (a ValueError: Superset shows its message when a
    database is added or tested). `thrift`: (host, port) of the one Spark thrift server also allowed."""
    def validate(url) -> None:
        if not thrift_allowed(url, thrift):
            snapshot_path(url, serving_dir)
    return validate


def connection_mutator(serving_dir: Path, thrift: tuple[str, int] | None = None):
    """`DB_CONNECTION_MUTATOR` for superset_config.py (the allowed thrift server's engine keeps only the
    engine parameters Superset itself sets)."""
    def mutate(url, params, username, security_manager, source):  # Superset's signature
        if thrift_allowed(url, thrift):
            return url, {k: params[k] for k in _KEPT_ENGINE_KWARGS if k in params}
        return lock_down(url, params, serving_dir)
    return mutate
