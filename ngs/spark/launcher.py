"""Run dbt on Spark in-process, with dbt Python models executed by this process's SparkSession.

Stock dbt-spark submits Python models only to Databricks (dbt-labs/dbt-spark#415). Here one Python process
owns the SparkSession (master NGS_SPARK_MASTER: `local[2]` in-process, or `spark://host:7077` for a
standalone cluster whose executors then run the `mapInPandas` work), registers a `session` submission
method on dbt-spark's adapter and runs dbt with dbtRunner, so `--target spark` (method: session) finds the
session already built and Python models run on it:

    ngs spark dbt -- build --project-dir . --profiles-dir .          # the `spark` target of profiles.yml

The embedded Derby metastore (NGS_SPARK_METASTORE_DIR) admits one process at a time: a second launcher, or
a thrift server on the same metastore, is refused with a message saying so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ngs.errors import NgsError
from ngs.spark import settings as spark_settings
from ngs.spark.cluster import SparkSetupError, spark_env

SUBMISSION_METHOD = "session"
_session = None  # the SparkSession the launcher built; the submission helper runs models on it


class SessionPythonJobHelper:
    """dbt PythonJobHelper: exec the compiled Python model (dbt-spark's py_write_table: it calls
    `model(dbt, spark)` and writes the result with `saveAsTable`) with `spark` bound to our SparkSession."""

    def __init__(self, parsed_model: dict, credentials) -> None:
        self.parsed_model = parsed_model
        self.credentials = credentials

    def submit(self, compiled_code: str):
        from pyspark.sql import SparkSession

        spark = _session or SparkSession.getActiveSession()
        if spark is None:
            raise SparkSetupError("no SparkSession in this process: run Python models through `ngs spark dbt`")
        name = self.parsed_model.get("alias") or self.parsed_model.get("name", "model")
        # a module name that is not importable: cloudpickle ships functions defined in the model by value to
        # the executors (functions imported from the ngs package travel by reference)
        scope = {"spark": spark, "__name__": f"dbt_python_model_{name}", "__builtins__": __builtins__}
        code = compile(compiled_code, f"<dbt python model {self.parsed_model.get('unique_id', name)}>", "exec")
        exec(code, scope)  # noqa: S102  (dbt's own compiled model code, as on Databricks)
        return {"model": name}


def seed_literal(value) -> str | float:
    """A seed value as a Spark SQL literal. dbt-spark's session method renders every non-number as '<value>':
    a missing value becomes the string 'None' (or a failed cast) and an apostrophe breaks the statement."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return _stock_fix_binding(value)


_stock_fix_binding = None


def register() -> None:
    """Add the `session` submission method to dbt-spark's adapter and make it the default method; render seed
    values (NULL, quotes) correctly in session mode."""
    global _stock_fix_binding
    from dbt.adapters.spark.impl import SparkAdapter
    from dbt.adapters.spark.session import SessionConnectionWrapper

    if getattr(SparkAdapter, "_ngs_session_registered", False):
        return
    _stock_fix_binding = SessionConnectionWrapper._fix_binding
    SessionConnectionWrapper._fix_binding = classmethod(lambda cls, value: seed_literal(value))
    stock = SparkAdapter.python_submission_helpers.fget

    def helpers(self):
        return {**stock(self), SUBMISSION_METHOD: SessionPythonJobHelper}

    SparkAdapter.python_submission_helpers = property(helpers)
    _keep_ansi_mode()
    SparkAdapter.default_python_submission_method = property(lambda self: SUBMISSION_METHOD)
    SparkAdapter._ngs_session_registered = True


