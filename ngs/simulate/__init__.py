"""The project's own play simulator: a Big Data Bowl 2023-format release with ground truth.

`simulate_release(games, seed, out)` writes games.csv, plays.csv, players.csv, pffScoutingData.csv,
tracking_week_{w}.csv and `_truth/` (passes.csv, anomalies.csv). Same seed -> byte-identical files;
game i depends only on (seed, i), so a run of N games is a prefix of a run of N + k games.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ngs.errors import NgsError
from ngs.simulate.game import simulate_game, tracking_table
from ngs.simulate.league import GAMES_PER_WEEK, N_WEEKS, make_league
from ngs.simulate.writers import (
    GAMES_COLUMNS,
    PLAYERS_COLUMNS,
    PLAYS_COLUMNS,
    SCOUTING_COLUMNS,
    inject_anomalies,
    table_csv_bytes,
    write_plain_csv,
    write_rfc_csv,
)

__all__ = ["MARKER", "MAX_GAMES", "MAX_PLAYS_PER_GAME", "cli_main", "simulate_release"]

MAX_GAMES = GAMES_PER_WEEK * N_WEEKS
MAX_PLAYS_PER_GAME = 400  # a real game has 120-180 snaps
# Written first into every output folder: a folder holding it may be overwritten by the next run (its name
# starts with '_', so `ngs build` skips it); any other non-empty folder is refused unless force=True.
MARKER = "_ngs_simulate.json"
# Workers start from a fresh interpreter ('spawn'), never as a fork of this process: a process that has
# loaded torch or DuckDB holds threads (and their locks), and a forked copy of it can crash or hang.
START_METHOD = "spawn"
_OWNED = ("games.csv", "plays.csv", "players.csv", "pffScoutingData.csv")
_LEAGUE = {}


def _league(seed: int):
    if seed not in _LEAGUE:
        _LEAGUE[seed] = make_league(seed)
    return _LEAGUE[seed]


def _one_game(job: tuple[int, int, int | None, bool]) -> dict:
    seed, index, ppg, anomalies = job
    import numpy as np

    res = simulate_game(seed, index, _league(seed), ppg)
    track = res.pop("tracking")
    truth = []
    if anomalies:
        track, truth = inject_anomalies(track, np.random.default_rng([seed, index, 2]), res["game"]["gameId"])
    res["rows"] = len(track["playId"])
    res["csv"] = table_csv_bytes(tracking_table(track), header=False)
    res["anomalies"] = truth
    return res


def _games(jobs: list[tuple], workers: int, job_fn: Callable[[tuple], dict] = _one_game) -> Iterator[dict]:
    """Each job's game (``job_fn(job)``), in job order. With several workers, at most 2 per worker are in
    flight (memory stays bounded on a season); a worker that dies (a signal, the OOM killer) is an NgsError,
    never a hang. Spawned workers re-import the main module: a script that calls `simulate_release` with
    several workers needs the usual ``if __name__ == "__main__":`` guard."""
    if workers <= 1:
        yield from map(job_fn, jobs)
        return
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(START_METHOD))
    try:
        todo = iter(jobs)
        pending = deque((job, pool.submit(job_fn, job)) for job in itertools.islice(todo, 2 * workers))
        while pending:
            job, fut = pending.popleft()
            try:
                res = fut.result()
            except BrokenProcessPool:
                raise NgsError(
                    f"a simulator worker process died unexpectedly (killed by a signal such as a segmentation "
                    f"fault, or by the out-of-memory killer) while game {job[1] + 1} of {len(jobs)} was being "
                    "simulated; the partial output was removed. Run it again (a run is deterministic per seed)."
                ) from None
            nxt = next(todo, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(job_fn, nxt)))
            yield res
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _prepare_out(out: Path, force: bool) -> None:
    """`out` is new, empty, or an earlier simulator output (its marker file): anything else holds somebody's
    data and is refused unless `force`. The simulator's own files from an earlier run are removed."""
    if out.exists() and not out.is_dir():
        raise NgsError(f"--out {out}: is a file, not a folder")
    if out.is_dir() and not (out / MARKER).exists() and not force:
        foreign = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        if foreign:
            shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
            raise NgsError(
                f"--out {out}: the folder already holds files the simulator did not write ({shown}); "
                "choose a new or empty folder, or pass --force to overwrite files of the simulator's names "
                "(games.csv, plays.csv, players.csv, pffScoutingData.csv, tracking_week_*.csv, _truth/)"
            )
    out.mkdir(parents=True, exist_ok=True)
    _remove_outputs(out)
    (out / MARKER).write_text(json.dumps({"written_by": "ngs simulate", "complete": False}) + "\n")


