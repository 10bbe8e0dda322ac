"""Read-only serving, really: what an admin in SQL Lab tries with DuckDB's own features is refused.

Superset refuses DDL/DML (`allow_dml: false`), but DuckDB reads and writes host files from a plain
query (`read_text`, `read_csv`, `COPY ... TO`, `ATTACH` of another file, `INSTALL`/`LOAD`). The serving
connection opens the snapshot with external access off and the configuration locked
(`ngs/superset/guard.py`); these tests replay every trial:

- without Superset, on the engine `lock_down` builds from a hostile URI (fast; each trial is first
  shown to work on a plain read-only connection, so a refusal is the lockdown's doing);
- through a running Superset (`ngs serve` on a copy of the session's simulated warehouse, a free
  port on 127.0.0.1, a temp state folder), as admin through the REST API: SQL Lab, database
  creation and edits, every chart's data, a small load; the live warehouse is byte-identical at the end.

No test waits without a limit: every request has a timeout and `ngs serve` gives up after 120 s.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa
from sqlalchemy.engine.url import make_url

from ngs.superset import ADMIN_USER, serve, snapshot_warehouse, stop
from ngs.superset.bundle import load_bundle
from ngs.superset.guard import DUCKDB_LOCKDOWN, ConnectionRefused, duckdb_uri, lock_down, snapshot_path

REQUEST_TIMEOUT_S = 120
FILE_OFF = "file system operations are disabled by configuration"
EXT_OFF = "Loading external extensions is disabled"
LOCKED = "the configuration has been locked"
READ_ONLY = "read-only mode"
# Where Superset refuses a trial before DuckDB sees it (its SQL parser does not know the statement).
SUPERSET_REFUSAL = {"EXPORT DATABASE": "Error parsing near"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _trials(live: Path, secret: Path, out: Path) -> list[tuple[str, str, str]]:
    """(name, SQL, what the refusal says). `live` is the live warehouse, `secret` a private host file,
    `out` a folder where nothing may be written."""
    return [
        ("read_text of /etc/passwd", "select * from read_text('/etc/passwd')", FILE_OFF),
        ("read_csv of a host file", "select * from read_csv('/etc/passwd', header=false)", FILE_OFF),
        ("read_blob of the secret key", f"select * from read_blob('{secret}')", FILE_OFF),
        ("glob of a host folder", "select * from glob('/etc/*')", FILE_OFF),
        ("COPY TO a host file", f"copy (select 1 as x) to '{out / 'x.csv'}'", FILE_OFF),
        ("EXPORT DATABASE", f"export database '{out / 'export'}'", FILE_OFF),
        ("ATTACH the live warehouse read-write, then COPY FROM",
         f"attach '{live}' as live (read_write); copy live.marts.dim_games from '/etc/passwd'", FILE_OFF),
        ("ATTACH an in-memory database", "attach ':memory:' as scratch", "read-only mode"),
        ("INSTALL an extension", "install httpfs", FILE_OFF),
        ("LOAD an extension", "load httpfs", EXT_OFF),
        ("LOAD an extension file", f"load '{out / 'evil.duckdb_extension'}'", EXT_OFF),
        ("SET enable_external_access back on", "set enable_external_access = true", LOCKED),
        ("RESET enable_external_access", "reset enable_external_access", LOCKED),
        ("SET lock_configuration off", "set lock_configuration = false", LOCKED),
        ("SET allowed_directories", "set allowed_directories = ['/']", LOCKED),
    ]


# ------------------------------------------------------------------------- DuckDB layer, no Superset
@pytest.fixture
def snapshot(tmp_path) -> Path:
    serving = tmp_path / "serving"
    serving.mkdir()
    path = serving / "ngs.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts; create table marts.dim_games as select 1 as game_id")
    con.close()
    return path


def _hostile_engine(snapshot: Path) -> sa.engine.Engine:
    """What an admin could put in the database's URI and engine_params, through `lock_down`."""
    url = make_url(f"duckdb:///{snapshot}?enable_external_access=true&lock_configuration=false")
    kwargs = {"poolclass": sa.pool.NullPool,
              "connect_args": {"config": {"allowed_directories": ["/"], "enable_external_access": True},
                               "preload_extensions": ["httpfs"]}}
    url, kwargs = lock_down(url, kwargs, snapshot.parent)
    return sa.create_engine(url, **kwargs)