def _keep_ansi_mode() -> None:
    """dbt-spark 1.11 turns Spark's ANSI mode off for every connection (SparkCredentials.__post_init__ forces
    spark.sql.ansi.enabled=false). The models need it on: they quote identifiers with double quotes ("gameId",
    "frame.id"), which Spark reads as identifiers only with spark.sql.ansi.doubleQuotedIdentifiers *and* ANSI
    mode; off, "gameId" is the string 'gameId' and a view silently holds that constant (measured). ANSI mode is
    Spark 4's default; the models guard every division with nullif and convert untrusted text with try_cast."""
    from dbt.adapters.spark.connections import SparkCredentials

    if getattr(SparkCredentials, "_ngs_ansi", False):
        return
    stock = SparkCredentials.__post_init__

    def post_init(self) -> None:
        stock(self)
        self.server_side_parameters["spark.sql.ansi.enabled"] = "true"
        self.server_side_parameters["spark.sql.ansi.doubleQuotedIdentifiers"] = "true"

    SparkCredentials.__post_init__ = post_init
    SparkCredentials._ngs_ansi = True


def start_session(cfg: spark_settings.SparkSettings | None = None):
    """Build this process's SparkSession (Hive catalogue on the Derby metastore, warehouse dir) from the settings."""
    global _session
    cfg = cfg or spark_settings.load()
    env = spark_env()  # refuses clearly when pyspark or Java is missing
    os.environ["SPARK_HOME"] = env["SPARK_HOME"]
    os.environ["PYSPARK_PYTHON"] = sys.executable
    cfg.warehouse_dir.mkdir(parents=True, exist_ok=True)
    cfg.metastore_dir.mkdir(parents=True, exist_ok=True)
    lock = cfg.metastore_dir / "metastore_db" / "db.lck"
    if lock.exists() and _derby_in_use(cfg.metastore_dir):
        raise SparkSetupError(f"the Derby metastore {cfg.metastore_dir} is in use by another Spark process "
                              "(a launcher or the thrift server): embedded Derby admits one; stop it or set "
                              "NGS_SPARK_METASTORE_DIR")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in cfg.session_conf().items():
        builder = builder.config(key, value)
    _session = builder.enableHiveSupport().getOrCreate()
    _session.sparkContext.setLogLevel(os.environ.get("NGS_SPARK_LOG_LEVEL", "WARN"))
    return _session


def _derby_in_use(metastore_dir: Path) -> bool:
    """True when a live process other than this one holds files of the Derby database open."""
    target = str(metastore_dir / "metastore_db")
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd).startswith(target):
                    return True
        except OSError:
            continue
    return False


def stop_session() -> None:
    global _session
    if _session is not None:
        try:
            _session.stop()
        finally:
            _session = None


def _export_settings(cfg: spark_settings.SparkSettings) -> None:
    """The profile's env_var() calls see the same absolute folders as the session."""
    os.environ["NGS_SPARK_MASTER"] = cfg.master
    os.environ["NGS_SPARK_WAREHOUSE_DIR"] = str(cfg.warehouse_dir)
    os.environ["NGS_SPARK_METASTORE_DIR"] = str(cfg.metastore_dir)
    os.environ["NGS_SPARK_SCHEMA"] = cfg.schema
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")


def run_dbt(dbt_args: list[str], target: str = "spark") -> bool:
    """`dbt <dbt_args>` in this process on a fresh SparkSession; True when dbt succeeded."""
    cfg = spark_settings.load()
    if not dbt_args:
        raise NgsError("no dbt command given (e.g. `ngs spark dbt -- build --project-dir .`)")
    if "--target" not in dbt_args and "-t" not in dbt_args:
        dbt_args = [*dbt_args, "--target", target]
    _export_settings(cfg)
    start_session(cfg)
    try:
        register()
        from dbt.cli.main import dbtRunner

        result = dbtRunner().invoke(dbt_args)
        if result.exception is not None and not result.success:
            raise NgsError(f"dbt {dbt_args[0]} on Spark failed: {result.exception}")
        return bool(result.success)
    finally:
        stop_session()


def cli_main(args: argparse.Namespace) -> int:
    dbt_args = list(args.dbt_args)
    if dbt_args and dbt_args[0] == "--":
        dbt_args = dbt_args[1:]
    started = time.monotonic()
    ok = run_dbt(dbt_args)
    print(f"ngs spark dbt: {'ok' if ok else 'failed'} in {time.monotonic() - started:.1f} s "
          f"(master {spark_settings.load().master})", file=sys.stderr)
    return 0 if ok else 1
