"""Pre-snap set-up of one play: formation, personnel, alignment, routes and defensive assignments.

Coordinates are standardised: the offence moves towards +x, the line of scrimmage is `los`.
Slots: 0 QB, 1-5 OL (LT, LG, C, RG, RT), 6-10 skill players, 11-21 defence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FIELD_W = 53.3
N = 22
QB, OL0, SK0, DF0 = 0, 1, 6, 11

# offensive roles
R_QB, R_OL, R_ROUTE, R_BLOCK, R_RUNNER = 0, 1, 2, 3, 4
# defensive roles
R_RUSH, R_MAN, R_ZONE = 5, 6, 7

ROUTES = ["go", "slant", "out", "in", "curl", "post", "corner", "hitch", "flat", "drag", "wheel"]

# route shapes: list of (forward, outside, speed_at_point); outside > 0 points to the near sideline.
# A depth multiplier scales the stems. The last point of a non-stopping route is extended far away.
ROUTE_SHAPES = {
    "go": ([(6, 0.5, 9), (40, 2.0, 10)], False),
    "slant": ([(4, 0, 4.5), (14, -9, 9)], False),
    "out": ([(10, 0, 3.0), (9.5, 12, 8)], False),
    "in": ([(12, 0, 3.0), (12.5, -18, 8)], False),
    "curl": ([(12, 0, 3.0), (10.5, -1.2, 0)], True),
    "post": ([(11, 0, 5.5), (30, -12, 10)], False),
    "corner": ([(11, 0, 5.0), (24, 11, 10)], False),
    "hitch": ([(6, 0, 2.5), (5, 0, 0)], True),
    "flat": ([(1.5, 4, 5), (3.5, 10, 7)], False),
    "drag": ([(3, -2, 6), (5, -30, 8)], False),
    "wheel": ([(2, 6, 6), (8, 10, 8), (35, 11, 10)], False),
}
ROUTE_P_WR = np.array([0.14, 0.12, 0.13, 0.12, 0.14, 0.09, 0.07, 0.10, 0.0, 0.07, 0.02])
ROUTE_P_TE = np.array([0.06, 0.10, 0.10, 0.14, 0.16, 0.04, 0.04, 0.06, 0.15, 0.15, 0.0])
ROUTE_P_RB = np.array([0.0, 0.04, 0.0, 0.04, 0.0, 0.0, 0.0, 0.07, 0.6, 0.15, 0.10])

COVERAGES = [  # (pff_passCoverage, type, weight)
    ("Cover-3", "Zone", 0.32), ("Cover-1", "Man", 0.24), ("Cover-2", "Zone", 0.13),
    ("Quarters", "Zone", 0.12), ("Cover-6", "Zone", 0.09), ("Cover-0", "Man", 0.04),
    ("2-Man", "Man", 0.06),
]
PERSONNEL_O = [  # (n RB, n TE, n WR, weight)
    (1, 1, 3, 0.67), (1, 2, 2, 0.18), (2, 1, 2, 0.06), (1, 0, 4, 0.03), (1, 3, 1, 0.03), (2, 2, 1, 0.03),
]
PERSONNEL_D = [(4, 2, 5, 0.36), (2, 4, 5, 0.2), (3, 3, 5, 0.15), (2, 3, 6, 0.11), (4, 3, 4, 0.1), (3, 4, 4, 0.08)]

# kinematic limits per position: (top speed yd/s, max acceleration yd/s^2)
LIMITS = {
    "QB": (7.6, 4.2), "RB": (9.3, 5.0), "FB": (8.0, 4.2), "WR": (9.5, 5.0), "TE": (8.4, 4.4),
    "T": (5.5, 3.2), "G": (5.3, 3.2), "C": (5.3, 3.2), "DE": (7.6, 4.3), "DT": (6.4, 3.6),
    "NT": (5.9, 3.4), "OLB": (8.4, 4.6), "ILB": (8.2, 4.5), "MLB": (8.1, 4.5), "CB": (9.4, 5.0),
    "FS": (9.1, 4.9), "SS": (9.0, 4.8),
}


@dataclass
class PlaySetup:
    play_type: str                  # 'pass' | 'run' | 'sack'
    los: float
    pos: np.ndarray                 # (22, 2) start
    role: np.ndarray                # (22,) role code
    position: list[str]             # officialPosition per slot
    lined_up: list[str]             # pff_positionLinedUp per slot
    pff_role: list[str]
    vmax: np.ndarray
    amax: np.ndarray
    wp: np.ndarray                  # (22, 3, 2) route waypoints (absolute)
    wp_v: np.ndarray                # (22, 3) speed at waypoint
    n_wp: np.ndarray                # (22,)
    man_of: np.ndarray              # (22,) slot a man defender covers, -1 otherwise
    landmark: np.ndarray            # (22, 2) zone landmark
    deep: np.ndarray                # (22,) bool deep zone defender
    react: np.ndarray               # (22,) reaction delay in frames
    route: list[str]
    formation: str
    personnel_o: str
    personnel_d: str
    coverage: str
    coverage_type: str
    box: int
    shotgun: bool
    play_action: bool
    drop_depth: float
    throw_t: int                    # frames after snap
    sack_slot: int = -1
    free_t: int = 0
    handoff_t: int = 0
    gap_y: float = 0.0
    slots_players: list[int] = field(default_factory=list)  # roster row per slot


def _pick(rng, items, weights):
    w = np.array(weights, dtype=float)
    return items[int(rng.choice(len(items), p=w / w.sum()))]


def setup_play(rng: np.random.Generator, off_roster, def_roster, los: float, play_type: str) -> PlaySetup:
    """Draw one play's alignment and plan. `*_roster` are DataFrames of a club's players."""
    n_rb, n_te, n_wr, _ = _pick(rng, PERSONNEL_O, [p[3] for p in PERSONNEL_O])
    n_dl, n_lb, n_db, _ = _pick(rng, PERSONNEL_D, [p[3] for p in PERSONNEL_D])
    cov, cov_type, _ = _pick(rng, COVERAGES, [c[2] for c in COVERAGES])
    yc = float(np.clip(FIELD_W / 2 + rng.normal(0, 4.0), 18, FIELD_W - 18))  # hash position of the ball

    def take(df, positions, n):
        sub = df.rows(positions)
        idx = rng.choice(len(sub), size=n, replace=len(sub) < n)
        return [int(i) for i in sub[idx]]

    # --- offence ------------------------------------------------------------------------------
    shotgun = n_rb < 2 and rng.random() < 0.78
    empty = shotgun and n_rb == 1 and rng.random() < 0.15
    formation = "EMPTY" if empty else ("SHOTGUN" if shotgun else _pick(
        rng, ["SINGLEBACK", "I_FORM", "PISTOL"], [0.7, 0.2, 0.1] if n_rb == 2 else [0.8, 0.05, 0.15]))
    if n_rb == 2 and formation == "SINGLEBACK":
        formation = "I_FORM"
    pos = np.zeros((N, 2))
    position = [""] * N
    lined = [""] * N
    players = [-1] * N
    qb = take(off_roster, ["QB"], 1)[0] if rng.random() < 0.97 else take(off_roster, ["QB"], 2)[1]
    ol = take(off_roster, ["T"], 2) + take(off_roster, ["G"], 2) + take(off_roster, ["C"], 1)
    ol = [ol[0], ol[2], ol[4], ol[3], ol[1]]  # LT LG C RG RT
    rbs = take(off_roster, ["RB"], 1) + (take(off_roster, ["FB"], 1) if n_rb == 2 else [])
    tes = take(off_roster, ["TE"], n_te)
    wrs = take(off_roster, ["WR"], n_wr)
    players[QB] = qb
    qb_depth = 5.0 if shotgun else (4.0 if formation == "PISTOL" else 1.0)
    pos[QB] = (los - qb_depth, yc)
    position[QB], lined[QB] = "QB", "QB"
    for k, pid in enumerate(ol):
        s = OL0 + k
        players[s] = pid
        pos[s] = (los - 1.0 - (0.3 if k != 2 else 0.0), yc + (k - 2) * 1.35)
        position[s] = off_roster.officialPosition[pid]
        lined[s] = ["LT", "LG", "C", "RG", "RT"][k]
    skill = []
    side = 1 if rng.random() < 0.5 else -1  # strong side (+y or -y)
    for k, pid in enumerate(rbs):
        if empty:
            skill.append((pid, "RB", (los - 1.0, yc + side * 10.0 if k == 0 else yc - side * 6), "SRWR"))
        elif formation == "I_FORM":
            skill.append((pid, off_roster.officialPosition[pid], (los - (7.0 if k == 0 else 4.5), yc), "HB" if k == 0 else "FB"))
        elif shotgun:
            skill.append((pid, "RB", (los - 5.0, yc + side * 1.5), "HB-R" if side > 0 else "HB-L"))
        else:
            skill.append((pid, off_roster.officialPosition[pid], (los - (7.0 if formation == "SINGLEBACK" else 6.5) + 2.5 * k, yc + 1.0 * k), "HB" if k == 0 else "FB"))
    for k, pid in enumerate(tes):
        sd = side if k % 2 == 0 else -side
        skill.append((pid, "TE", (los - 1.0, yc + sd * (4.2 + 1.2 * (k // 2))), "TE-R" if sd > 0 else "TE-L"))
    wide = [(1, 0), (-1, 0), (side, 1), (-side, 1)]
    for k, pid in enumerate(wrs):
        sd, inner = wide[k]
        edge = FIELD_W - 5.5 - rng.uniform(0, 4) if sd > 0 else 5.5 + rng.uniform(0, 4)
        y = edge if not inner else yc + sd * rng.uniform(7.5, 11)
        name = ("R" if sd > 0 else "L") + "WR"
        skill.append((pid, "WR", (los - (0.8 if not inner else 1.4), y), ("S" + name) if inner else name))
    for k, (pid, p, xy, ln) in enumerate(skill):
        s = SK0 + k
        players[s], position[s], lined[s] = pid, p, ln
        pos[s] = xy

    # --- plan: routes or run --------------------------------------------------------------------
    role = np.full(N, R_OL)
    role[QB] = R_QB
    wp = np.zeros((N, 3, 2))
    wp_v = np.zeros((N, 3))
    n_wp = np.zeros(N, dtype=int)
    route = [""] * N
    pff_role = ["Pass Block"] * N
    pff_role[QB] = "Pass"
    for s in range(SK0, DF0):
        p = position[s]
        blocker = (p in ("RB", "FB") and rng.random() < 0.35) or (p == "TE" and rng.random() < 0.3)
        if play_type == "run":
            role[s] = R_RUNNER if s == SK0 and p in ("RB", "FB") and not empty else R_BLOCK
            continue
        if blocker and not empty:
            role[s] = R_BLOCK
            continue
        role[s] = R_ROUTE
        pff_role[s] = "Pass Route"
        probs = ROUTE_P_WR if p == "WR" else (ROUTE_P_TE if p == "TE" else ROUTE_P_RB)
        r = ROUTES[int(rng.choice(len(ROUTES), p=probs / probs.sum()))]
        route[s] = r
        shape, _stop = ROUTE_SHAPES[r]
        out = 1.0 if pos[s, 1] > yc else -1.0
        if p in ("RB", "FB") and r in ("flat", "wheel", "drag"):
            out = 1.0 if rng.random() < 0.5 else -1.0
        depth = rng.uniform(0.7, 1.0)
        pts = list(shape)
        if not _stop:
            fx, fo, fv = pts[-1]
            px, po = (pts[-2][0], pts[-2][1]) if len(pts) > 1 else (0.0, 0.0)
            d = np.hypot(fx - px, fo - po)
            pts[-1] = (px + (fx - px) * 60 / d, po + (fo - po) * 60 / d, fv)
        for j, (fx, fo, fv) in enumerate(pts[:3]):
            fx = fx * depth if j < len(pts) - 1 or _stop else fx
            wp[s, j] = (pos[s, 0] + 1.0 + fx, pos[s, 1] + out * fo)
            wp_v[s, j] = fv
        n_wp[s] = min(len(pts), 3)
    if play_type == "run":
        pff_role = ["Run Block"] * 11 + [""] * 11
        pff_role[QB] = "Pass" if False else "Run"

    # --- defence -------------------------------------------------------------------------------
    dls = take(def_roster, ["DE"], min(2, n_dl)) + take(def_roster, ["DT", "NT"], max(0, n_dl - 2))
    lbs = take(def_roster, ["OLB", "ILB", "MLB"], n_lb)
    cbs = take(def_roster, ["CB"], n_db - 2)
    ss = take(def_roster, ["FS"], 1) + take(def_roster, ["SS"], 1)
    dslots = dls + lbs + cbs + ss
    kinds = ["DL"] * len(dls) + ["LB"] * len(lbs) + ["CB"] * len(cbs) + ["S"] * 2
    man_of = np.full(N, -1)
    landmark = np.zeros((N, 2))
    deep = np.zeros(N, dtype=bool)
    receivers = [s for s in range(SK0, DF0) if role[s] == R_ROUTE] if play_type != "run" else []
    eligible = sorted(range(SK0, DF0), key=lambda s: -abs(pos[s, 1] - yc))  # outside first
    d_slots = list(range(DF0, N))
    # alignment
    dl_y = yc + (np.arange(len(dls)) - (len(dls) - 1) / 2) * 2.2
    lb_y = yc + (np.arange(len(lbs)) - (len(lbs) - 1) / 2) * 4.0
    wide_recs = sorted(eligible[:len(cbs)], key=lambda s: pos[s, 1])
    box = 0
    for k, (pid, kind) in enumerate(zip(dslots, kinds, strict=True)):
        s = d_slots[k]
        players[s] = pid
        position[s] = def_roster.officialPosition[pid]
        if kind == "DL":
            pos[s] = (los + 1.0, dl_y[k])
            lined[s] = "DLT" if dl_y[k] < yc else "DRT"
            box += 1
        elif kind == "LB":
            j = k - len(dls)
            pos[s] = (los + rng.uniform(4.0, 5.5), lb_y[j])
            lined[s] = ["LOLB", "MLB", "ROLB", "ILB"][j % 4]
            box += 1
        elif kind == "CB":
            j = k - len(dls) - len(lbs)
            target = wide_recs[j] if j < len(wide_recs) else eligible[j % len(eligible)]
            cushion = rng.uniform(0.8, 7.0)
            inside = -np.sign(pos[target, 1] - yc) or 1.0
            pos[s] = (los + cushion, pos[target, 1] + inside * rng.uniform(0, 1.5))
            lined[s] = "LCB" if pos[s, 1] < yc else "RCB"
            if j >= 2:
                lined[s] = "SCBL" if pos[s, 1] < yc else "SCBR"
        else:
            j = k - len(dls) - len(lbs) - len(cbs)
            two_high = cov in ("Cover-2", "Quarters", "Cover-6", "2-Man")
            if two_high or j == 1:
                pos[s] = (los + rng.uniform(11, 14), yc + (-9 if j == 0 else 9) + rng.normal(0, 1.5))
            else:
                pos[s] = (los + rng.uniform(12, 15), yc + rng.normal(0, 2))
            if cov in ("Cover-1", "Cover-3", "Cover-0") and j == 1:
                pos[s] = (los + rng.uniform(5, 8), yc + side * rng.uniform(4, 8))
                box += 1
            lined[s] = "FS" if j == 0 else "SS"
    pos[:, 1] = np.clip(pos[:, 1], 1.0, FIELD_W - 1.0)

    # roles and assignments
    role[DF0:] = R_ZONE
    pff_def = ["Coverage"] * 11
    n_rush = len(dls) + (1 if rng.random() < 0.3 else 0)
    rushers = list(range(DF0, DF0 + min(n_rush, 11)))
    for s in rushers:
        role[s] = R_RUSH
        pff_def[s - DF0] = "Pass Rush"
    cover = [s for s in d_slots if role[s] != R_RUSH]
    if cov_type == "Man":
        n_deep = {"Cover-0": 0, "Cover-1": 1, "2-Man": 2}[cov]
        safeties = [s for s in cover if position[s] in ("FS", "SS")]
        deeps = safeties[:n_deep]
        free = [s for s in cover if s not in deeps]
        todo = list(receivers)
        for s in free:  # nearest uncovered receiver by alignment
            if not todo:
                break
            r = min(todo, key=lambda r: np.hypot(*(pos[r] - pos[s])) + (0 if position[s] == "CB" or r in wide_recs else 2))
            todo.remove(r)
            man_of[s] = r
            role[s] = R_MAN
        for j, s in enumerate(deeps):
            deep[s] = True
            landmark[s] = (los + 16, yc if n_deep == 1 else (yc - 10 if j == 0 else yc + 10))
        for s in cover:
            if role[s] == R_ZONE and not deep[s]:
                landmark[s] = (los + 6, pos[s, 1])
    else:
        deep_spots = {
            "Cover-3": [(15, 7.5), (17, FIELD_W / 2), (15, FIELD_W - 7.5)],
            "Cover-2": [(16, 14), (16, FIELD_W - 14)],
            "Quarters": [(14, 8), (15, 20), (15, FIELD_W - 20), (14, FIELD_W - 8)],
            "Cover-6": [(14, 8), (16, 22), (16, FIELD_W - 14)],
        }[cov]
        under_spots = [(7, 6), (8, 17), (8, FIELD_W / 2), (8, FIELD_W - 17), (7, FIELD_W - 6)]
        spots = [(los + a, b, True) for a, b in deep_spots] + [(los + a, b, False) for a, b in under_spots]
        free = list(cover)
        for sx, sy, is_deep in spots:
            if not free:
                break
            pref = [s for s in free if (position[s] in ("CB", "FS", "SS")) == is_deep or not is_deep]
            pool = pref or free
            s = min(pool, key=lambda s: np.hypot(pos[s, 0] - sx, pos[s, 1] - sy))
            free.remove(s)
            landmark[s] = (sx, sy)
            deep[s] = is_deep
        for s in free:
            landmark[s] = (los + 10, pos[s, 1])
    landmark[:, 1] = np.clip(landmark[:, 1], 2.0, FIELD_W - 2.0)

    vmax = np.zeros(N)
    amax = np.zeros(N)
    for s in range(N):
        roster = off_roster if s < DF0 else def_roster
        v, a = LIMITS[position[s]]
        q = roster.skill[players[s]]
        vmax[s], amax[s] = v * q, a * q
    react = rng.integers(3, 8, size=N)

    pff_all = pff_role[:11] + (["Pass Rush" if s in rushers else "Coverage" for s in d_slots]
                               if play_type != "run" else ["Run Defense"] * 11)
    throw_t = int(np.clip(rng.gamma(10.0, 0.29) * 10, 16, 45))
    setup = PlaySetup(
        play_type=play_type, los=los, pos=pos, role=role, position=position, lined_up=lined,
        pff_role=pff_all, vmax=vmax, amax=amax, wp=wp, wp_v=wp_v, n_wp=n_wp, man_of=man_of,
        landmark=landmark, deep=deep, react=react, route=route, formation=formation,
        personnel_o=f"{n_rb} RB, {n_te} TE, {n_wr} WR", personnel_d=f"{n_dl} DL, {n_lb} LB, {n_db} DB",
        coverage=cov, coverage_type=cov_type, box=box, shotgun=shotgun or formation == "PISTOL",
        play_action=play_type == "pass" and not shotgun and rng.random() < 0.35,
        drop_depth=rng.uniform(1.5, 3.0) if shotgun else rng.uniform(5.0, 7.0),
        throw_t=throw_t, slots_players=players,
    )
    if play_type == "sack":
        setup.sack_slot = int(rng.choice(rushers))
        setup.free_t = int(rng.integers(8, 18))
    if play_type == "run":
        setup.handoff_t = int(rng.integers(5, 9))
        setup.gap_y = yc + rng.choice([-1, 1]) * rng.uniform(1, 7)
    return setup