def test_snapshot_uri_carries_the_lockdown(snapshot):
    engine = sa.create_engine(duckdb_uri(snapshot), poolclass=sa.pool.NullPool)
    with engine.connect() as con:
        settings = dict(con.execute(sa.text(
            "select name, value from duckdb_settings() where name in ({})".format(
                ", ".join(f"'{k}'" for k in DUCKDB_LOCKDOWN)))).fetchall())
        assert con.execute(sa.text("select count(*) from marts.dim_games")).scalar() == 1
    assert settings == {k: str(v).lower() for k, v in DUCKDB_LOCKDOWN.items()}


TRIAL_NAMES = [t[0] for t in _trials(Path("/x"), Path("/x"), Path("/x"))]


@pytest.mark.parametrize("trial", TRIAL_NAMES)
def test_lockdown_refuses_each_trial(snapshot, tmp_path, trial):
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-value\n")
    live = tmp_path / "live.duckdb"
    shutil.copyfile(snapshot, live)
    out = tmp_path / "out"
    out.mkdir()
    name, sql, refusal = next(t for t in _trials(live, secret, out) if t[0] == trial)
    before = _sha256(live)
    with _hostile_engine(snapshot).connect() as con:
        with pytest.raises(sa.exc.DBAPIError) as err:
            for statement in sql.split("; "):
                con.execute(sa.text(statement)).fetchall()
        # a normal query still works on the same connection
        assert con.execute(sa.text("select count(*) from marts.dim_games")).scalar() == 1
    assert refusal in str(err.value), f"{name}: {err.value}"
    assert "s3cret-value" not in str(err.value)
    assert not any(out.iterdir()), f"{name} wrote {list(out.iterdir())}"
    assert _sha256(live) == before


def test_trials_work_without_the_lockdown(tmp_path, snapshot):
    """The control: on a plain read-only connection the same file trials do read and write, so the
    refusals above are the lockdown's doing, not a mistyped trial."""
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-value\n")
    con = duckdb.connect(str(snapshot), read_only=True)
    assert "root" in con.execute("select content from read_text('/etc/passwd')").fetchone()[0]
    assert con.execute(f"select content from read_blob('{secret}')").fetchone()[0] == b"s3cret-value\n"
    con.execute(f"copy (select 1 as x) to '{tmp_path / 'x.csv'}'")
    assert (tmp_path / "x.csv").exists()
    con.close()


@pytest.mark.parametrize("uri", [
    "sqlite:////tmp/superset.db", "duckdb:///:memory:", "duckdb:///md:warehouse",
    "duckdb:///{live}", "duckdb:///{serving}/../live.duckdb", "duckdb:///{serving}/secret_key",
    "postgresql://u:p@127.0.0.1/x",
])
def test_only_the_snapshot_may_be_opened(snapshot, tmp_path, uri):
    url = make_url(uri.format(live=tmp_path / "live.duckdb", serving=snapshot.parent))
    with pytest.raises(ConnectionRefused, match="may only open the warehouse snapshot"):
        snapshot_path(url, snapshot.parent)
    with pytest.raises(ConnectionRefused):
        lock_down(url, {}, snapshot.parent)


def test_snapshot_is_accepted(snapshot):
    assert snapshot_path(make_url(f"duckdb:///{snapshot}?access_mode=read_write"), snapshot.parent) == snapshot


