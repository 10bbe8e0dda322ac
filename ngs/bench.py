"""`ngs bench`: time the whole warehouse build on a simulated season slice, against a pandas pipeline.

    ngs bench --games 10 --json

1. Simulates G games (seed 7) into `bench/data/g<G>-s<seed>/` (git-ignored), or reuses that release
   when it is already complete (a `_bench.json` marker written after the simulator finished).
2. Makes sure every model domain has a stored artefact (`artifacts/<domain>/LATEST`); if one is
   missing it trains once on a 2-game release, outside the timed part, and says so (`trained_first`).
3. Runs `ngs build --no-train` (dbt `--exclude tag:train`, scoring with the stored artefacts) in a child
   process into `bench/wh/g<G>.duckdb`, sampling the resident memory of the whole process tree (the
   build, dbt and DuckDB) from /proc every 0.1 s. Per-model times come from dbt's run_results.json and
   are grouped into stages by folder and tag (see `stage_of`).
4. Runs `ngs.bench_pandas` (the same cleaning and pass features in plain pandas) on the same files in
   another child process, measured the same way, and prints the ratio.
5. With `--incremental`, also measures `ngs build --append` of one more week onto the G-game warehouse
   (the next week's games are simulated into `bench/data/g<G>-s<seed>-next/`).

Timings on a shared machine are noisy: compare figures from the same run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ngs.artifacts import artifacts_root
from ngs.paths import REPO_ROOT

BENCH_DIR = Path(os.environ.get("NGS_BENCH_DIR", REPO_ROOT / "bench"))
SEED = 7
# folders of the foundation build (models/staging, models/intermediate/<these>, models/marts/core)
CLEAN_MODELS = {"fct_tracking", "fct_tracking_quarantine"}
FOUNDATION_INTERMEDIATE = {"tracking", "quality", "plays"}


def release(games: int, seed: int = SEED) -> Path:
    """A simulated release of `games` games (reused when already written with the same key)."""
    from ngs.simulate import simulate_release

    out = BENCH_DIR / "data" / f"g{games}-s{seed}"
    marker = out / "_bench.json"
    if not marker.exists():
        summary = simulate_release(games, seed, out)
        marker.write_text(json.dumps(summary))
    return out


def next_games(first: int, count: int, seed: int = SEED) -> Path:
    """The games first .. first+count-1 of the same simulated league, as an append batch: new file names
    (`*_next.csv`), so they can be loaded onto a warehouse holding games 0 .. first-1."""
    from ngs.simulate import MAX_GAMES, _one_game
    from ngs.simulate.writers import (
        GAMES_COLUMNS,
        PLAYS_COLUMNS,
        SCOUTING_COLUMNS,
        TRACKING_COLUMNS,
        write_rfc_csv,
    )

    count = min(count, MAX_GAMES - first)
    out = BENCH_DIR / "data" / f"next{first}-n{count}-s{seed}"
    marker = out / "_bench.json"
    if marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    games, plays, scouting, handles = [], [], [], {}
    try:
        for i in range(first, first + count):
            res = _one_game((seed, i, None, True))
            g = res["game"]
            games.append(g)
            plays += res["plays"]
            scouting += res["scouting"]
            if g["week"] not in handles:
                handles[g["week"]] = open(out / f"tracking_week_{g['week']}_next.csv", "wb")  # noqa: SIM115
                handles[g["week"]].write((",".join(TRACKING_COLUMNS) + "\n").encode())
            handles[g["week"]].write(res["csv"])
    finally:
        for fh in handles.values():
            fh.close()
    write_rfc_csv(out / "games_next.csv", GAMES_COLUMNS, games)
    write_rfc_csv(out / "plays_next.csv", PLAYS_COLUMNS, plays)
    write_rfc_csv(out / "pffScoutingData_next.csv", SCOUTING_COLUMNS, scouting)
    marker.write_text(json.dumps({"first": first, "games": count, "weeks": sorted(handles)}))
    return out


def _tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and all its descendants, in KiB (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                parts = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(parts[1]), int(parts[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = pages * (os.sysconf("SC_PAGE_SIZE") // 1024)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd`, sampling the process tree's resident memory; returns wall seconds, peak RSS and stdout."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{out[-4000:]}")
    return {"seconds": wall, "peak_rss_mb": peak[0] / 1024, "stdout": out}


def stage_of(node: dict) -> str:
    """Stage of one dbt node, by folder and tag: clean, features, scoring, marts or tests."""
    if node["resource_type"] in ("test", "unit_test"):
        return "tests"
    if node["resource_type"] == "seed":
        return "clean"
    path = Path(node.get("original_file_path", ""))
    parts = path.parts
    if "python" in node.get("tags", []) or parts[:1] == ("python_models",):
        return "scoring"
    if parts[:2] == ("models", "staging"):
        return "clean"
    if parts[:2] == ("models", "intermediate"):
        return "clean" if parts[2] in FOUNDATION_INTERMEDIATE else "features"
    if node.get("name") in CLEAN_MODELS:
        return "clean"
    if parts[:3] == ("models", "marts", "core"):
        return "marts"
    return "features" if node.get("name", "").startswith(("fct_", "int_")) else "marts"


def dbt_timings(target: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(stage -> summed seconds, model -> seconds) from run_results.json and manifest.json."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    nodes = json.loads((target / "manifest.json").read_text())
    nodes = {**nodes["nodes"], **nodes.get("unit_tests", {})}
    stages: dict[str, float] = {}
    models: dict[str, float] = {}
    for r in results:
        node = nodes.get(r["unique_id"], {"resource_type": r["unique_id"].split(".")[0]})
        st = stage_of(node)
        stages[st] = stages.get(st, 0.0) + r["execution_time"]
        if node["resource_type"] == "model":
            models[node["name"]] = r["execution_time"]
    return stages, models


def ensure_artifacts(env: dict[str, str]) -> list[str]:
    """Train once on a small release when a model domain has no stored artefact; returns what was trained."""
    domains = sorted(p.name for p in (REPO_ROOT / "python_models").iterdir()
                     if p.is_dir() and any(p.glob("*training*.py")))
    missing = [d for d in domains if not (artifacts_root() / d / "LATEST").exists()]
    if missing:
        data = release(2)
        wh = BENCH_DIR / "wh" / "train.duckdb"
        run_measured([sys.executable, "-m", "ngs.cli", "build", "--data", str(data), "--warehouse", str(wh)], env)
    return missing


def _build_cmd(data: list[Path], warehouse: Path, append: bool = False, exclude: str | None = None,
               select: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "ngs.bench", "--warehouse", str(warehouse)]
    for d in data:
        cmd += ["--data", str(d)]
    return (cmd + (["--append"] if append else []) + (["--exclude", exclude] if exclude else [])
            + (["--select", select] if select else []))


def _child_build(argv: list[str]) -> int:
    """The timed child: `ngs.build.build(..., train=False)`, its stage seconds printed as `BENCH {json}`."""
    import argparse

    from ngs.build import build

    p = argparse.ArgumentParser()
    p.add_argument("--warehouse", type=Path, required=True)
    p.add_argument("--data", type=Path, action="append", required=True)
    p.add_argument("--append", action="store_true")
    p.add_argument("--exclude", default=None)
    p.add_argument("--select", default=None)
    a = p.parse_args(argv)
    r = build(a.data, a.warehouse, train=False, append=a.append, quiet=True, select=a.select,
              exclude=a.exclude.split() if a.exclude else None)
    print("BENCH " + json.dumps(r.seconds))
    return 0


def bench(games: int, seed: int = SEED, pandas: bool = True, incremental: bool = False,
          exclude: str | None = None, select: str | None = None) -> dict:
    """Build G simulated games (and the pandas pipeline on the same files); the figures as a dict.
    `exclude`/`select` are extra dbt selectors for the timed build (reported in the result)."""
    data = release(games, seed)
    target = BENCH_DIR / f"target_g{games}"
    env = dict(os.environ, NGS_DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(BENCH_DIR / "logs"),
               DO_NOT_TRACK="1")
    env.setdefault("NGS_DUCKDB_TMP", str(BENCH_DIR / "wh" / ".duckdb_tmp"))
    trained = ensure_artifacts(env)
    warehouse = BENCH_DIR / "wh" / f"g{games}.duckdb"
    warehouse.unlink(missing_ok=True)
    built = run_measured(_build_cmd([data], warehouse, exclude=exclude, select=select), env)
    seconds = json.loads(built["stdout"].strip().splitlines()[-1].split("BENCH ", 1)[1]) \
        if "BENCH " in built["stdout"] else {}
    stages, models = dbt_timings(target)
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("select sum(raw_rows) from marts.rpt_row_accounting").fetchone()[0]
    clean_rows = con.execute("select count(*) from marts.fct_tracking").fetchone()[0]
    balanced = con.execute("select bool_and(is_balanced) from marts.rpt_row_accounting").fetchone()[0]
    con.close()
    result: dict = {
        "games": games,
        "seed": seed,
        "rows": int(rows),
        "clean_rows": int(clean_rows),
        "balanced": bool(balanced),
        "build_s": round(built["seconds"], 2),
        "peak_rss_mb": round(built["peak_rss_mb"], 1),
        "rows_per_s": round(rows / built["seconds"]),
        "stages": {"ingest": round(seconds.get("ingest", 0.0), 2),
                   **{k: round(v, 2) for k, v in sorted(stages.items())},
                   "dbt_overhead": round(max(seconds.get("dbt_build", 0.0) - _dbt_span(target), 0.0), 2)},
        "slowest_models": {k: round(v, 2) for k, v in sorted(models.items(), key=lambda kv: -kv[1])[:8]},
        "trained_first": trained,
        "excluded": exclude,
        "selected": select,
        "dbt_threads": int(os.environ.get("NGS_DBT_THREADS", "2")),
        "duckdb_memory_limit": os.environ.get("NGS_DUCKDB_MEMORY", "profiles.yml default"),
    }
    if pandas:
        out = BENCH_DIR / f"pandas_out_g{games}"
        pd_run = run_measured([sys.executable, "-m", "ngs.bench_pandas", str(data), "--out", str(out)], env)
        summary = json.loads(pd_run["stdout"].strip().splitlines()[-1])
        result.update(
            pandas_s=round(pd_run["seconds"], 2),
            pandas_peak_rss_mb=round(pd_run["peak_rss_mb"], 1),
            pandas_rows_per_s=round(summary["rows"] / pd_run["seconds"]),
            pandas_stages=summary["stages"],
            pandas_clean_rows=summary["clean_rows"],
            speedup_vs_pandas=round(pd_run["seconds"] / built["seconds"], 2),
        )
    if incremental:
        result.update(measure_append(games, seed, warehouse, env, exclude, select))
    return result


def _dbt_span(target: Path) -> float:
    """Seconds from the first dbt node's start to the last one's end (the rest of dbt's time is start-up)."""
    from datetime import datetime

    stamps = []
    for r in json.loads((target / "run_results.json").read_text())["results"]:
        for t in r.get("timing", []):
            if t.get("started_at") and t.get("completed_at"):
                stamps += [datetime.fromisoformat(t["started_at"].rstrip("Z")),
                           datetime.fromisoformat(t["completed_at"].rstrip("Z"))]
    return (max(stamps) - min(stamps)).total_seconds() if stamps else 0.0


def measure_append(games: int, seed: int, warehouse: Path, env: dict[str, str], exclude: str | None = None,
                   select: str | None = None) -> dict:
    """Append the next week (16 games) to a copy of the G-game warehouse; time it and check the accounting."""
    from ngs.simulate.league import GAMES_PER_WEEK

    batch = next_games(games, GAMES_PER_WEEK, seed)
    target = BENCH_DIR / f"target_g{games}_append"
    env = dict(env, NGS_DBT_TARGET_PATH=str(target))
    copy = warehouse.with_name(warehouse.stem + "_append.duckdb")
    import shutil

    shutil.copyfile(warehouse, copy)
    appended = run_measured(_build_cmd([batch], copy, append=True, exclude=exclude, select=select), env)
    stages, models = dbt_timings(target)
    import duckdb

    con = duckdb.connect(str(copy), read_only=True)
    rows = con.execute("select sum(raw_rows) from marts.rpt_row_accounting").fetchone()[0]
    balanced = con.execute("select bool_and(is_balanced) from marts.rpt_row_accounting").fetchone()[0]
    con.close()
    return {
        "incremental_week_s": round(appended["seconds"], 2),
        "incremental_week_peak_rss_mb": round(appended["peak_rss_mb"], 1),
        "incremental_rows_after": int(rows),
        "incremental_balanced": bool(balanced),
        "incremental_stages": {k: round(v, 2) for k, v in sorted(stages.items())},
    }


def cli_main(args) -> int:
    result = bench(args.games, getattr(args, "seed", SEED), pandas=not getattr(args, "no_pandas", False),
                   incremental=getattr(args, "incremental", False), exclude=getattr(args, "exclude", None),
                   select=getattr(args, "select", None))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['games']} games, {result['rows']:,} rows: build {result['build_s']} s "
              f"({result['rows_per_s']:,} rows/s, peak {result['peak_rss_mb']:.0f} MB)")
        for k, v in result["stages"].items():
            print(f"  {k:<13} {v:8.2f} s")
        if "pandas_s" in result:
            print(f"pandas {result['pandas_s']} s (peak {result['pandas_peak_rss_mb']:.0f} MB): "
                  f"{result['speedup_vs_pandas']}x")
        if "incremental_week_s" in result:
            print(f"append one week: {result['incremental_week_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(_child_build(sys.argv[1:]))