def _remove_outputs(out: Path) -> None:
    for old in [*out.glob("tracking_week_*.csv"), *(out / n for n in _OWNED), out / "_truth"]:
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()


def simulate_release(games: int, seed: int, out: Path | str, plays_per_game: int | None = None,
                     workers: int | None = None, anomalies: bool = True, force: bool = False) -> dict:
    """Write a simulated release to `out`; return a summary (games, plays, rows, files, seconds).

    `out` must be new, empty or an earlier simulator output (`MARKER`), unless `force`.
    """
    t0 = time.perf_counter()
    if not 1 <= games <= MAX_GAMES:
        raise NgsError(f"--games must be between 1 and {MAX_GAMES} (18 weeks of 16 games), got {games}")
    if plays_per_game is not None and not 1 <= plays_per_game <= MAX_PLAYS_PER_GAME:
        raise NgsError(f"--plays-per-game must be between 1 and {MAX_PLAYS_PER_GAME}, got {plays_per_game}")
    if seed < 0:
        raise NgsError(f"--seed must be a whole number >= 0, got {seed}")
    out = Path(out)
    try:
        _prepare_out(out, force)
    except OSError as exc:
        raise NgsError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None
    jobs = [(seed, i, plays_per_game, anomalies) for i in range(games)]
    workers = workers or min(os.cpu_count() or 1, 4, games)
    game_rows, plays, scouting, passes, anomaly_rows = [], [], [], [], []
    handles: dict[int, object] = {}
    rows = 0
    header = ",".join(["gameId", "playId", "nflId", "frameId", "time", "jerseyNumber", "team", "playDirection",
                       "x", "y", "s", "a", "dis", "o", "dir", "event"]) + "\n"
    try:
        try:
            for res in _games(jobs, workers):
                g = res["game"]
                game_rows.append(g)
                plays += res["plays"]
                scouting += res["scouting"]
                passes += res["passes"]
                anomaly_rows += res["anomalies"]
                rows += res["rows"]
                w = g["week"]
                if w not in handles:
                    handles[w] = open(out / f"tracking_week_{w}.csv", "wb")  # noqa: SIM115
                    handles[w].write(header.encode())
                handles[w].write(res["csv"])
        finally:
            for fh in handles.values():
                fh.close()
        league = _league(seed)
        (out / "_truth").mkdir()
        write_rfc_csv(out / "games.csv", GAMES_COLUMNS, game_rows)
        write_rfc_csv(out / "plays.csv", PLAYS_COLUMNS, plays)
        write_rfc_csv(out / "players.csv", PLAYERS_COLUMNS, league.players.to_dict("records"))
        write_rfc_csv(out / "pffScoutingData.csv", SCOUTING_COLUMNS, scouting)
        write_plain_csv(out / "_truth" / "passes.csv", list(passes[0].keys()) if passes else ["gameId"], passes)
        write_plain_csv(out / "_truth" / "anomalies.csv",
                        ["gameId", "playId", "nflId", "frameId", "kind", "detail"], anomaly_rows)
    except BaseException as exc:
        _remove_outputs(out)  # never leave a half-written release that looks complete
        if isinstance(exc, OSError):  # a full disk, a folder made read-only meanwhile
            raise NgsError(f"--out {out}: writing failed ({exc.strerror or exc}); the partial output was "
                           "removed") from None
        raise
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != MARKER)
    summary = {"games": games, "plays": len(plays), "pass_plays": len(passes), "rows": rows,
               "anomalies": len(anomaly_rows), "weeks": sorted(handles), "files": files,
               "seconds": round(time.perf_counter() - t0, 2), "out": str(out)}
    (out / MARKER).write_text(json.dumps({"written_by": "ngs simulate", "complete": True, "seed": seed,
                                          "games": games, "plays_per_game": plays_per_game,
                                          "anomalies": anomalies}) + "\n")
    return summary


def cli_main(args) -> int:
    s = simulate_release(args.games, args.seed, args.out, getattr(args, "plays_per_game", None),
                         force=getattr(args, "force", False))
    print(f"simulated {s['games']} games, {s['plays']} plays ({s['pass_plays']} passes), "
          f"{s['rows']:,} tracking rows, {s['anomalies']} injected anomalies in {s['seconds']} s")
    print(f"wrote {len(s['files'])} files to {s['out']}: {', '.join(s['files'])} (+ _truth/)")
    return 0