def test_spark_thrift_server_is_the_one_other_database_allowed(tmp_path):
    """`ngs serve --spark-thrift hive://host:port/schema`: that server (same host and port) is accepted and
    its engine keeps only Superset's own parameters; another thrift server or engine is still refused."""
    from ngs.superset.guard import connection_mutator, uri_validator
    from ngs.superset.spark import parse_thrift_uri

    thrift = parse_thrift_uri("hive://ngs@127.0.0.1:10100/marts")[:2]
    assert thrift == ("127.0.0.1", 10100)
    validate, mutate = uri_validator(tmp_path, thrift), connection_mutator(tmp_path, thrift)
    ok = make_url("hive://ngs@127.0.0.1:10100/default")
    validate(ok)
    assert mutate(ok, {"poolclass": 1, "connect_args": {"x": 1}}, None, None, None) == (ok, {"poolclass": 1})
    for uri in ("hive://127.0.0.1:10000/default", "hive://10.0.0.9:10100/default", "sqlite:////tmp/s.db",
                "duckdb:///:memory:"):
        with pytest.raises(ConnectionRefused):
            validate(make_url(uri))
        with pytest.raises(ConnectionRefused):
            mutate(make_url(uri), {}, None, None, None)
    with pytest.raises(ConnectionRefused):  # no thrift server given: hive refused as before
        uri_validator(tmp_path)(ok)
    assert parse_thrift_uri("hive://spark-host/default") == ("spark-host", 10000, "default")
    for bad in ("duckdb:///x.duckdb", "hive:///default", "not a uri"):
        with pytest.raises(ValueError):
            parse_thrift_uri(bad)


def test_spark_describe_rows_give_the_columns():
    from ngs.superset.spark import describe_rows_columns

    rows = [("game_id", "bigint", None), ("dataset", "string", ""), ("", "", ""),
            ("# Partition Information", "", ""), ("# col_name", "data_type", "comment"), ("week", "int", None)]
    assert describe_rows_columns(rows) == {"game_id": "BIGINT", "dataset": "STRING"}


def test_refresh_is_seen_while_an_old_connection_is_open(tmp_path):
    """`ngs serve` again under load: a connection still open on the old snapshot must not keep new
    connections on it (DuckDB shares one instance per path in a process), and its query finishes."""
    warehouse = tmp_path / "wh" / "ngs.duckdb"
    warehouse.parent.mkdir()
    serving = tmp_path / "serving"

    def build(rows: int) -> None:
        con = duckdb.connect(str(warehouse))
        con.execute("create schema if not exists marts; create or replace table marts.dim_games as "
                    f"select range as game_id from range({rows})")
        con.close()

    def connect():
        url, kwargs = lock_down(make_url(duckdb_uri(link)), {"poolclass": sa.pool.NullPool}, serving)
        return sa.create_engine(url, **kwargs).connect()

    count = sa.text("select count(*) from marts.dim_games")
    build(1)
    link, _ = snapshot_warehouse(warehouse, serving)
    old = connect()
    assert old.execute(count).scalar() == 1
    build(2)
    assert snapshot_warehouse(warehouse, serving)[0] == link
    with connect() as new:
        assert new.execute(count).scalar() == 2
    assert old.execute(count).scalar() == 1  # the query on the old snapshot still reads it
    old.close()
    assert link.is_symlink()
    assert sorted(p.name for p in serving.iterdir()) == sorted([".swap.lock", "ngs.duckdb", link.resolve().name])
    assert duckdb_uri(link).startswith(f"duckdb:///{link}?")  # the URI names the link, not one copy


