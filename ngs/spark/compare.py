"""Compare a DuckDB build with a Spark build of the same data, table for table (`ngs.spark.mirror.compare_builds`).

    python -m ngs.spark.compare --duckdb W.duckdb --spark-warehouse NGS_SPARK_DIR/warehouse [--json FILE]

Every table of the `marts`, `reference` and `intermediate` schemas: same columns and rows, values within 1e-6
in a canonical row order. Left out by design (docs/scale-out.md, "Measured: the whole project end to end"):
the DuckDB-only incremental marker tables `<model>__scored`, the `scoring_fingerprint` of
`fct_target_options` (it hashes the last bits of vx/vy, which the JVM's and DuckDB's sin/cos round
differently), and the measured wall times of `ghosting_model_training` (`ngs.spark.mirror.MEASURED`).
Prints the rows of each table and the raw tracking rows loaded; exit 1 when a table differs or is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from ngs.errors import NgsError

PER_PASS = ("fct_completion_probability", "fct_ghost_trajectories", "fct_closing_scores", "fct_target_options")
BY_DESIGN = {f"{m}__scored": "incremental marker table: DuckDB only (Spark rebuilds the per-pass models in full)"
             for m in PER_PASS}
BY_DESIGN_COLUMNS = {"fct_target_options": ["scoring_fingerprint"]}
SCHEMAS = ("marts", "reference", "intermediate")


def raw_tracking_rows(duck_warehouse: Path) -> int:
    """Rows of the DuckDB build's raw tracking tables (what was loaded)."""
    with duckdb.connect(str(duck_warehouse), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' "
            "and table_type = 'BASE TABLE' and table_name like '%tracking%' order by 1").fetchall()]
        return sum(con.execute(f'select count(*) from raw."{n}"').fetchone()[0] for n in names)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ngs.spark.compare", description=__doc__.split("\n\n")[0])
    p.add_argument("--duckdb", type=Path, required=True, help="the DuckDB warehouse (ngs build --warehouse)")
    p.add_argument("--spark-warehouse", type=Path, required=True,
                   help="the Spark build's table folder (NGS_SPARK_WAREHOUSE_DIR, default NGS_SPARK_DIR/warehouse)")
    p.add_argument("--json", type=Path, default=None, help="also write the report to this file")
    args = p.parse_args(argv)
    from ngs.spark.mirror import compare_builds

    for path in (args.duckdb, args.spark_warehouse):
        if not path.exists():
            print(f"error: {path}: not found", file=sys.stderr)
            return 2
    try:
        report = compare_builds(args.duckdb, args.spark_warehouse, schemas=SCHEMAS, skip=BY_DESIGN,
                                ignore=BY_DESIGN_COLUMNS)
        report["raw_tracking_rows"] = raw_tracking_rows(args.duckdb)
    except (NgsError, duckdb.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    differing = {t: d for t, d in report["differences"].items() if d}
    for table, rows in report["compared"].items():
        print(f"{table}: {rows:,} rows, " + ("equal" if not differing.get(table) else
                                             "DIFFERS: " + "; ".join(differing[table])))
    for table in report["missing"]:
        print(f"{table}: MISSING on Spark")
    print(f"raw tracking rows {report['raw_tracking_rows']:,}; {len(report['compared'])} tables compared, "
          f"{sum(report['compared'].values()):,} rows, {len(differing)} differ, {len(report['missing'])} missing, "
          f"{len(report['skipped'])} left out by design")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 1 if differing or report["missing"] else 0


if __name__ == "__main__":
    sys.exit(main())
