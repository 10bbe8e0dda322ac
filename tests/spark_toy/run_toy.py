"""Build the toy project (tests/spark_toy) on one engine, measure it, and read its tables back.

    python tests/spark_toy/run_toy.py --engine duckdb --work /tmp/toy
    python tests/spark_toy/run_toy.py --engine spark --master 'local[2]' --work /tmp/toy
    python tests/spark_toy/run_toy.py --engine spark --master spark://127.0.0.1:7077 --work /tmp/toy  # after `ngs spark up`

Prints JSON: wall time of the dbt build, peak resident memory (the sum over the build's process tree and, on
a cluster, the cluster's processes: master, workers and their executors), and rows per table. Tables are read
back with DuckDB: from the DuckDB file, or from the parquet files Spark wrote under its warehouse folder.
Used by tests/test_spark.py and for the table in docs/scale-out.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

TOY = Path(__file__).resolve().parent
REPO = TOY.parent.parent
TABLES = ("toy_frames_raw", "toy_frames_clean", "toy_play_paths", "toy_games", "toy_play_scores", "toy_functions")
KEYS = {
    "toy_frames_raw": ["game_id", "play_id", "nfl_id", "frame_id", "load_rank"],
    "toy_frames_clean": ["game_id", "play_id", "nfl_id", "frame_id"],
    "toy_play_paths": ["game_id", "play_id", "nfl_id"],
    "toy_games": ["game_id"],
    "toy_play_scores": ["game_id", "play_id", "nfl_id"],
    "toy_functions": ["game_id", "play_id"],
}


def prepare_files(work: Path) -> Path:
    """The raw files the toy's models read: the CSV (committed) and a parquet copy written here."""
    import duckdb

    files = work / "files"
    files.mkdir(parents=True, exist_ok=True)
    shutil.copy(TOY / "files" / "toy_games.csv", files / "toy_games.csv")
    con = duckdb.connect()
    try:
        con.execute(f"copy (select * from read_csv('{files / 'toy_games.csv'}', header = true)) "
                    f"to '{files / 'toy_games.parquet'}' (format parquet)")
    finally:
        con.close()
    return files


def _children(pid: int) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(proc.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def _tree_rss_kb(roots: list[int]) -> int:
    total, seen, todo = 0, set(), list(roots)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        todo.extend(_children(pid))
    return total


def cluster_pids(run_dir: Path | None) -> list[int]:
    if run_dir is None or not run_dir.exists():
        return []
    return [json.loads(p.read_text())["pid"] for p in run_dir.glob("*.json")]


def run_build(engine: str, work: Path, master: str | None = None, cluster_run_dir: Path | None = None,
              timeout: float = 900) -> dict:
    """dbt build of the toy project on `engine`, in a subprocess; wall time, peak RSS, dbt's exit code."""
    work.mkdir(parents=True, exist_ok=True)
    files = prepare_files(work)
    env = dict(os.environ, NGS_TOY_FILES_DIR=str(files), NGS_REPO_ROOT=str(REPO), DO_NOT_TRACK="1",
               DBT_SEND_ANONYMOUS_USAGE_STATS="False", DBT_LOG_PATH=str(work / f"logs_{engine}"))
    dbt_args = ["build", "--project-dir", str(TOY), "--profiles-dir", str(REPO),
                "--target-path", str(work / f"target_{engine}")]
    if engine == "duckdb":
        env.update(NGS_WAREHOUSE_PATH=str(work / "toy.duckdb"), NGS_DUCKDB_TMP=str(work / "duckdb_tmp"),
                   NGS_DBT_THREADS="1")
        command = [str(Path(sys.executable).with_name("dbt")), *dbt_args, "--target", "dev"]
    else:
        env.update(NGS_SPARK_DIR=str(work / "spark"), NGS_SPARK_MASTER=master or "local[2]")
        command = [sys.executable, "-m", "ngs.cli", "spark", "dbt", "--", *dbt_args]
    peak = [0]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb([proc.pid, *cluster_pids(cluster_run_dir)]))
            done.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        output, _ = proc.communicate()
        output += f"\n(killed after {timeout:.0f} s)"
    finally:
        done.set()
        sampler.join()
    return {"engine": engine, "master": master if engine == "spark" else None, "returncode": proc.returncode,
            "wall_s": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak[0] / 1024),
            "output": output}


def read_tables(engine: str, work: Path, schema: str = "ngs") -> dict:
    """Every toy table as a pandas DataFrame sorted by its key (lists and structs as Python lists/dicts)."""
    import duckdb

    con = duckdb.connect(str(work / "toy.duckdb"), read_only=True) if engine == "duckdb" else duckdb.connect()
    try:
        out = {}
        for table in TABLES:
            if engine == "duckdb":
                source = f"main.{table}"
            else:
                folder = work / "spark" / "warehouse" / f"{schema}.db" / table
                source = f"read_parquet('{folder}/*.parquet')"
            out[table] = con.execute(f"select * from {source}").df().sort_values(KEYS[table]).reset_index(drop=True)
        return out
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["duckdb", "spark"], required=True)
    parser.add_argument("--master", default=None, help="spark: local[2] (default) or spark://host:port")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (warehouse, logs, files)")
    parser.add_argument("--cluster-run-dir", type=Path, default=None,
                        help="NGS_SPARK_RUN_DIR of a running `ngs spark up`: its processes count in peak RSS")
    args = parser.parse_args()
    result = run_build(args.engine, args.work.resolve(), args.master, args.cluster_run_dir)
    if result["returncode"] != 0:
        print(result["output"][-4000:], file=sys.stderr)
        return 1
    tables = read_tables(args.engine, args.work.resolve())
    result["rows"] = {t: len(df) for t, df in tables.items()}
    result.pop("output")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
