"""`ngs bench`: time the whole warehouse build on a simulated season slice, against a pandas pipeline.

    ngs bench --games 10 --json

1. Simulates G games (seed 7) into `bench/data/g<G>-s<seed>/` (git-ignored), or reuses that release
   when it is already complete (a `_bench.json` marker written after the simulator finished).
2. Makes sure every model family (completion, ghosting) has a usable stored artefact (its store's LATEST); if one is
   missing it trains once on a 2-game release, outside the timed part, and says so (`trained_first`).
3. Runs `dbt parse` untimed with the build's profile and target folder (`dbt_parse_cold_s`: a first build
   parses the whole project; every later build of the same warehouse parses only what changed), then
   `ngs build --no-train` (dbt `--exclude tag:train`, scoring with the stored artefacts) in a child
   process into `bench/wh/g<G>.duckdb`, sampling the resident memory of the whole process tree (the
   build, dbt and DuckDB) from /proc every 0.1 s. Per-model times come from dbt's run_results.json and
   are grouped into stages by folder and tag (see `stage_of`).
4. Runs `ngs.bench_pandas` (the same cleaning and pass features in plain pandas) on the same files in
   another child process, measured the same way, and prints the ratio.
5. The same work as the pandas pipeline (`same_work_s`): a second timed build into
   `bench/wh/g<G>_same_work.duckdb` selecting only the models that do it (`SAME_WORK_SELECT`: ingest,
   staging, the tracking and quality models, fct_tracking / fct_tracking_quarantine and the pass features,
   with their tests), against `pandas_s` (`same_work_speedup_vs_pandas`).
6. The floor (`floor_s`): one DuckDB statement (`floor_sql`) that reads the same tracking CSVs with
   explicit types, flags duplicates / off-field / implied and reported speed with lag windows per track,
   standardises direction and writes the table, in a child process into a fresh file. `vs_floor` is the
   build's ingest + clean seconds over `floor_s`; `same_work_vs_floor` is `same_work_s` over it.
7. With `--incremental`, also measures `ngs build --append` of one more week onto the G-game warehouse
   (the next week's games are simulated into `bench/data/g<G>-s<seed>-next/`).

Timings on a shared machine are noisy: compare figures from the same run. Each timed child also reports its
CPU seconds (`*_cpu_s`: user + system time of its whole process tree), which other work on the machine
inflates far less than wall time; `same_work_cpu_speedup_vs_pandas` and `same_work_cpu_vs_floor` are
the ratios on them.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from ngs.paths import REPO_ROOT

BENCH_DIR = Path(os.environ.get("NGS_BENCH_DIR", REPO_ROOT / "bench"))
SEED = 7
# folders of the foundation build (models/staging, models/intermediate/<these>, models/marts/core)
CLEAN_MODELS = {"fct_tracking", "fct_tracking_quarantine"}
FOUNDATION_INTERMEDIATE = {"tracking", "quality", "plays"}
# the pandas pipeline's work (ngs/bench_pandas.py: cleaning, then pass features) done by the warehouse
SAME_WORK_SELECT = "+fct_tracking_quarantine +fct_pass_features"


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


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd`, sampling the process tree's resident memory (ngs.measure); returns wall seconds, CPU
    seconds (user + system of the whole process tree, from the kernel: less sensitive than wall time to
    other work on the machine), peak RSS and stdout."""
    from ngs.measure import sampling

    usage0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with sampling({proc.pid}, interval=0.1) as sampler:
        out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child and every descendant it waited for
    cpu = usage.ru_utime - usage0.ru_utime + usage.ru_stime - usage0.ru_stime
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({proc.returncode}):\n{out[-4000:]}")
    return {"seconds": wall, "cpu_s": cpu, "peak_rss_mb": sampler.peak_kb / 1024, "stdout": out}


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
    from ngs.completion.artifacts import store as completion_store
    from ngs.errors import ArtifactMissingError
    from ngs.ghosting.model import store as ghosting_store

    missing = []
    for store in (completion_store(), ghosting_store()):
        try:
            store.latest()  # the store's own rule: LATEST present and naming a complete version
        except ArtifactMissingError:
            missing.append(store.kind)
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


