"""The project's own play simulator: a Big Data Bowl 2023-format release with ground truth.

`simulate_release(games, seed, out)` writes games.csv, plays.csv, players.csv, pffScoutingData.csv,
tracking_week_{w}.csv and `_truth/` (passes.csv, anomalies.csv). Same seed -> byte-identical files;
game i depends only on (seed, i), so a run of N games is a prefix of a run of N + k games.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import time
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

__all__ = ["cli_main", "simulate_release"]

MAX_GAMES = GAMES_PER_WEEK * N_WEEKS
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


def simulate_release(games: int, seed: int, out: Path | str, plays_per_game: int | None = None,
                     workers: int | None = None, anomalies: bool = True) -> dict:
    """Write a simulated release to `out`; return a summary (games, plays, rows, files, seconds)."""
    t0 = time.perf_counter()
    if not 1 <= games <= MAX_GAMES:
        raise NgsError(f"--games must be between 1 and {MAX_GAMES} (18 weeks of 16 games), got {games}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for old in list(out.glob("tracking_week_*.csv")) + [out / "_truth"]:
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    (out / "_truth").mkdir()
    league = _league(seed)
    jobs = [(seed, i, plays_per_game, anomalies) for i in range(games)]
    workers = workers or min(os.cpu_count() or 1, 4, games)
    game_rows, plays, scouting, passes, anomaly_rows = [], [], [], [], []
    handles: dict[int, object] = {}
    rows = 0
    header = ",".join(["gameId", "playId", "nflId", "frameId", "time", "jerseyNumber", "team", "playDirection",
                       "x", "y", "s", "a", "dis", "o", "dir", "event"]) + "\n"
    pool = mp.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        results = pool.imap(_one_game, jobs) if pool else map(_one_game, jobs)
        for res in results:
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
        if pool:
            pool.close()
            pool.join()
    write_rfc_csv(out / "games.csv", GAMES_COLUMNS, game_rows)
    write_rfc_csv(out / "plays.csv", PLAYS_COLUMNS, plays)
    write_rfc_csv(out / "players.csv", PLAYERS_COLUMNS, league.players.to_dict("records"))
    write_rfc_csv(out / "pffScoutingData.csv", SCOUTING_COLUMNS, scouting)
    write_plain_csv(out / "_truth" / "passes.csv", list(passes[0].keys()) if passes else ["gameId"], passes)
    write_plain_csv(out / "_truth" / "anomalies.csv", ["gameId", "playId", "nflId", "frameId", "kind", "detail"],
                    anomaly_rows)
    files = sorted(p.name for p in out.iterdir() if p.is_file())
    return {"games": games, "plays": len(plays), "pass_plays": len(passes), "rows": rows,
            "anomalies": len(anomaly_rows), "weeks": sorted(handles), "files": files,
            "seconds": round(time.perf_counter() - t0, 2), "out": str(out)}


def cli_main(args) -> int:
    s = simulate_release(args.games, args.seed, args.out, getattr(args, "plays_per_game", None))
    print(f"simulated {s['games']} games, {s['plays']} plays ({s['pass_plays']} passes), "
          f"{s['rows']:,} tracking rows, {s['anomalies']} injected anomalies in {s['seconds']} s")
    print(f"wrote {len(s['files'])} files to {s['out']}: {', '.join(s['files'])} (+ _truth/)")
    return 0
