"""`ngs serve`: Superset on a read-only snapshot of the warehouse, with the dashboards in `dashboards/`.

State lives in the git-ignored `.superset/` (or `$NGS_SUPERSET_HOME`):

    superset_config.py   generated each run; SECRET_KEY generated on the first run (mode 600)
    superset.db          the SQLite metadata DB (users, datasets, charts, dashboards)
    admin_password       the generated admin password (mode 600; not written when
                         NGS_SUPERSET_PASSWORD is set)
    serving/<name>.duckdb  the snapshot Superset reads (read-only): a symlink to
                         serving/<name>.snapshot-<ns>.duckdb, a new copy per serve, swapped atomically
    gunicorn.pid, superset.log, state.json (what was initialised and imported, so a rerun is fast)

DuckDB allows one writer *or* many readers per file, across processes. dbt must be free to rebuild
the warehouse while Superset runs, so Superset never opens it: each `ngs serve` copies the warehouse
to a temporary file beside the snapshot, checkpoints and checks it, renames it to a new snapshot file
and swaps the symlink `serving/<name>.duckdb` to it (`snapshot_warehouse`), which Superset opens
read-only (one connection per query, so the next query sees the new snapshot). Run `ngs serve` again
after `ngs build` to refresh.

Superset's connections get no file access: `ngs.superset.guard` (DuckDB's external access off and its
configuration locked, and only the serving snapshot may be opened).

Nothing here imports Superset: the Superset work runs in subprocesses (`ngs.superset._inapp`, gunicorn).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ngs.errors import NgsError
from ngs.paths import DEFAULT_WAREHOUSE, REPO_ROOT
from ngs.superset.bundle import (
    BUNDLE_DIR,
    CheckResult,
    build_zip,
    check_bundle,
    dashboard_defaults,
    dataset_filter_tables,
    dataset_values,
    digest,
    load_bundle,
)
from ngs.superset.guard import duckdb_uri

DEFAULT_PORT = 8088
ADMIN_USER = "admin"
STARTUP_TIMEOUT_S = 120
# How long a running Superset may take to answer /health before a rerun of `ngs serve` restarts it.
# A busy one (many viewers, a build on the same cores) answers in seconds, not in the 2 s of one try:
# restarting it on one slow answer dropped every request in flight (connection reset).
RUNNING_HEALTH_WAIT_S = 30


class SupersetError(NgsError):
    """Superset could not be initialised, loaded or started; the message says where to look."""


def state_dir() -> Path:
    return Path(os.environ.get("NGS_SUPERSET_HOME", REPO_ROOT / ".superset")).resolve()


def port_from_env() -> int:
    return int(os.environ.get("NGS_SUPERSET_PORT", DEFAULT_PORT))


@dataclass
class Served:
    url: str
    username: str
    password: str
    password_source: str
    pid: int
    snapshot: Path | str  # the DuckDB snapshot, or the Spark thrift server's URI (--spark-thrift)
    check: CheckResult
    timings: dict[str, float]
    # per dashboard slug, what its Dataset filter opens on (real where its mart has real rows)
    defaults: dict[str, str | None] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- files
def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def _secret_key(state: Path) -> str:
    path = state / "secret_key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48) + "\n")
    return path.read_text().strip()


def _admin_password(state: Path) -> tuple[str, str]:
    env = os.environ.get("NGS_SUPERSET_PASSWORD")
    if env:
        return env, "NGS_SUPERSET_PASSWORD"
    path = state / "admin_password"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip(), str(path)


def write_config(state: Path, thrift: tuple[str, int] | None = None) -> Path:
    """Generate `superset_config.py` (regenerated each run; the SECRET_KEY is kept in `secret_key`).
    `thrift`: (host, port) of the Spark thrift server the dashboards read (`ngs serve --spark-thrift`): the
    one other database allowed, and PyHive's table listing fixed for Spark."""
    key = _secret_key(state)
    spark_lines = "" if thrift is None else f'''
# The dashboards read the Spark thrift server {thrift[0]}:{thrift[1]} (ngs serve --spark-thrift): PyHive lists
# Spark's tables wrongly without this fix (ngs/superset/spark.py).
from ngs.superset.spark import install_pyhive_spark_fix  # noqa: E402
install_pyhive_spark_fix()
'''
    serving = state / "serving"
    path = state / "superset_config.py"
    _write_private(path, f'''# Generated by `ngs serve` (ngs/superset/__init__.py); regenerated on every run, never committed.
SECRET_KEY = {key!r}
SQLALCHEMY_DATABASE_URI = {"sqlite:///" + str(state / "superset.db")!r}
DATA_DIR = {str(state)!r}
# Results are never cached: a refreshed snapshot shows at once.
DATA_CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
CACHE_CONFIG = {{"CACHE_TYPE": "NullCache"}}
ROW_LIMIT = 50000
SQLLAB_TIMEOUT = 120
SUPERSET_WEBSERVER_TIMEOUT = 120
# No virtualization: every chart of a (small) dashboard is drawn at once, also below the fold, so a
# full-page screenshot or a print shows them all.
FEATURE_FLAGS = {{"DASHBOARD_NATIVE_FILTERS": True, "DASHBOARD_VIRTUALIZATION": False,
                  "ENABLE_TEMPLATE_PROCESSING": False}}
# Local, single-user serving on 127.0.0.1.
TALISMAN_ENABLED = False
RATELIMIT_ENABLED = False
# Read-only serving (ngs/superset/guard.py, docs/dashboards.md "Security"): every connection Superset
# opens is the snapshot in serving/, read-only, DuckDB's file access off and its configuration locked;
# any other database (a new one, an edited URI, sqlite, :memory:) is refused.
from ngs.superset.guard import connection_mutator, uri_validator  # noqa: E402
DB_SQLA_URI_VALIDATOR = uri_validator({str(serving)!r}, {thrift!r})
DB_CONNECTION_MUTATOR = connection_mutator({str(serving)!r}, {thrift!r})
PREVENT_UNSAFE_DB_CONNECTIONS = True
{spark_lines}''')
    return path