def floor_sql(data: Path, table: str = "tracking_floor") -> str:
    """The floor: one statement reading the release's tracking CSVs with explicit types, flagging duplicate
    keys, off-field positions, implied and reported speed with lag windows per track, standardising the
    direction, and writing the table (every row, flags as columns)."""
    from ngs import constants
    from ngs.ingest.formats import spec_for
    from ngs.ingest.load import NULL_STRINGS

    files = sorted(data.glob("tracking_week_*.csv"))
    if not files:
        raise RuntimeError(f"{data}: no tracking_week_*.csv files")
    with open(files[0]) as fh:
        header = fh.readline().strip().split(",")
    spec = spec_for("bdb_weekly", "tracking").columns
    columns = ", ".join(f"'{c}': '{spec.get(c, 'VARCHAR')}'" for c in header)
    paths = ", ".join(f"'{f}'" for f in files)
    nulls = ", ".join(f"'{n}'" for n in NULL_STRINGS)
    team = "club" if "club" in header else "team"
    rule = constants.quality_rules()
    fps, length, width = constants.frame_rate_hz(), constants.field_length_yd(), constants.field_width_yd()
    return f"""
    create table {table} as
    with tracking as (
        select
            *,
            lower("playDirection") = 'left' as is_left,
            case when is_left then {length} - x else x end as x_std,
            case when is_left then {width} - y else y end as y_std,
            case when is_left then (dir + 180) % 360 else dir end as dir_std,
            coalesce({team}, '') = 'football' or "nflId" is null as is_ball
        from read_csv([{paths}], header = true, delim = ',', quote = '"', escape = '"', columns = {{{columns}}},
                      nullstr = [{nulls}], auto_detect = false)
    ),
    lagged as (
        select
            *,
            lag("frameId") over track as prev_frame_id,
            lag(x_std) over track as prev_x_std,
            lag(y_std) over track as prev_y_std
        from tracking
        window track as (partition by "gameId", "playId", coalesce("nflId", -1) order by "frameId")
    )
    select
        * exclude (prev_frame_id, prev_x_std, prev_y_std),
        "frameId" = prev_frame_id as is_duplicate_key,
        greatest(-x, x - {length}, -y, y - {width}) > {rule["off_field"].threshold} as is_off_field,
        not is_ball and sqrt((x_std - prev_x_std) ^ 2 + (y_std - prev_y_std) ^ 2)
            / (nullif("frameId" - prev_frame_id, 0) / {fps}) > {rule["implied_speed"].threshold}
            as is_implied_speed,
        not is_ball and s > {rule["reported_speed"].threshold} as is_reported_speed
    from lagged
    """


def _child_floor(argv: list[str]) -> int:
    """The timed child of the floor: run `floor_sql` into a fresh DuckDB file (same memory limit as the
    build); prints `FLOOR {"rows": N}`."""
    import argparse

    import duckdb

    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--warehouse", type=Path, required=True)
    a = p.parse_args(argv)
    a.warehouse.unlink(missing_ok=True)
    con = duckdb.connect(str(a.warehouse), config={
        "memory_limit": os.environ.get("NGS_DUCKDB_MEMORY", "4GB"), "preserve_insertion_order": False,
        "temp_directory": f"{a.warehouse}.spill"})
    con.execute(floor_sql(a.data))
    con.execute("checkpoint")
    rows = con.execute("select count(*) from tracking_floor").fetchone()[0]
    con.close()
    print("FLOOR " + json.dumps({"rows": rows}))
    return 0


