"""Spark settings, all from environment variables (the same names `profiles.yml` reads).

    NGS_SPARK_MASTER            local[2] (default; in-process) or spark://host:7077 (a standalone cluster)
    NGS_SPARK_DIR               root of Spark's local state (default <repo>/warehouse/spark, git-ignored)
    NGS_SPARK_WAREHOUSE_DIR     table files (default $NGS_SPARK_DIR/warehouse)
    NGS_SPARK_METASTORE_DIR     embedded Derby metastore (default $NGS_SPARK_DIR/metastore); one process at a time
    NGS_SPARK_RUN_DIR           PIDs and logs of `ngs spark up` (default $NGS_SPARK_DIR/run)
    NGS_SPARK_HOST              host the local cluster binds (default 127.0.0.1)
    NGS_SPARK_MASTER_PORT       7077;  NGS_SPARK_MASTER_WEBUI_PORT 8080 (web UIs are off unless set)
    NGS_SPARK_WORKERS           2 workers;  NGS_SPARK_WORKER_CORES 1;  NGS_SPARK_WORKER_MEMORY 1g
    NGS_SPARK_THRIFT_PORT       10000 (HiveServer2 protocol, for dbt's spark_thrift target and Superset)
    NGS_SPARK_DRIVER_MEMORY     1g;  NGS_SPARK_EXECUTOR_MEMORY 768m
    NGS_SPARK_SHUFFLE_PARTITIONS 4 (spark.sql.shuffle.partitions; Spark's 200 is for big clusters); unset,
                                `ngs build --engine spark` raises it to one per 500,000 loaded rows
                                (shuffle_partitions_for)
    NGS_SPARK_SCHEMA            the schema (Spark database) dbt builds into (default ngs)
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from ngs.paths import WAREHOUSE_DIR


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _port(name: str, default: int) -> int:
    text = _env(name, str(default))
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        from ngs.errors import NgsError

        raise NgsError(f"{name}={text!r} is not a TCP port (1-65535)")
    return port


# A build's shuffle partitions follow the rows loaded unless NGS_SPARK_SHUFFLE_PARTITIONS says otherwise:
# at 50 simulated games (10.7 million rows) 4 partitions made the executors (768m) fail in fct_pass_events'
# sort-merge joins (OutOfMemoryError in the spill readers, 2 December 2026), and so did 22 partitions that
# adaptive execution coalesced back into 3 (its advisory 64 MB a partition); with more partitions the
# advisory size goes down with them (ADVISORY_PARTITION_BYTES), so small shuffles are still coalesced.
ROWS_PER_SHUFFLE_PARTITION = 500_000
ADVISORY_PARTITION_BYTES = "8m"


def shuffle_partitions_for(rows: int, configured: int) -> int:
    """The shuffle partitions for a warehouse of ``rows`` loaded rows: ``configured`` when
    NGS_SPARK_SHUFFLE_PARTITIONS is set, else at least it and one per ROWS_PER_SHUFFLE_PARTITION rows."""
    if _env("NGS_SPARK_SHUFFLE_PARTITIONS", ""):
        return configured
    return max(configured, -(-int(rows) // ROWS_PER_SHUFFLE_PARTITION))


def _count(name: str, default: int, low: int = 1, high: int = 64) -> int:
    text = _env(name, str(default))
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        from ngs.errors import NgsError

        raise NgsError(f"{name}={text!r} must be a whole number between {low} and {high}")
    return value


@dataclass(frozen=True)
class SparkSettings:
    master: str
    state_dir: Path
    warehouse_dir: Path
    metastore_dir: Path
    run_dir: Path
    host: str
    master_port: int
    master_webui_port: int | None
    workers: int
    worker_cores: int
    worker_memory: str
    thrift_port: int
    driver_memory: str
    executor_memory: str
    shuffle_partitions: int
    schema: str

    @property
    def cluster_url(self) -> str:
        return f"spark://{self.host}:{self.master_port}"

    def session_conf(self) -> dict[str, str]:
        """The SparkSession configuration the launcher (driver) uses; the same keys `profiles.yml` passes as
        server_side_parameters, so a plain `dbt --target spark` and the launcher agree."""
        derby = self.metastore_dir / "metastore_db"
        java_opts = f"-Dderby.system.home={self.metastore_dir}"
        return {
            "spark.master": self.master,
            "spark.app.name": "ngs-dbt",
            "spark.sql.warehouse.dir": str(self.warehouse_dir),
            "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={derby};create=true",
            "spark.driver.extraJavaOptions": java_opts,
            "spark.driver.memory": self.driver_memory,
            "spark.executor.memory": self.executor_memory,
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            # executors (on a cluster: started by the workers) run the same interpreter, so the ngs package and
            # its pins are importable in mapInPandas functions
            "spark.pyspark.python": sys.executable,
            "spark.pyspark.driver.python": sys.executable,
            "spark.ui.enabled": "false",
            "spark.sql.session.timeZone": "UTC",
            # the models quote identifiers with double quotes ("gameId", "frame.id"), as DuckDB and the SQL
            # standard do; Spark reads them as identifiers with this (ANSI mode, on by default in Spark 4)
            "spark.sql.ansi.doubleQuotedIdentifiers": "true",
        }


def load() -> SparkSettings:
    state = Path(_env("NGS_SPARK_DIR", str(WAREHOUSE_DIR / "spark"))).expanduser().resolve()
    webui = os.environ.get("NGS_SPARK_MASTER_WEBUI_PORT", "").strip()
    return SparkSettings(
        master=_env("NGS_SPARK_MASTER", "local[2]"),
        state_dir=state,
        warehouse_dir=Path(_env("NGS_SPARK_WAREHOUSE_DIR", str(state / "warehouse"))).expanduser().resolve(),
        metastore_dir=Path(_env("NGS_SPARK_METASTORE_DIR", str(state / "metastore"))).expanduser().resolve(),
        run_dir=Path(_env("NGS_SPARK_RUN_DIR", str(state / "run"))).expanduser().resolve(),
        host=_env("NGS_SPARK_HOST", "127.0.0.1"),
        master_port=_port("NGS_SPARK_MASTER_PORT", 7077),
        master_webui_port=_port("NGS_SPARK_MASTER_WEBUI_PORT", 8080) if webui else None,
        workers=_count("NGS_SPARK_WORKERS", 2, 1, 16),
        worker_cores=_count("NGS_SPARK_WORKER_CORES", 1, 1, 256),
        worker_memory=_env("NGS_SPARK_WORKER_MEMORY", "1g"),
        thrift_port=_port("NGS_SPARK_THRIFT_PORT", 10000),
        driver_memory=_env("NGS_SPARK_DRIVER_MEMORY", "1g"),
        executor_memory=_env("NGS_SPARK_EXECUTOR_MEMORY", "768m"),
        shuffle_partitions=_count("NGS_SPARK_SHUFFLE_PARTITIONS", 4, 1, 100000),
        schema=_env("NGS_SPARK_SCHEMA", "ngs"),
    )