# --------------------------------------------------------------------------------- through Superset
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Admin:
    """The REST API as the admin: JWT + CSRF token + session cookie (what the UI sends)."""

    def __init__(self, base: str, password: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.token = self.call("/api/v1/security/login", {"username": ADMIN_USER, "password": password,
                                                          "provider": "db", "refresh": False})[1]["access_token"]
        self.csrf = self.call("/api/v1/security/csrf_token/")[1]["result"]

    def call(self, path: str, data: dict | None = None, method: str | None = None) -> tuple[int, dict]:
        headers = {"Referer": self.base}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        if getattr(self, "csrf", None):
            headers["X-CSRFToken"] = self.csrf
        body = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(data).encode()
        req = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with self.opener.open(req, timeout=REQUEST_TIMEOUT_S) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                return exc.code, json.loads(raw)
            except ValueError:
                return exc.code, {"raw": raw.decode(errors="replace")}

    def sql(self, database_id: int, sql: str) -> tuple[int, dict]:
        return self.call("/api/v1/sqllab/execute/", {
            "database_id": database_id, "sql": sql, "runAsync": False, "schema": "marts", "tab": "test",
            "queryLimit": 100, "select_as_cta": False, "ctas_method": "TABLE"})


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    """A copy of the session's built warehouse as the 'live' warehouse, served on a free port.

    NGS_DASHBOARD_TEST_WAREHOUSE=path reuses a warehouse built before (as tests/test_dashboards_browser.py).
    """
    source = (Path(os.environ["NGS_DASHBOARD_TEST_WAREHOUSE"]).resolve()
              if os.environ.get("NGS_DASHBOARD_TEST_WAREHOUSE") else request.getfixturevalue("full_sim_warehouse"))
    root = tmp_path_factory.mktemp("superset_security")
    live = root / "live" / "ngs.duckdb"
    live.parent.mkdir()
    shutil.copyfile(source, live)
    state = root / "state"
    port = _free_port()
    s = serve(live, state=state, port=port, log=lambda m: None)
    try:
        admin = Admin(s.url, s.password)
        dbs = admin.call("/api/v1/database/")[1]["result"]
        assert [d["database_name"] for d in dbs] == ["NGS warehouse"], dbs
        yield {"served": s, "admin": admin, "db": dbs[0]["id"], "live": live, "live_sha": _sha256(live),
               "state": state, "out": root / "out", "port": port}
    finally:
        stop(state)


def _message(body: dict) -> str:
    errors = body.get("errors") or []
    return " | ".join(str(e.get("message")) for e in errors) or json.dumps(body)[:500]


@pytest.mark.slow
def test_sqllab_mart_query_works(served):
    status, body = served["admin"].sql(served["db"], "select count(*) as n from marts.fct_tracking")
    assert status == 200 and body["status"] == "success", body
    assert body["data"][0]["n"] > 0


@pytest.mark.slow
def test_sqllab_refuses_each_trial(served):
    admin, state, out = served["admin"], served["state"], served["out"]
    out.mkdir(exist_ok=True)
    secret_value = (state / "secret_key").read_text().strip()
    trials = _trials(served["live"], state / "secret_key", out) + [
        ("read_text of superset_config.py", f"select * from read_text('{state / 'superset_config.py'}')", FILE_OFF),
        ("read_blob of the metadata DB", f"select * from read_blob('{state / 'superset.db'}')", FILE_OFF),
        ("CREATE TABLE (DDL)", "create table marts.x as select 1 as x", "does not allow for DDL/DML"),
        ("DELETE (DML)", "delete from marts.dim_games", "does not allow for DDL/DML"),
    ]
    wrong = []
    for name, sql, refusal in trials:
        refusal = SUPERSET_REFUSAL.get(name, refusal)
        status, body = admin.sql(served["db"], sql)
        text = json.dumps(body)
        if status == 200 and body.get("status") == "success":
            wrong.append(f"{name}: ran ({text[:200]})")
        elif refusal not in _message(body):
            wrong.append(f"{name}: refused, but not with '{refusal}': {_message(body)[:300]}")
        if secret_value in text:
            wrong.append(f"{name}: the secret key is in the answer")
    assert not wrong, "\n".join(wrong)
    assert not any(out.iterdir()), list(out.iterdir())


@pytest.mark.slow
def test_sqllab_create_table_as_refused(served):
    status, body = served["admin"].call("/api/v1/sqllab/execute/", {
        "database_id": served["db"], "sql": "select 1 as x", "runAsync": False, "schema": "marts",
        "tab": "test", "queryLimit": 100, "select_as_cta": True, "ctas_method": "TABLE", "tmp_table_name": "x"})
    assert status != 200, body
    assert READ_ONLY in _message(body)


@pytest.mark.slow
@pytest.mark.parametrize("uri", ["sqlite:///{state}/superset.db", "duckdb:///:memory:", "duckdb:///{live}",
                                 "duckdb:///{live}?access_mode=read_write&enable_external_access=true"])
def test_no_other_database_can_be_added(served, uri):
    admin = served["admin"]
    uri = uri.format(state=served["state"], live=served["live"])
    status, body = admin.call("/api/v1/database/test_connection/", {"sqlalchemy_uri": uri, "database_name": "x"})
    assert status >= 400, body
    status, body = admin.call("/api/v1/database/", {"sqlalchemy_uri": uri, "database_name": "other",
                                                    "expose_in_sqllab": True, "allow_dml": True})
    assert status >= 400, body
    message = json.dumps(body)
    assert "may only open the warehouse snapshot" in message or "cannot be used as a data source" in message
    names = [d["database_name"] for d in admin.call("/api/v1/database/")[1]["result"]]
    assert names == ["NGS warehouse"]


@pytest.mark.slow
def test_edited_database_stays_locked(served):
    """An admin editing the connection: a new URI is refused; unlocking settings in `extra` and DML
    allowed are saved, but every connection is still opened locked down and read-only."""
    admin, db = served["admin"], served["db"]
    before = admin.call(f"/api/v1/database/{db}/connection")[1]["result"]
    status, body = admin.call(f"/api/v1/database/{db}", {"sqlalchemy_uri": f"duckdb:///{served['live']}"},
                              method="PUT")
    assert status >= 400, body
    after = admin.call(f"/api/v1/database/{db}/connection")[1]["result"]
    assert after["sqlalchemy_uri"] == before["sqlalchemy_uri"]
    unlock = {"engine_params": {"connect_args": {"config": {"enable_external_access": True,
                                                            "lock_configuration": False,
                                                            "allowed_directories": ["/"]},
                                                 "preload_extensions": ["httpfs"]}}}
    status, body = admin.call(f"/api/v1/database/{db}", {"extra": json.dumps(unlock), "allow_dml": True},
                              method="PUT")
    assert status == 200, body
    try:
        status, body = admin.sql(db, "select * from read_text('/etc/passwd')")
        assert status != 200 and FILE_OFF in _message(body), body
        status, body = admin.sql(db, "create table marts.x as select 1 as x")
        assert status != 200 and READ_ONLY in _message(body), body
        status, body = admin.sql(db, "select current_setting('enable_external_access') as on_")
        assert status == 200 and body["data"] == [{"on_": False}], body
    finally:
        status, body = admin.call(f"/api/v1/database/{db}", {"extra": before["extra"], "allow_dml": False},
                                  method="PUT")
        assert status == 200, body


@pytest.mark.slow
def test_every_chart_still_has_data(served):
    admin = served["admin"]
    charts = admin.call("/api/v1/chart/?q=(page_size:100)")[1]["result"]
    expected = {c["slice_name"] for c in load_bundle().charts().values()}
    assert expected <= {c["slice_name"] for c in charts}
    bad = []
    for chart in charts:
        status, body = admin.call(f"/api/v1/chart/{chart['id']}/data/")
        if status != 200 or not body.get("result") or any(not r.get("rowcount") for r in body["result"]):
            bad.append(f"{chart['slice_name']}: HTTP {status} {json.dumps(body)[:200]}")
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_small_load_has_no_errors(served):
    """4 viewers for 8 s opening every dashboard (the full test is `python -m ngs.superset.loadtest`)."""
    from ngs.superset.loadtest import run_load

    s = served["served"]
    report = run_load(served["port"], s.username, s.password, viewers=4, seconds=8)
    assert report["errors"] == 0, report
    assert report["served"] >= sum(report["dashboards"].values()), report


@pytest.mark.slow
def test_live_warehouse_untouched(served):
    """Last: after every trial above, the live warehouse is byte-identical and no file was written."""
    assert _sha256(served["live"]) == served["live_sha"]
    assert sorted(p.name for p in served["live"].parent.iterdir()) == ["ngs.duckdb"]
    assert not served["out"].exists() or not any(served["out"].iterdir())
