"""One simulated game: play-by-play metadata, tracking rows (2023 format), scouting rows and truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from ngs.simulate.formations import DF0, FIELD_W, QB, R_ROUTE, N, setup_play
from ngs.simulate.league import League, game_slot, short_name
from ngs.simulate.physics import DT, PlayResult, simulate_plays

DEFAULT_PLAYS_PER_GAME = 140
P_RUN, P_SACK = 0.10, 0.055


def _angle(vx, vy):
    """NGS angle: 0 = +y, clockwise, degrees in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(vx, vy)), 360.0)


def _dir_words(air: float, dy: float, y0: float) -> tuple[str, str]:
    length = "deep" if air >= 15 else "short"
    side = "middle" if abs(dy) < 5 and 18 < y0 < FIELD_W - 18 else ("left" if dy > 0 else "right")
    return length, side


def simulate_game(seed: int, index: int, league: League, plays_per_game: int | None) -> dict:
    g = game_slot(seed, index)
    rng = np.random.default_rng([seed, index, 1])
    n_plays = int(plays_per_game or DEFAULT_PLAYS_PER_GAME)
    home, visitor = g["homeTeamAbbr"], g["visitorTeamAbbr"]

    # ---- game script: drives, downs, clock, score (plausible, not a football engine) -----------------
    meta = []
    poss = home if rng.random() < 0.5 else visitor
    score = {home: 0, visitor: 0}
    ytg_goal = 75.0  # yards to the opponent's goal line
    down, togo = 1, 10
    clock_per_play = 4 * 900 / n_plays
    for k in range(n_plays):
        quarter = min(4, 1 + (4 * k) // n_plays)
        secs = max(0, int(900 - (k - (quarter - 1) * n_plays / 4) * clock_per_play + rng.integers(-5, 5)))
        ptype = "run" if rng.random() < P_RUN else ("sack" if rng.random() < P_SACK else "pass")
        meta.append(dict(quarter=quarter, secs=min(secs, 900), down=down, togo=togo, poss=poss,
                         defn=visitor if poss == home else home, goal=ytg_goal, ptype=ptype,
                         home_score=score[home], visitor_score=score[visitor]))
        # advance the script with a rough expected outcome (the real gain is known after the sim)
        gain = rng.choice([0, 0, 0, 3, 5, 7, 9, 12, 18, 25])
        if ptype == "sack":
            gain = -int(rng.integers(3, 10))
        ytg_goal -= gain
        togo -= gain
        if ytg_goal <= 0:
            score[poss] += 7
            poss, ytg_goal, down, togo = (visitor if poss == home else home), 75.0, 1, 10
        elif togo <= 0:
            down, togo = 1, int(min(10, ytg_goal))
        elif down == 4 or rng.random() < 0.04:
            if rng.random() < 0.35 and ytg_goal < 40:
                score[poss] += 3
            poss, ytg_goal, down, togo = (visitor if poss == home else home), float(rng.integers(55, 85)), 1, 10
        else:
            down += 1
        ytg_goal = float(np.clip(ytg_goal, 12, 95))
        togo = int(np.clip(togo, 1, min(25, ytg_goal)))

    setups = []
    for m in meta:
        los = 110.0 - m["goal"]
        off = league.rosters[m["poss"]]
        dfn = league.rosters[m["defn"]]
        setups.append(setup_play(rng, off, dfn, los, m["ptype"]))
    results = simulate_plays(setups, rng)
    return _assemble(g, meta, setups, results, league, rng)


def _assemble(g, meta, setups, results: list[PlayResult], league: League, rng) -> dict:
    players = league.players.set_index("nflId")
    home = g["homeTeamAbbr"]
    kick = dt.datetime.strptime(g["gameDate"] + " " + g["gameTimeEastern"], "%m/%d/%Y %H:%M:%S") + dt.timedelta(hours=4)
    kick_ms = int(kick.replace(tzinfo=dt.UTC).timestamp() * 1000)
    cols: dict[str, list] = {k: [] for k in ("playId", "nflId", "frameId", "time_ms", "jersey", "team", "left",
                                             "x", "y", "s", "a", "dis", "o", "dir", "event")}
    plays, scouting, passes = [], [], []
    play_id = 50
    t_ms = kick_ms
    for m, su, r in zip(meta, setups, results, strict=True):
        play_id += int(rng.integers(20, 30))
        poss_home = m["poss"] == home
        left = bool(poss_home) == (m["quarter"] in (2, 4))
        off_roster = league.rosters[m["poss"]]
        def_roster = league.rosters[m["defn"]]
        ids = np.array([int((off_roster if s < DF0 else def_roster).nflId[su.slots_players[s]]) for s in range(N)])
        n_pre = int(rng.integers(8, 13))
        F = n_pre + r.end_t + 1
        # positions (F, 23, 2) in standardised coordinates: pre-snap frames hold the start positions
        pos = np.empty((F, N + 1, 2))
        vel = np.zeros((F, N + 1, 2))
        pos[:n_pre, :N] = r.pos[0]
        pos[n_pre:, :N] = r.pos
        vel[n_pre:, :N] = r.vel
        pos[:n_pre, N] = r.ball[0]
        pos[n_pre:, N] = r.ball
        bv = np.diff(pos[:, N], axis=0, prepend=pos[:1, N]) / DT
        vel[:, N] = bv
        # pre-snap sway
        sway = np.cumsum(rng.normal(0, 0.015, size=(n_pre, N, 2)), axis=0)
        pos[:n_pre, :N] += sway - sway[-1]
        # tracking jitter: AR(1), sd about 0.05 yd
        jit = np.zeros_like(pos)
        e = rng.normal(0, 0.03, size=pos.shape)
        for f in range(F):
            jit[f] = (0.8 * jit[f - 1] if f else 0) + e[f]
        pos_o = pos + jit
        sp = np.linalg.norm(vel, axis=-1)
        acc = np.linalg.norm(np.diff(vel, axis=0, prepend=vel[:1]), axis=-1) / DT
        s_o = np.abs(sp + rng.normal(0, 0.03, sp.shape))
        a_o = np.abs(acc + rng.normal(0, 0.08, acc.shape))
        # direction of motion: noisy when standing still, like the real sensors
        nv = vel + rng.normal(0, 0.15, vel.shape)
        dir_o = _angle(nv[..., 0], nv[..., 1])
        face = np.where(np.arange(N + 1) < DF0, 1.0, -1.0)
        face_w = np.where(np.arange(N + 1) == QB, 5.0, 2.0)
        ov = vel + np.stack([face * face_w, np.zeros(N + 1)], -1)
        o_o = np.mod(_angle(ov[..., 0], ov[..., 1]) + rng.normal(0, 6, sp.shape), 360.0)
        if left:
            pos_o = np.stack([120.0 - pos_o[..., 0], FIELD_W - pos_o[..., 1]], -1)
            dir_o = np.mod(dir_o + 180.0, 360.0)
            o_o = np.mod(o_o + 180.0, 360.0)
        pos_o = np.round(pos_o, 2)
        dis = np.linalg.norm(np.diff(pos_o, axis=0, prepend=pos_o[:1]), axis=-1)
        events = [""] * F
        events[0] = "line_set"
        events[n_pre] = "ball_snap"
        if su.play_action and r.throw_t > 8:
            events[n_pre + 6] = "play_action"
        for t, name in r.events.items():
            events[n_pre + t] = name
        order = np.argsort(ids)
        frames = np.arange(1, F + 1)
        times = t_ms + (frames - 1) * 100
        t_ms += F * 100 + int(rng.integers(25_000, 40_000))
        for slot in list(order) + [N]:
            cols["playId"].append(np.full(F, play_id))
            cols["nflId"].append(np.full(F, ids[slot] if slot < N else -1))
            cols["frameId"].append(frames)
            cols["time_ms"].append(times)
            if slot < N:
                club = m["poss"] if slot < DF0 else m["defn"]
                cols["jersey"].append(np.full(F, int(players.jersey[ids[slot]])))
                cols["team"].append(np.full(F, club, dtype=object))
                cols["o"].append(np.round(o_o[:, slot], 2))
                cols["dir"].append(np.round(dir_o[:, slot], 2))
            else:
                cols["jersey"].append(np.full(F, -1))
                cols["team"].append(np.full(F, "football", dtype=object))
                cols["o"].append(np.full(F, np.nan))
                cols["dir"].append(np.full(F, np.nan))
            cols["left"].append(np.full(F, left))
            cols["x"].append(pos_o[:, slot, 0])
            cols["y"].append(pos_o[:, slot, 1])
            cols["s"].append(np.round(s_o[:, slot], 2))
            cols["a"].append(np.round(a_o[:, slot], 2))
            cols["dis"].append(np.round(dis[:, slot], 2))
            cols["event"].append(np.array(events, dtype=object))

        plays.append(_play_row(g, m, su, r, play_id, ids, players, left))
        if su.play_type != "run":
            for s in range(N):
                scouting.append((g["gameId"], play_id, int(ids[s]), su.pff_role[s], su.lined_up[s]))
        if su.play_type == "pass":
            passes.append({
                "gameId": g["gameId"], "playId": play_id, "passerNflId": int(ids[QB]),
                "targetNflId": int(ids[r.target]), "snapFrameId": n_pre + 1,
                "throwFrameId": n_pre + 1 + r.throw_t, "arrivalFrameId": n_pre + 1 + r.arrival_t,
                "passResult": r.pass_result, "separationYd": round(r.separation, 3),
                "airDistanceYd": round(r.air_dist, 3), "catchProb": round(r.catch_prob, 4),
                "route": su.route[r.target], "coverage": su.coverage,
                "nRouteRunners": int((su.role == R_ROUTE).sum()),
            })
    track = {k: np.concatenate(v) for k, v in cols.items()}
    track["gameId"] = np.full(len(track["playId"]), g["gameId"])
    return {"game": g, "tracking": track, "plays": plays, "scouting": scouting, "passes": passes}


def _yardline(abs_los: float, poss: str, defn: str, left: bool) -> tuple[str, int]:
    x_std = 120 - abs_los if left else abs_los
    own = x_std - 10
    return (poss, int(round(own))) if own <= 50 else (defn, int(round(100 - own)))


def _play_row(g, m, su, r: PlayResult, play_id, ids, players, left) -> dict:
    abs_los = (120.0 - su.los) if left else su.los
    abs_los = int(round(abs_los))
    side, num = _yardline(abs_los, m["poss"], m["defn"], left)
    clock = f"{m['secs'] // 60}:{m['secs'] % 60:02d}"
    name = lambda slot: short_name(players.displayName[ids[slot]])  # noqa: E731
    form = {"SHOTGUN": "(Shotgun) ", "EMPTY": "(Shotgun) ", "PISTOL": "(Pistol) "}.get(su.formation, "")
    gain = int(round(r.gain))
    if su.play_type == "run":
        runner = int(np.argmax(su.role == 4)) if (su.role == 4).any() else QB
        dirw = "left" if r.pos[-1, runner, 1] > su.pos[QB, 1] else "right"
        desc = f"({clock}) {name(runner)} {dirw} end to {side} {num} for {gain} yards."
        result = "NA"
    elif r.pass_result == "S":
        desc = f"({clock}) {form}{name(QB)} sacked for {gain} yards ({name(r.tackler)})."
        result = "S"
    else:
        tr = r.target
        y0 = r.pos[r.throw_t, QB, 1]
        dy = r.pos[r.arrival_t, tr, 1] - y0
        if left:
            dy = -dy
        length, where = _dir_words(r.air_dist, dy, y0)
        if r.pass_result == "C":
            tack = f" ({name(r.tackler)})" if r.tackler >= 0 else ""
            ob = " pushed ob" if r.end_reason == "out_of_bounds" else ""
            td = " TOUCHDOWN." if r.end_reason == "touchdown" else ""
            desc = f"({clock}) {form}{name(QB)} pass {length} {where} to {name(tr)}{ob} to {side} {num} for {gain} yards{tack}.{td}"
        elif r.pass_result == "IN":
            desc = f"({clock}) {form}{name(QB)} pass {length} {where} intended for {name(tr)} INTERCEPTED by {name(r.tackler if r.tackler >= DF0 else DF0)}."
            gain = 0
        else:
            desc = f"({clock}) {form}{name(QB)} pass incomplete {length} {where} to {name(tr)}."
            gain = 0
        result = r.pass_result
    result_yards = gain if result in ("C", "S", "NA") else 0
    return {
        "gameId": g["gameId"], "playId": play_id, "playDescription": desc, "quarter": m["quarter"],
        "down": m["down"], "yardsToGo": m["togo"], "possessionTeam": m["poss"], "defensiveTeam": m["defn"],
        "yardlineSide": side, "yardlineNumber": num, "gameClock": clock,
        "preSnapHomeScore": m["home_score"], "preSnapVisitorScore": m["visitor_score"],
        "passResult": result, "penaltyYards": None, "prePenaltyPlayResult": result_yards,
        "playResult": result_yards, "foulName1": None, "foulNFLId1": None, "foulName2": None,
        "foulNFLId2": None, "foulName3": None, "foulNFLId3": None, "absoluteYardlineNumber": abs_los,
        "offenseFormation": su.formation, "personnelO": su.personnel_o, "defendersInBox": su.box,
        "personnelD": su.personnel_d,
        "dropBackType": "NA" if su.play_type == "run" else "TRADITIONAL",
        "pff_playAction": int(su.play_action), "pff_passCoverage": su.coverage if su.play_type != "run" else None,
        "pff_passCoverageType": su.coverage_type if su.play_type != "run" else None,
    }


def tracking_table(track: dict) -> pa.Table:
    """Arrow table in the exact column order of the 2023 release, values as the real files print them."""
    import pyarrow.compute as pc

    def floaty(a: np.ndarray, null_mask=None) -> pa.Array:
        arr = pa.array(a.astype(np.int64)).cast(pa.string())
        arr = pc.binary_join_element_wise(arr, ".0", "")
        if null_mask is not None:
            arr = pc.if_else(pa.array(null_mask), pa.scalar(None, pa.string()), arr)
        return arr

    def num(a: np.ndarray) -> pa.Array:
        arr = pa.array(a, from_pandas=True).cast(pa.string())
        has_dot = pc.match_substring(arr, ".")
        return pc.if_else(has_dot, arr, pc.binary_join_element_wise(arr, ".0", ""))

    ball = track["nflId"] < 0
    ts = pa.array(track["time_ms"].astype("datetime64[ms]")).cast(pa.string())
    ts = pc.replace_substring(ts, " ", "T")
    ev = track["event"]
    return pa.table({
        "gameId": pa.array(track["gameId"]),
        "playId": pa.array(track["playId"]),
        "nflId": floaty(track["nflId"], ball),
        "frameId": pa.array(track["frameId"]),
        "time": ts,
        "jerseyNumber": floaty(track["jersey"], ball),
        "team": pa.array(track["team"], pa.string()),
        "playDirection": pa.array(np.where(track["left"], "left", "right")),
        "x": num(track["x"]), "y": num(track["y"]), "s": num(track["s"]), "a": num(track["a"]),
        "dis": num(track["dis"]), "o": num(track["o"]), "dir": num(track["dir"]),
        "event": pa.array(np.where(ev == "", None, ev), pa.string()),
    })
