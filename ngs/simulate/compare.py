"""Simulated vs real tracking: the distributions a completion or trajectory model would learn from.

    python -m ngs.simulate.compare --sim DIR --real DIR [--json]

For every source (the simulation and each real release found under the real-data folder) it
computes, with the same SQL: player speed by position group after the snap (p50/p90/p99/max),
acceleration (where the release reports it), separation of the targeted receiver (the offensive
player nearest the ball at pass_arrived) from the nearest defender, air distance (ball at
pass_forward to ball at pass_arrived), throw time after the snap, and the completion rate.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from ngs.paths import SEEDS_DIR

GROUPS = ["QB", "RB", "WR", "TE", "OL", "DL", "LB", "DB"]


def _q(p: Path | str) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def _load_sources(con: duckdb.DuckDBPyConnection, sim: Path | None, real: Path | None) -> list[str]:
    """Create one view per source: game_id, play_id, nfl_id, frame, grp, is_off, is_ball, x, y, s, a, event."""
    con.execute("create or replace macro hypot(a, b) as sqrt(a * a + b * b)")
    con.execute(f"create or replace view pos_groups as select * from read_csv({_q(SEEDS_DIR / 'position_groups.csv')})")
    names = []
    if sim is not None:
        con.execute(f"""
            create or replace view t_sim as
            with trk as (select * from read_csv({_q(sim / 'tracking_week_*.csv')}, union_by_name = true,
                                                 types = {{'nflId': 'double', 'event': 'varchar'}})),
                 pl as (select * from read_csv({_q(sim / 'plays.csv')}, nullstr = 'NA')),
                 pp as (select * from read_csv({_q(sim / 'players.csv')}))
            select trk.gameId as game_id, trk.playId as play_id, trk.nflId as nfl_id, trk.frameId as frame,
                   g.position_group as grp, trk.team = pl.possessionTeam as is_off, trk.team = 'football' as is_ball,
                   trk.x, trk.y, trk.s, trk.a, trk.event
            from trk
            join pl on pl.gameId = trk.gameId and pl.playId = trk.playId
            left join pp on pp.nflId = trk.nflId
            left join pos_groups g on g.position = pp.officialPosition""")
        con.execute(f"""create or replace view r_sim as
            select passResult as result from read_csv({_q(sim / 'plays.csv')}, nullstr = 'NA')""")
        names.append("sim")
    if real is not None:
        b19 = real / "bdb2019"
        if (b19 / "players.csv").exists() and list(b19.glob("tracking_gameId_*.csv")):
            con.execute(f"""
                create or replace view t_bdb2019 as
                with trk as (select * from read_csv({_q(b19 / 'tracking_gameId_*.csv')}, nullstr = 'NA',
                                                     types = {{'nflId': 'double', 'event': 'varchar'}})),
                     pl as (select * from read_csv({_q(b19 / 'plays.csv')}, nullstr = 'NA')),
                     gm as (select * from read_csv({_q(b19 / 'games.csv')}, nullstr = 'NA')),
                     pp as (select * from read_csv({_q(b19 / 'players.csv')}, nullstr = 'NA'))
                select trk.gameId as game_id, trk.playId as play_id, trk.nflId as nfl_id, trk."frame.id" as frame,
                       g.position_group as grp,
                       case when trk.team = 'ball' then null
                            else (trk.team = 'home') = (pl.possessionTeam = gm.homeTeamAbbr) end as is_off,
                       trk.team = 'ball' as is_ball, trk.x, trk.y, trk.s, null::double as a, trk.event
                from trk
                join pl on pl.gameId = trk.gameId and pl.playId = trk.playId
                join gm on gm.gameId = trk.gameId
                left join pp on pp.nflId = trk.nflId
                left join pos_groups g on g.position = pp.PositionAbbr""")
            con.execute(f"""create or replace view r_bdb2019 as
                select PassResult as result from read_csv({_q(b19 / 'plays.csv')}, nullstr = 'NA')""")
            names.append("bdb2019")
        hl = real / "ngs_highlights" / "highlights.parquet"
        if hl.exists():
            con.execute(f"""
                create or replace view t_highlights as
                select h.gameId as game_id, h.playId as play_id, h.nflId as nfl_id, h.frame,
                       g.position_group as grp, h.possessionFlag = 1 as is_off, h.nflId is null as is_ball,
                       h.x, h.y, h.s, null::double as a, h.event
                from read_parquet({_q(hl)}) h
                left join pos_groups g on g.position = h.position""")
            con.execute("""create or replace view r_highlights as
                select case when bool_or(event in ('pass_outcome_caught', 'pass_outcome_touchdown')) then 'C'
                            when bool_or(event = 'pass_outcome_interception') then 'IN'
                            when bool_or(event = 'pass_outcome_incomplete') then 'I' end as result
                from t_highlights group by game_id, play_id""")
            names.append("highlights")
        b23 = real / "bdb2023"
        if (b23 / "tracking_sample_7plays.csv").exists():
            con.execute(f"""
                create or replace view t_bdb2023 as
                with trk as (select * from read_csv({_q(b23 / 'tracking_sample_7plays.csv')}, nullstr = ['NA', ''],
                                                     types = {{'nflId': 'double', 'event': 'varchar'}})),
                     pl as (select * from read_csv({_q(b23 / 'plays.csv')}, nullstr = 'NA'))
                select trk.gameId as game_id, trk.playId as play_id, trk.nflId as nfl_id, trk.frameId as frame,
                       null::varchar as grp, case when trk.team = 'football' then null
                       else trk.team = pl.possessionTeam end as is_off,
                       trk.team = 'football' as is_ball, trk.x, trk.y, trk.s, trk.a, trk.event
                from trk join pl on pl.gameId = trk.gameId and pl.playId = trk.playId""")
            con.execute(f"""create or replace view r_bdb2023 as
                select passResult as result from read_csv({_q(b23 / 'plays.csv')}, nullstr = 'NA')""")
            names.append("bdb2023")
    return names


def _metrics(con: duckdb.DuckDBPyConnection, src: str) -> dict:
    t = f"t_{src}"
    con.execute(f"""
        create or replace temp table keys as
        select game_id, play_id,
               min(frame) filter (where event = 'ball_snap') as snap,
               min(frame) filter (where event = 'pass_forward') as fwd,
               min(frame) filter (where event = 'pass_arrived') as arr,
               max(frame) as last
        from {t} group by all""")
    out: dict = {"speed": {}, "accel": {}}
    rows = con.execute(f"""
        select coalesce(grp, 'ALL'), count(*), quantile_cont(s, 0.5), quantile_cont(s, 0.9),
               quantile_cont(s, 0.99), max(s)
        from {t} join keys using (game_id, play_id)
        where not is_ball and frame >= snap and s is not null
        group by grouping sets ((grp), ()) order by 1""").fetchall()
    for g, n, p50, p90, p99, mx in rows:
        out["speed"][g] = {"n": n, "p50": p50, "p90": p90, "p99": p99, "max": mx}
    a = con.execute(f"""
        select count(a), quantile_cont(a, 0.5), quantile_cont(a, 0.9), quantile_cont(a, 0.99), max(a)
        from {t} join keys using (game_id, play_id) where not is_ball and frame >= snap""").fetchone()
    out["accel"] = {"n": a[0], "p50": a[1], "p90": a[2], "p99": a[3], "max": a[4]}
    sep = con.execute(f"""
        with at_arr as (
            select t.* , k.arr from {t} t join keys k using (game_id, play_id)
            where k.arr is not null and t.frame = k.arr),
        ball as (select game_id, play_id, x as bx, y as by from at_arr where is_ball),
        tgt as (
            select a.game_id, a.play_id, arg_min(a.nfl_id, hypot(a.x - b.bx, a.y - b.by)) as tid
            from at_arr a join ball b using (game_id, play_id)
            where a.is_off and not a.is_ball and coalesce(a.grp, '') <> 'QB' group by all),
        tp as (select a.game_id, a.play_id, a.x, a.y from at_arr a join tgt t
               on a.game_id = t.game_id and a.play_id = t.play_id and a.nfl_id = t.tid)
        select quantile_cont(sep, [0.1, 0.5, 0.9]), avg(sep), count(*) from (
            select min(hypot(d.x - tp.x, d.y - tp.y)) as sep
            from tp join at_arr d on d.game_id = tp.game_id and d.play_id = tp.play_id
            where d.is_off = false and not d.is_ball group by tp.game_id, tp.play_id)""").fetchone()
    out["separation"] = {"p10": sep[0][0], "p50": sep[0][1], "p90": sep[0][2], "mean": sep[1], "n": sep[2]} \
        if sep and sep[2] else None
    air = con.execute(f"""
        with b as (select t.game_id, t.play_id, t.frame, t.x, t.y, k.fwd, k.arr from {t} t
                   join keys k using (game_id, play_id) where t.is_ball and k.arr is not null and k.fwd is not null)
        select quantile_cont(d, [0.1, 0.5, 0.9]), avg(d), count(*) from (
            select hypot(max(x) filter (where frame = arr) - max(x) filter (where frame = fwd),
                         max(y) filter (where frame = arr) - max(y) filter (where frame = fwd)) as d
            from b group by game_id, play_id) where d is not null""").fetchone()
    out["air_distance"] = {"p10": air[0][0], "p50": air[0][1], "p90": air[0][2], "mean": air[1], "n": air[2]} \
        if air and air[2] else None
    tt = con.execute("""select quantile_cont(v, [0.1, 0.5, 0.9]), avg(v), count(*)
        from (select (fwd - snap) / 10.0 as v from keys where fwd > snap)""").fetchone()
    out["throw_time"] = {"p10": tt[0][0], "p50": tt[0][1], "p90": tt[0][2], "mean": tt[1], "n": tt[2]} \
        if tt and tt[2] else None
    cr = con.execute(f"""select count(*) filter (where result = 'C'), count(*) filter (where result in ('C', 'I', 'IN')),
        count(*) filter (where result = 'IN') from r_{src}""").fetchone()
    out["completion"] = {"rate": cr[0] / cr[1] if cr[1] else None, "int_rate": cr[2] / cr[1] if cr[1] else None,
                         "n": cr[1]}
    return out


def compare(sim: Path | None, real: Path | None = None) -> dict:
    con = duckdb.connect()
    real = Path(real) if real is not None and Path(real).exists() else None
    names = _load_sources(con, Path(sim) if sim else None, real)
    return {n: _metrics(con, n) for n in names}


def _f(v, nd=2) -> str:
    return "-" if v is None else f"{v:.{nd}f}"


def markdown(res: dict) -> str:
    srcs = list(res)
    lines = ["### Player speed after the snap, yd/s (p50 / p90 / p99 / max)", "",
             "| group | " + " | ".join(srcs) + " |", "|---" * (len(srcs) + 1) + "|"]
    for g in GROUPS + ["ALL"]:
        cells = []
        for s in srcs:
            v = res[s]["speed"].get(g)
            cells.append("-" if not v else f"{_f(v['p50'])} / {_f(v['p90'])} / {_f(v['p99'])} / {_f(v['max'])}")
        lines.append(f"| {g} | " + " | ".join(cells) + " |")
    lines += ["", "### Other distributions", "", "| metric | " + " | ".join(srcs) + " |",
              "|---" * (len(srcs) + 1) + "|"]

    def dist_row(label, key):
        cells = []
        for s in srcs:
            v = res[s][key]
            cells.append("-" if not v or v.get("n") in (0, None) or v.get("p50") is None else
                         f"{_f(v['p10'] if 'p10' in v else v['p50'])} / {_f(v['p50'])} / "
                         f"{_f(v['p90'])} (n={v['n']})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    cells = []
    for s in srcs:
        v = res[s]["accel"]
        cells.append("-" if not v["n"] else f"{_f(v['p50'])} / {_f(v['p90'])} / {_f(v['p99'])} (n={v['n']})")
    lines.append("| player acceleration yd/s² p50 / p90 / p99 | " + " | ".join(cells) + " |")
    dist_row("separation at arrival, yd p10 / p50 / p90", "separation")
    dist_row("air distance, yd p10 / p50 / p90", "air_distance")
    dist_row("throw time after snap, s p10 / p50 / p90", "throw_time")
    cells = [f"{_f(res[s]['completion']['rate'], 3)} (INT {_f(res[s]['completion']['int_rate'], 3)}, "
             f"n={res[s]['completion']['n']})" if res[s]["completion"]["n"] else "-" for s in srcs]
    lines.append("| completion rate (C / C+I+IN) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ngs.simulate.compare", description=__doc__.splitlines()[0])
    ap.add_argument("--sim", type=Path, required=True, help="simulator output folder (ngs simulate --out)")
    ap.add_argument("--real", type=Path, required=True,
                    help="folder of real Big Data Bowl samples (bdb2019/, bdb2021/, ...)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown")
    a = ap.parse_args(argv)
    res = compare(a.sim, a.real)
    print(json.dumps(res, indent=1, default=float) if a.json else markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