def _load_state(state: Path) -> dict:
    path = state / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(state: Path, data: dict) -> None:
    tmp = state / "state.json.tmp"
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, state / "state.json")


# ------------------------------------------------------------------------------------------ snapshot
def snapshot_warehouse(warehouse: Path, serving_dir: Path) -> tuple[Path, dict[tuple[str, str], dict[str, str]]]:
    """Copy the warehouse into `serving_dir` and point `serving_dir/<name>.duckdb` at the copy.

    The copy is a new file per refresh, `<name>.snapshot-<ns>.duckdb` (temp file, checkpoint, rename),
    and `<name>.duckdb` a symlink to it, swapped with `os.replace`; older copies are deleted (a query
    still reading one keeps its open file). A new file per refresh, not one file replaced in place:
    DuckDB keeps one database instance per path in a process while any connection to it is open, so
    under steady load (overlapping queries) a Superset worker would never let go of the replaced file
    and would serve the old data. Superset opens the symlink's target (`guard.lock_down` resolves it).

    Returns the snapshot path (the symlink) and its tables: {(schema, table): {column: type}}.
    """
    import fcntl

    import duckdb

    warehouse = Path(warehouse).resolve()
    if not warehouse.exists():
        raise SupersetError(f"no warehouse at {warehouse}: build one first with `ngs build --data DIR`")
    serving_dir.mkdir(parents=True, exist_ok=True)
    final = serving_dir / f"{warehouse.stem}.duckdb"
    tmp = serving_dir / f".{warehouse.stem}.{os.getpid()}.tmp.duckdb"
    link_tmp = serving_dir / f".{warehouse.stem}.{os.getpid()}.tmp.link"
    try:
        shutil.copyfile(warehouse, tmp)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():  # a writer did not close cleanly: take its log too, the checkpoint folds it in
            shutil.copyfile(wal, tmp.with_name(tmp.name + ".wal"))
        try:
            con = duckdb.connect(str(tmp))
            con.execute("checkpoint")
            rows = con.execute(
                "select table_schema, table_name, column_name, data_type from information_schema.columns "
                "order by table_schema, table_name, ordinal_position").fetchall()
            con.close()
        except duckdb.Error as exc:
            raise SupersetError(f"cannot read a snapshot of {warehouse} ({exc}); is a build writing it "
                                "right now? Rerun `ngs serve` when it has finished") from exc
        # one `ngs serve` at a time swaps and cleans up, so none deletes the copy another just linked
        with open(serving_dir / ".swap.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            copy = serving_dir / f"{warehouse.stem}.snapshot-{time.time_ns()}.duckdb"
            os.replace(tmp, copy)
            link_tmp.unlink(missing_ok=True)
            link_tmp.symlink_to(copy.name)
            os.replace(link_tmp, final)
            for old in serving_dir.glob(f"{warehouse.stem}.snapshot-*.duckdb"):
                if old != copy:
                    old.unlink(missing_ok=True)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal"), link_tmp):
            leftover.unlink(missing_ok=True)
    tables: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, dtype in rows:
        tables.setdefault((schema, table), {})[column] = dtype
    return final, tables


# ------------------------------------------------------------------------------------------- process
def _read_pid(state: Path) -> int | None:
    path = state / "gunicorn.pid"
    if not path.exists():
        return None
    try:
        pid = int(path.read_text().strip())
    except ValueError:
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    return pid if "gunicorn" in cmdline else None


def _wait_health(port: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        if _health(port, timeout=min(10.0, max(1.0, deadline - time.monotonic()))):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.5)


def _health(port: int, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _subprocess_env(state: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SUPERSET_CONFIG_PATH"] = str(state / "superset_config.py")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("DO_NOT_TRACK", "1")
    env.pop("FLASK_APP", None)
    return env


def _run_inapp(state: Path, password: str, init: bool, bundle_zip: Path | None) -> None:
    cmd = [sys.executable, "-m", "ngs.superset._inapp"]
    if init:
        cmd.append("--init")
    if bundle_zip is not None:
        cmd += ["--bundle", str(bundle_zip)]
    env = _subprocess_env(state)
    env["NGS_SUPERSET_ADMIN_PASSWORD"] = password
    log = state / "superset.log"
    with open(log, "a") as fh:
        fh.write(f"\n==== {time.strftime('%F %T')} {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, cwd=state)
    if proc.returncode != 0:
        raise SupersetError(f"Superset {'initialisation' if init else 'import'} failed; the end of {log}:\n"
                            + _tail(log))


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _start_gunicorn(state: Path, port: int) -> int:
    log = state / "superset.log"
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
           "-b", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "10",
           "--limit-request-line", "0", "--limit-request-field_size", "0",
           "superset.app:create_app()"]
    with open(log, "a") as fh:
        fh.write(f"\n==== {time.strftime('%F %T')} {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.Popen(cmd, env=_subprocess_env(state), stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=state, start_new_session=True)
    (state / "gunicorn.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (state / "gunicorn.pid").unlink(missing_ok=True)
            raise SupersetError(f"gunicorn exited with code {proc.returncode}; the end of {log}:\n" + _tail(log))
        if _health(port):
            return proc.pid
        time.sleep(0.5)
    stop(state)
    raise SupersetError(f"Superset did not answer /health on port {port} within {STARTUP_TIMEOUT_S} s; see {log}")


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------------------------- verbs
def _thrift_source(uri: str, bundle) -> tuple[dict, dict[str, set[str]]]:
    """The tables and dataset values of the Spark thrift server at `uri` (ngs.superset.spark)."""
    from ngs.superset import spark as on_spark

    schemas = {ds.get("schema") or "default" for ds in bundle.datasets().values()}
    try:
        tables = on_spark.thrift_tables(uri, schemas)
        values = on_spark.thrift_dataset_values(uri, dataset_filter_tables(bundle))
    except ImportError:
        raise SupersetError("--spark-thrift needs PyHive (make venv-spark)") from None
    except Exception as exc:  # noqa: BLE001 - thrift/PyHive errors: one line naming the server
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise SupersetError(f"cannot read the Spark thrift server {uri} ({first[:300]}); is it up "
                            "(`ngs spark up --thrift`)?") from None
    return tables, values


def serve(warehouse: Path = DEFAULT_WAREHOUSE, state: Path | None = None, port: int | None = None,
          bundle_dir: Path = BUNDLE_DIR, log=print, spark_thrift: str | None = None) -> Served:
    """Snapshot the warehouse, initialise Superset once, (re)load the dashboards, start gunicorn.
    `spark_thrift`: a `hive://host:port/schema` URI; the dashboards then read Spark's thrift server
    (PyHive) instead of a DuckDB snapshot, and `warehouse` is not used."""
    state = state or state_dir()
    port = port or port_from_env()
    thrift = None
    if spark_thrift:
        from ngs.superset.spark import parse_thrift_uri

        try:
            thrift = parse_thrift_uri(spark_thrift)[:2]
        except ValueError as exc:
            raise SupersetError(f"--spark-thrift: {exc}") from None
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    timings: dict[str, float] = {}
    t0 = time.monotonic()

    bundle = load_bundle(bundle_dir)
    if spark_thrift:
        tables, values = _thrift_source(spark_thrift, bundle)
        snapshot, source, uri = spark_thrift, spark_thrift, spark_thrift
    else:
        snapshot, tables = snapshot_warehouse(warehouse, state / "serving")
        source, uri = warehouse, duckdb_uri(snapshot)
    timings["snapshot_s"] = time.monotonic() - t0

    check = check_bundle(bundle, tables)
    for problem in check.problems:
        log(f"warning: {problem}; its charts are left out")
    for slug in check.dropped_dashboards:
        log(f"warning: dashboard {slug} left out: none of its tables is in {source}")
    if not spark_thrift:
        import duckdb

        try:
            values = dataset_values(snapshot, dataset_filter_tables(bundle))
        except duckdb.Error as exc:
            raise SupersetError(f"cannot read the dataset column of the snapshot of {warehouse} ({exc})") from exc
    defaults = dashboard_defaults(bundle, values)
    data = build_zip(bundle, uri, check, defaults=defaults)

    write_config(state, thrift)
    password, password_source = _admin_password(state)
    from importlib.metadata import version

    st = _load_state(state)
    superset_version = version("apache-superset")
    need_init = st.get("initialised_version") != superset_version or not (state / "superset.db").exists()
    fingerprint = {"bundle": digest(data), "password": _hash(_secret_key(state) + password)}
    if need_init or st.get("loaded") != fingerprint:
        zip_path = state / "bundle.zip"
        zip_path.write_bytes(data)
        t = time.monotonic()
        log("Initialising Superset's metadata DB (first run, about a minute)..." if need_init
            else "Loading the dashboards...")
        _run_inapp(state, password, need_init, zip_path)
        timings["init_s" if need_init else "import_s"] = time.monotonic() - t
        st.update(initialised_version=superset_version, loaded=fingerprint)
        _save_state(state, st)

    pid = _read_pid(state)
    if pid is not None and st.get("port") != port:
        stop(state)
        pid = None
    elif pid is not None and not _wait_health(port, RUNNING_HEALTH_WAIT_S):
        log(f"warning: Superset (pid {pid}) did not answer /health on port {port} within "
            f"{RUNNING_HEALTH_WAIT_S} s: restarting it")
        stop(state)
        pid = None
    if pid is None:
        if not _port_free(port):
            raise SupersetError(f"port {port} is taken by another program: set NGS_SUPERSET_PORT to a free port")
        t = time.monotonic()
        pid = _start_gunicorn(state, port)
        timings["start_s"] = time.monotonic() - t
        st["port"] = port
        _save_state(state, st)
    timings["total_s"] = time.monotonic() - t0
    return Served(f"http://127.0.0.1:{port}/", ADMIN_USER, password, password_source, pid, snapshot, check,
                  timings, defaults)


def stop(state: Path | None = None) -> bool:
    """Stop the gunicorn this state folder started; True if one was running."""
    state = state or state_dir()
    pid = _read_pid(state)
    if pid is None:
        (state / "gunicorn.pid").unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
    (state / "gunicorn.pid").unlink(missing_ok=True)
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def cli_main(args) -> int:
    if args.stop:
        print("Superset stopped." if stop() else "Superset was not running.")
        return 0
    thrift = getattr(args, "spark_thrift", None) or os.environ.get("NGS_SUPERSET_SPARK_THRIFT", "").strip() or None
    served = serve(Path(args.warehouse), spark_thrift=thrift)
    if thrift:
        print(f"Serving the Spark thrift server {thrift} (PyHive; a Spark build is seen at once)")
    else:
        print(f"Serving snapshot {served.snapshot} (read-only; rerun `ngs serve` after `ngs build` to refresh)")
    for slug, value in sorted(served.defaults.items(), key=lambda kv: (kv[1] is None, kv[0])):
        print(f"  {slug}: opens on " + (f"the {value} games (Dataset filter)" if value
                                       else "no dataset by default (no rows of the loaded games)"))
    print(f"Superset is up at {served.url} in {served.timings['total_s']:.0f} s")
    print(f"  login: {served.username} / {served.password}   (password from {served.password_source})")
    print(f"  dashboards: {served.url}dashboard/list/   stop with `ngs serve --stop`")
    return 0


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