def measure_floor(data: Path, env: dict[str, str]) -> dict:
    """Run the floor query in a child process; its wall seconds (start-up included) and rows."""
    warehouse = BENCH_DIR / "wh" / "floor.duckdb"
    run = run_measured([sys.executable, "-m", "ngs.bench", "floor", "--data", str(data), "--warehouse",
                        str(warehouse)], env)
    rows = json.loads(run["stdout"].split("FLOOR ", 1)[1].splitlines()[0])["rows"]
    warehouse.unlink(missing_ok=True)
    return {"floor_s": round(run["seconds"], 2), "floor_cpu_s": round(run["cpu_s"], 2), "floor_rows": int(rows),
            "floor_peak_rss_mb": round(run["peak_rss_mb"], 1)}


def warm_parse(warehouse: Path, target: Path, env: dict[str, str]) -> float:
    """`dbt parse` with the profile and target folder the timed build of `warehouse` will use (untimed): the
    build then parses partially, as every rebuild of a warehouse does after its first (ngs.build keeps
    partial parsing valid between builds). Returns its seconds (reported as `dbt_parse_cold_s`)."""
    from ngs.build import dbt_executable, dbt_link

    env = dict(env, NGS_WAREHOUSE_PATH=str(dbt_link(warehouse.resolve())), NGS_REPO_ROOT=str(REPO_ROOT),
               DBT_TARGET_PATH=str(target))
    t0 = time.perf_counter()
    subprocess.run([dbt_executable(), "parse", "--project-dir", str(REPO_ROOT), "--profiles-dir", str(REPO_ROOT)],
                   cwd=REPO_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


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
          exclude: str | None = None, select: str | None = None, same_work: bool = True,
          floor: bool = True) -> dict:
    """Build G simulated games (and the pandas pipeline, the same-work build and the floor query on the same
    files); the figures as a dict. `exclude`/`select` are extra dbt selectors for the timed build (reported
    in the result)."""
    data = release(games, seed)
    target = BENCH_DIR / f"target_g{games}"
    env = dict(os.environ, NGS_DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(BENCH_DIR / "logs"),
               DO_NOT_TRACK="1")
    env.setdefault("NGS_DUCKDB_TMP", str(BENCH_DIR / "wh" / ".duckdb_tmp"))
    trained = ensure_artifacts(env)
    warehouse = BENCH_DIR / "wh" / f"g{games}.duckdb"
    warehouse.unlink(missing_ok=True)
    parse_s = warm_parse(warehouse, target, env)
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
        "build_cpu_s": round(built["cpu_s"], 2),
        "peak_rss_mb": round(built["peak_rss_mb"], 1),
        "rows_per_s": round(rows / built["seconds"]),
        "stages": {"ingest": round(seconds.get("ingest", 0.0), 2),
                   **{k: round(v, 2) for k, v in sorted(stages.items())},
                   "dbt_overhead": round(max(seconds.get("dbt_build", 0.0) - _dbt_span(target), 0.0), 2)},
        "slowest_models": {k: round(v, 2) for k, v in sorted(models.items(), key=lambda kv: -kv[1])[:8]},
        "dbt_parse_cold_s": round(parse_s, 2),
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
            pandas_cpu_s=round(pd_run["cpu_s"], 2),
            pandas_peak_rss_mb=round(pd_run["peak_rss_mb"], 1),
            pandas_rows_per_s=round(summary["rows"] / pd_run["seconds"]),
            pandas_stages=summary["stages"],
            pandas_clean_rows=summary["clean_rows"],
            speedup_vs_pandas=round(pd_run["seconds"] / built["seconds"], 2),
        )
    if same_work:
        result.update(measure_same_work(games, data, env))
    if floor:
        result.update(measure_floor(data, env))
        result["vs_floor"] = round((result["stages"]["ingest"] + result["stages"].get("clean", 0.0))
                                   / result["floor_s"], 2)
        if "same_work_s" in result:
            result["same_work_vs_floor"] = round(result["same_work_s"] / result["floor_s"], 2)
            result["same_work_cpu_vs_floor"] = round(result["same_work_cpu_s"] / result["floor_cpu_s"], 2)
    if "pandas_s" in result and "same_work_s" in result:
        result["same_work_speedup_vs_pandas"] = round(result["pandas_s"] / result["same_work_s"], 2)
        result["same_work_cpu_speedup_vs_pandas"] = round(result["pandas_cpu_s"] / result["same_work_cpu_s"], 2)
    if incremental:
        result.update(measure_append(games, seed, warehouse, env, exclude, select))
    return result


