"""Apache Spark as a second engine for the same dbt project (issue 14, groundwork).

- `ngs.spark.settings`: every setting from the environment (master URL, ports, warehouse and metastore
  folders), with defaults under the git-ignored `warehouse/spark/`.
- `ngs.spark.cluster`: `ngs spark up|down|status`, a local standalone master + workers (+ thrift server)
  started from pyspark's own `spark-class` / `spark-submit`, stopped by PID.
- `ngs.spark.launcher`: runs dbt in-process in a Python process that owns the SparkSession and registers a
  `session` submission method, so dbt Python models run on open-source Spark (stock dbt-spark submits them
  only to Databricks: dbt-labs/dbt-spark#415).
- `ngs.spark.frames`: `map_partitions`, pandas-per-partition scoring that runs on DuckDB and on Spark.

Nothing here imports pyspark at module import time: pyspark is optional (requirements-spark.txt).
"""
