"""`ngs`: the one command-line door to the warehouse.

Each sub-command lives in its own module and is imported only when used, so `ngs --help` stays fast
and a sub-command's heavy dependencies (torch, Superset) load only where they are needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from ngs.errors import NgsError
from ngs.paths import DEFAULT_WAREHOUSE


def _int_between(low: int, high: int | None = None):
    """An argparse type: a whole number in [low, high]; anything else is a usage error naming the value."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    parse.__name__ = "whole number"
    return parse


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    # the bounds live in ngs.simulate (MAX_GAMES, MAX_PLAYS_PER_GAME); kept literal here so `ngs --help`
    # does not import numpy
    p = sub.add_parser("simulate", help="write a simulated Big Data Bowl 2023-format release")
    p.add_argument("--games", type=_int_between(1, 288), default=4,
                   help="number of games, 1-288 (a season is ~270)")
    p.add_argument("--seed", type=_int_between(0), default=7,
                   help="random seed (>= 0); the output is deterministic per seed")
    p.add_argument("--out", type=Path, required=True,
                   help="folder to write games/plays/players/tracking CSVs: new, empty or an earlier "
                        "simulator output")
    p.add_argument("--plays-per-game", type=_int_between(1, 400), default=None,
                   help="override plays per game, 1-400 (default 140)")
    p.add_argument("--force", action="store_true",
                   help="write into a folder holding other files (files with the simulator's names are "
                        "overwritten)")
    p.set_defaults(func=lambda a: __import__("ngs.simulate", fromlist=["cli_main"]).cli_main(a))


def _add_build(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="ingest Big Data Bowl folders and run dbt build into a DuckDB warehouse")
    p.add_argument("--data", type=Path, action="append", required=True,
                   help="a Big Data Bowl release folder (any vintage) or simulator output; repeatable")
    p.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE, help="DuckDB file to (re)build")
    p.add_argument("--no-train", action="store_true",
                   help="score with the stored model artefacts instead of training (dbt --exclude tag:train)")
    p.add_argument("--select", default=None, help="extra dbt --select expression")
    p.add_argument("--exclude", action="append", default=None, metavar="SELECTOR",
                   help="dbt --exclude selector, repeatable (e.g. resource_type:test: build without the data tests)")
    p.add_argument("--append", action="store_true",
                   help="add these folders to the existing warehouse instead of rebuilding from scratch; the "
                        "per-pass models then score only new or changed passes (ngs.incremental). With --engine "
                        "spark: the files are added to Spark's raw tables, int_tracking_flagged gets the new games' "
                        "partitions and every other model is rebuilt")
    p.add_argument("--full-refresh", action="store_true",
                   help="with --append: rebuild every incremental table (tracking, per-pass scores) from scratch "
                        "(dbt --full-refresh)")
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="duckdb (default): build --warehouse; spark: load into Spark's raw tables and run dbt on "
                        "the `spark` target through the launcher (docs/scale-out.md; needs make venv-spark)")
    p.add_argument("--spark-python", action="store_true",
                   help="with --engine spark: include the Python models (default: they and their descendants "
                        "are excluded until ported; env NGS_SPARK_PYTHON_MODELS=1 does the same)")
    p.set_defaults(func=_build_main)


def _build_main(args) -> int:
    if args.engine == "spark":
        return __import__("ngs.spark.build", fromlist=["cli_main"]).cli_main(args)
    if args.spark_python:
        raise NgsError("--spark-python needs --engine spark")
    return __import__("ngs.build", fromlist=["cli_main"]).cli_main(args)


def _horizon(text: str) -> int | str:
    """--horizon: a whole number of frames (>= 1) or 'arrival'."""
    if text.strip().lower() == "arrival":
        return "arrival"
    try:
        return _int_between(1)(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (a number of frames or 'arrival')") from None


def _add_ghost_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ghost-eval", help="score the ghosting model on BDB 2026 output tracks vs baselines")
    p.add_argument("--tracks", required=True, help="glob of output_*.csv files (quote it)")
    p.add_argument("--observed", type=_int_between(1), default=3, help="observed frames per track")
    p.add_argument("--horizon", type=_horizon, default=10,
                   help="predicted frames per track (>= 1), or 'arrival' (every frame until the track ends)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=lambda a: __import__("ngs.ghosting.evaluate", fromlist=["cli_main"]).cli_main(a))


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start (or --stop) Superset on the warehouse, dashboards loaded")
    p.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    p.add_argument("--stop", action="store_true", help="stop the running Superset")
    p.add_argument("--spark-thrift", metavar="URI", default=None,
                   help="serve the dashboards from a Spark thrift server instead of --warehouse, e.g. "
                        "hive://127.0.0.1:10000/default (PyHive; env NGS_SUPERSET_SPARK_THRIFT; docs/scale-out.md)")
    p.set_defaults(func=lambda a: __import__("ngs.superset", fromlist=["cli_main"]).cli_main(a))


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark the full build against a pandas pipeline")
    p.add_argument("--games", type=int, default=10, help="simulated games (a season is ~270)")
    p.add_argument("--seed", type=int, default=7, help="simulator seed (the release is reused per games+seed)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--incremental", action="store_true",
                   help="also time `ngs build --append` of one more week onto the built warehouse")
    p.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    p.add_argument("--no-same-work", action="store_true",
                   help="skip the second build doing only the pandas pipeline's work (same_work_s)")
    p.add_argument("--no-floor", action="store_true", help="skip the one-statement floor query (floor_s)")
    p.add_argument("--exclude", default=None,
                   help="extra dbt --exclude selector for the timed build (e.g. 'tag:ghosting'); reported")
    p.add_argument("--select", default=None,
                   help="dbt --select for the timed build (e.g. '+path:models/marts/core' = the foundation); reported")
    p.set_defaults(func=lambda a: __import__("ngs.bench", fromlist=["cli_main"]).cli_main(a))


def _add_spark(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("spark", help="a local Spark cluster (up/down/status) and dbt on Spark (dbt -- ARGS)",
                       description="Spark engine (docs/scale-out.md); needs `make venv-spark` and Java 17+")
    p.add_argument("action", choices=["up", "down", "status", "dbt"],
                   help="up/down/status: the local master + workers (NGS_SPARK_* settings); "
                        "dbt: run dbt in-process on a SparkSession (Python models included)")
    p.add_argument("--thrift", action="store_true", help="up: also start the thrift server (Superset, spark_thrift)")
    p.add_argument("dbt_args", nargs="*", help="dbt: the dbt command after `--` (ngs spark dbt -- build ...)")
    p.set_defaults(func=lambda a: __import__("ngs.spark.cluster", fromlist=["cli_main"]).cli_main(a))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ngs", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_simulate, _add_build, _add_ghost_eval, _add_serve, _add_bench, _add_spark):
        add(sub)
    return parser


def _describe(exc: BaseException) -> str:
    """One line for an error nobody anticipated: what failed, and the path involved when there is one."""
    if isinstance(exc, OSError) and exc.strerror:
        paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
        return f"{paths}: {exc.strerror}" if paths else exc.strerror
    text = (str(exc).strip().splitlines() or [""])[0]
    if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
        return f"DuckDB: {text}"  # its messages name their kind ("IO Error: ...") and file
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except NgsError as exc:
        print(f"ngs {args.command}: error: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print(f"ngs {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001  (no traceback reaches a user; NGS_DEBUG=1 shows it)
        debug = os.environ.get("NGS_DEBUG", "") not in ("", "0")
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (NGS_DEBUG=1 shows the traceback)"
        print(f"ngs {args.command}: error: {_describe(exc)}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