def measure_same_work(games: int, data: Path, env: dict[str, str]) -> dict:
    """A second timed build doing exactly the pandas pipeline's work (SAME_WORK_SELECT), into its own file."""
    target = BENCH_DIR / f"target_g{games}_same_work"
    # tests run when all the models they read were selected (a relationship to dim_players is not this work)
    env = dict(env, NGS_DBT_TARGET_PATH=str(target), DBT_INDIRECT_SELECTION="cautious")
    warehouse = BENCH_DIR / "wh" / f"g{games}_same_work.duckdb"
    warehouse.unlink(missing_ok=True)
    warm_parse(warehouse, target, env)
    built = run_measured(_build_cmd([data], warehouse, select=SAME_WORK_SELECT), env)
    seconds = json.loads(built["stdout"].strip().splitlines()[-1].split("BENCH ", 1)[1])
    stages, _ = dbt_timings(target)
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    clean, quarantined = con.execute("select (select count(*) from marts.fct_tracking), "
                                     "(select count(*) from marts.fct_tracking_quarantine)").fetchone()
    passes = con.execute("select count(*) from marts.fct_pass_features").fetchone()[0]
    con.close()
    return {
        "same_work_s": round(built["seconds"], 2),
        "same_work_cpu_s": round(built["cpu_s"], 2),
        "same_work_select": SAME_WORK_SELECT,
        "same_work_peak_rss_mb": round(built["peak_rss_mb"], 1),
        "same_work_rows": int(clean + quarantined),
        "same_work_pass_features": int(passes),
        "same_work_stages": {"ingest": round(seconds.get("ingest", 0.0), 2),
                             **{k: round(v, 2) for k, v in sorted(stages.items())},
                             "dbt_overhead": round(max(seconds.get("dbt_build", 0.0) - _dbt_span(target), 0.0), 2),
                             "verify_swap": round(seconds.get("verify_swap", 0.0), 2)},
    }


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
        "incremental_week_cpu_s": round(appended["cpu_s"], 2),
        "incremental_week_peak_rss_mb": round(appended["peak_rss_mb"], 1),
        "incremental_rows_after": int(rows),
        "incremental_balanced": bool(balanced),
        "incremental_stages": {k: round(v, 2) for k, v in sorted(stages.items())},
    }


def cli_main(args) -> int:
    result = bench(args.games, getattr(args, "seed", SEED), pandas=not getattr(args, "no_pandas", False),
                   incremental=getattr(args, "incremental", False), exclude=getattr(args, "exclude", None),
                   select=getattr(args, "select", None), same_work=not getattr(args, "no_same_work", False),
                   floor=not getattr(args, "no_floor", False))
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
        if "same_work_s" in result:
            ratio = f", {result['same_work_speedup_vs_pandas']}x pandas" if "same_work_speedup_vs_pandas" in result else ""
            print(f"same work as pandas ({SAME_WORK_SELECT}): {result['same_work_s']} s{ratio}")
        if "floor_s" in result:
            print(f"floor query: {result['floor_s']} s ({result['floor_rows']:,} rows); "
                  f"ingest + clean = {result['vs_floor']}x the floor")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["floor"]:
        sys.exit(_child_floor(sys.argv[2:]))
    sys.exit(_child_build(sys.argv[1:]))
