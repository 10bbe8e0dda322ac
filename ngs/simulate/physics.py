"""Batched kinematics: every play of a game is stepped at once, 10 frames/s, standardised coordinates.

Each player steers towards a target point chosen by his role (route waypoint, man assignment with a
reaction delay, zone landmark, pocket, ball carrier, the ball's arrival point) under a top speed and a
maximum acceleration, so speed, turns and separation come from the same limits that real players have.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ngs.simulate.formations import (
    DF0,
    FIELD_W,
    QB,
    R_BLOCK,
    R_MAN,
    R_OL,
    R_ROUTE,
    R_RUNNER,
    R_RUSH,
    R_ZONE,
    SK0,
    N,
    PlaySetup,
)

DT = 0.1
TAU_GAIN = min(1.0, DT / 0.3)
INTENT_GAIN = 0.35  # first-order response of a player's velocity to his intent
T_MAX = 150
IS_DEF = np.arange(N) >= DF0


@dataclass
class PlayResult:
    end_t: int                          # last post-snap frame index (snap = 0)
    pos: np.ndarray                     # (end_t+1, 22, 2)
    vel: np.ndarray
    ball: np.ndarray                    # (end_t+1, 2)
    events: dict[int, str] = field(default_factory=dict)
    pass_result: str = "NA"             # C, I, IN, S or NA (run)
    target: int = -1
    throw_t: int = -1
    arrival_t: int = -1
    separation: float = float("nan")
    air_dist: float = float("nan")
    catch_prob: float = float("nan")
    gain: float = 0.0                   # yards gained past the line of scrimmage
    end_reason: str = ""
    tackler: int = -1


def _unit(v):
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9)


def simulate_plays(setups: list[PlaySetup], rng: np.random.Generator) -> list[PlayResult]:
    P = len(setups)
    st = setups
    pos = np.stack([s.pos for s in st]).astype(float)
    start = pos.copy()
    vel = np.zeros_like(pos)
    role = np.stack([s.role for s in st])
    vmax = np.stack([s.vmax for s in st])
    amax = np.stack([s.amax for s in st])
    wp = np.stack([s.wp for s in st])
    wp_v = np.stack([s.wp_v for s in st])
    n_wp = np.stack([s.n_wp for s in st])
    cur = np.zeros((P, N), dtype=int)
    man_of = np.stack([s.man_of for s in st])
    landmark = np.stack([s.landmark for s in st])
    deep = np.stack([s.deep for s in st])
    react = np.stack([s.react for s in st])
    los = np.array([s.los for s in st])
    ptype = np.array([{"pass": 0, "run": 1, "sack": 2}[s.play_type] for s in st])
    throw_t = np.array([s.throw_t for s in st])
    handoff_t = np.array([s.handoff_t for s in st])
    free_t = np.array([s.free_t for s in st])
    sack_slot = np.array([s.sack_slot for s in st])
    gap_y = np.array([s.gap_y for s in st])
    drop_pt = np.stack([[s.pos[QB, 0] - s.drop_depth, s.pos[QB, 1] + rng.normal(0, 0.5)] for s in st])
    snap_frames = np.array([4 if s.shotgun else 1 for s in st])
    center = np.stack([s.pos[3] + [1.0, 0.0] for s in st])  # ball over the centre (slot 3)
    ol_set = np.zeros((P, N, 2))
    ol_set[:, 1:6, 0] = -rng.uniform(1.3, 2.6, size=(P, 5))
    ol_set[:, 1:6, 1] = (np.arange(5) - 2) * 0.35
    wobble = np.zeros((P, N, 2))
    intent = np.zeros((P, N, 2))

    hist_pos = np.zeros((T_MAX + 2, P, N, 2))
    hist_vel = np.zeros_like(hist_pos)
    ball = np.zeros((T_MAX + 2, P, 2))
    phase = np.zeros(P, dtype=int)          # 0 pre-throw, 1 ball in air, 2 carried, 3 dead
    carrier = np.zeros(P, dtype=int)        # slot holding the ball (QB)
    phase2_t = np.full(P, 10**6)
    forced_t = np.full(P, 10**6)
    dead_t = np.full(P, 10**6)
    settle = rng.integers(6, 14, size=P)
    done = np.zeros(P, dtype=bool)
    end_t = np.zeros(P, dtype=int)
    arr_t = np.full(P, -1)
    arr_pt = np.zeros((P, 2))
    thr_pt = np.zeros((P, 2))
    flight_v = np.zeros((P, 2))
    target = np.full(P, -1)
    res = [PlayResult(0, None, None, None) for _ in range(P)]  # type: ignore[arg-type]
    pidx = np.arange(P)

    for t in range(T_MAX):
        hist_pos[t], hist_vel[t] = pos, vel
        # ---- ball at frame t -------------------------------------------------------------------
        held = carrier >= 0
        hold_pt = pos[pidx, np.maximum(carrier, 0)] + np.where(IS_DEF[np.maximum(carrier, 0)], -0.2, 0.2)[:, None]
        snapping = (phase == 0) & (t < snap_frames)
        frac = np.clip(t / snap_frames, 0, 1)[:, None]
        b = np.where(held[:, None], hold_pt, ball[max(t - 1, 0)])
        b = np.where(snapping[:, None], center + (hold_pt - center) * frac, b)
        air = phase == 1
        if air.any():
            f = np.clip((t - throw_t) / np.maximum(arr_t - throw_t, 1), 0, 1)[:, None]
            b = np.where(air[:, None], thr_pt + (arr_pt - thr_pt) * f, b)
        loose = (phase == 3) & ~held
        if loose.any():  # incomplete: the ball skids on a few frames and stops
            k = np.clip(t - dead_t, 0, 8)[:, None]
            b = np.where(loose[:, None], ball[max(t - 1, 0)] + flight_v * 0.35 * DT * (0.7 ** k), b)
        ball[t] = b

        # ---- events at frame t -------------------------------------------------------------------
        for p in np.flatnonzero(~done):
            r = res[p]
            if ptype[p] == 0 and phase[p] == 0 and t == throw_t[p]:
                _throw(p, t, pos, vel, role, los, rng, target, arr_pt, arr_t, thr_pt, ball, flight_v)
                r.events[t] = "pass_forward"
                r.throw_t, r.target = t, int(target[p])
                phase[p], carrier[p] = 1, -1
            elif ptype[p] == 0 and phase[p] == 1 and t == arr_t[p]:
                r.events[t] = "pass_arrived"
                r.arrival_t = t
                _outcome(p, t, pos, target, arr_pt, thr_pt, rng, r)
            elif ptype[p] == 0 and phase[p] == 1 and t == arr_t[p] + 1:
                if r.pass_result == "C":
                    r.events[t] = "pass_outcome_caught"
                    phase[p], carrier[p], phase2_t[p] = 2, target[p], t
                    forced_t[p] = t + int(rng.gamma(2.0, 6.0)) + 4
                elif r.pass_result == "IN":
                    r.events[t] = "pass_outcome_interception"
                    d = np.linalg.norm(pos[p, DF0:] - pos[p, target[p]], axis=1)
                    phase[p], carrier[p], phase2_t[p] = 2, DF0 + int(np.argmin(d)), t
                    forced_t[p] = t + int(rng.integers(8, 30))
                else:
                    r.events[t] = "pass_outcome_incomplete"
                    phase[p], dead_t[p] = 3, t
            elif ptype[p] == 2 and phase[p] == 0 and (
                    np.linalg.norm(pos[p, sack_slot[p]] - pos[p, QB]) < 1.1 or t >= 70):
                r.events[t] = "qb_sack"
                r.pass_result, r.end_reason, r.tackler = "S", "sack", int(sack_slot[p])
                phase[p], dead_t[p] = 3, t
            elif ptype[p] == 1 and phase[p] == 0 and t == handoff_t[p]:
                r.events[t] = "handoff"
                runner = SK0 + int(np.argmax(role[p, SK0:DF0] == R_RUNNER)) if (role[p] == R_RUNNER).any() else QB
                phase[p], carrier[p], phase2_t[p] = 2, runner, t
                forced_t[p] = t + int(rng.gamma(2.2, 7.0)) + 8
            elif phase[p] == 2:
                c = carrier[p]
                opp = slice(0, DF0) if c >= DF0 else slice(DF0, N)
                d = np.linalg.norm(pos[p, opp] - pos[p, c], axis=1)
                sign = -1.0 if c >= DF0 else 1.0
                if pos[p, c, 1] < 0.15 or pos[p, c, 1] > FIELD_W - 0.15:
                    r.events[t], r.end_reason = "out_of_bounds", "out_of_bounds"
                elif (sign > 0 and pos[p, c, 0] >= 110.0) or (sign < 0 and pos[p, c, 0] <= 10.0):
                    r.events[t], r.end_reason = "touchdown", "touchdown"
                elif (d.min() < 1.0 and t >= phase2_t[p] + 3) or t >= forced_t[p]:
                    r.events[t], r.end_reason = "tackle", "tackle"
                    r.tackler = int(np.argmin(d)) + (opp.start or 0)
                if t in r.events:
                    phase[p], dead_t[p] = 3, t
            if phase[p] == 3 and t >= dead_t[p] + settle[p]:
                done[p], end_t[p] = True, t
        if done.all():
            break

        # ---- targets -------------------------------------------------------------------------------
        tgt = pos.copy()
        ve = np.zeros((P, N))
        cap = vmax.copy()
        qb_pos = pos[:, QB]
        is_pass = ptype != 1
        # quarterback
        qb_t = np.where((is_pass & (phase == 0))[:, None], drop_pt, qb_pos + [0.5, 0.0])
        run_qb = (ptype == 1)
        qb_t = np.where((run_qb & (t < handoff_t))[:, None], start[:, QB] + [-1.2, 0.0], qb_t)
        tgt[:, QB] = qb_t
        cap[:, QB] = np.where(phase == 0, np.minimum(vmax[:, QB], 5.5), 2.5)
        # offensive line
        ol = role == R_OL
        ol_t = start + np.where(is_pass[:, None, None], ol_set, -ol_set * 1.2)
        tgt = np.where(ol[..., None], ol_t, tgt)
        cap = np.where(ol, np.minimum(cap, 3.2), cap)
        # pass-protecting backs/tight ends, run blockers
        blk = role == R_BLOCK
        side = np.sign(start[..., 1] - start[:, QB, 1][:, None])
        blk_pass = qb_pos[:, None, :] + np.stack([np.full((P, N), 1.2), 1.8 * side], -1)
        blk_run = start + [3.5, 0.0]
        tgt = np.where(blk[..., None], np.where(is_pass[:, None, None], blk_pass, blk_run), tgt)
        cap = np.where(blk, np.minimum(cap, 4.0), cap)
        # route runners
        rt = role == R_ROUTE
        if rt.any():
            wpt = np.take_along_axis(wp, cur[..., None, None].repeat(2, -1), axis=2)[:, :, 0]
            d_wp = np.linalg.norm(wpt - pos, axis=-1)
            adv = rt & (d_wp < 1.2) & (cur < n_wp - 1)
            cur = cur + adv
            wpt = np.take_along_axis(wp, cur[..., None, None].repeat(2, -1), axis=2)[:, :, 0]
            tgt = np.where(rt[..., None], wpt, tgt)
            ve = np.where(rt, np.take_along_axis(wp_v, cur[..., None], axis=2)[..., 0], ve)
            late = rt & (t > throw_t + 4)[:, None] & (np.arange(N)[None, :] != target[:, None])
            cap = np.where(late, vmax * 0.55, cap)
        # runner on run plays
        rn = role == R_RUNNER
        if rn.any():
            pre = (t < handoff_t)[:, None]
            mesh = start[:, QB] + [-0.3, 0.0]
            mesh[:, 1] += np.sign(gap_y - start[:, QB, 1]) * 1.0
            behind = pos[..., 0] < (los + 1.5)[:, None]
            run_t = np.where(behind[..., None], np.stack([los + 2.0, gap_y], -1)[:, None, :],
                             np.stack([pos[..., 0] + 10.0, pos[..., 1] + (gap_y - FIELD_W / 2)[:, None] * 0.1], -1))
            rn_t = np.where(pre[..., None], mesh[:, None, :], run_t)
            tgt = np.where(rn[..., None], rn_t, tgt)
            ve = np.where(rn, np.where(pre, 2.0, vmax), ve)
        # pass rush: engage at the pocket edge; the sack rusher gets free after free_t
        ru = role == R_RUSH
        pocket = qb_pos + [1.3, 0.0]
        tgt = np.where(ru[..., None], pocket[:, None, :] + (start - start[:, QB:QB + 1]) * [0.0, 0.25], tgt)
        cap = np.where(ru, np.where(t < 4, 3.5, 2.4), cap)
        sk = (ptype == 2) & (t >= free_t) & (phase == 0)
        if sk.any():
            ps = pidx[sk]
            tgt[ps, sack_slot[sk]] = qb_pos[sk]
            ve[ps, sack_slot[sk]] = vmax[ps, sack_slot[sk]]
            cap[ps, sack_slot[sk]] = vmax[ps, sack_slot[sk]]
        # man coverage: mirror the receiver as seen `react` frames ago, with a cushion
        mn = role == R_MAN
        if mn.any():
            td = np.maximum(t - react, 0)
            mo = np.maximum(man_of, 0)
            rp = hist_pos[td, pidx[:, None], mo]
            rv = hist_vel[td, pidx[:, None], mo]
            inside = -np.sign(rp[..., 1] - FIELD_W / 2)
            cushion = np.stack([np.full((P, N), 1.4), 0.7 * inside], -1)
            m_t = rp + rv * 0.15 + cushion
            tgt = np.where(mn[..., None], m_t, tgt)
            ve = np.where(mn, np.linalg.norm(rv, axis=-1), ve)
        # zone: sit on the landmark, carry the nearest route runner through it; deep defenders stay on top
        zn = role == R_ZONE
        if zn.any():
            td = np.maximum(t - 3, 0)
            rp = hist_pos[td]
            rrt = rt & (t > 2)
            d = np.linalg.norm(landmark[:, :, None, :] - rp[:, None, :, :], axis=-1)   # (P, def, rec)
            d = np.where(rrt[:, None, :], d, 1e9)
            j = np.argmin(d, axis=2)
            dmin = np.take_along_axis(d, j[..., None], axis=2)[..., 0]
            rec = rp[pidx[:, None], j]
            w = np.clip(1.0 - dmin / 9.0, 0.0, 0.85)[..., None]
            z_t = landmark + (rec + [1.5, 0.0] - landmark) * w
            lat = np.abs(landmark[:, :, None, 1] - rp[:, None, :, 1]) < 12
            top = np.where(lat & rrt[:, None, :], rp[:, None, :, 0], -1e9).max(axis=2) + 3.5
            z_t[..., 0] = np.where(deep, np.maximum(z_t[..., 0], top), z_t[..., 0])
            tgt = np.where(zn[..., None], z_t, tgt)
            ve = np.where(zn, w[..., 0] * 6.0, ve)
        # run defence: everybody flows to the ball carrier after a read
        run_d = (ptype == 1)[:, None] & IS_DEF[None, :] & (t >= handoff_t[:, None] + react)
        if run_d.any():
            bc = pos[pidx, np.maximum(carrier, 0)] + vel[pidx, np.maximum(carrier, 0)] * 0.4
            tgt = np.where(run_d[..., None], bc[:, None, :], tgt)
            ve = np.where(run_d, vmax, ve)
            cap = np.where(run_d & ru, np.where((t < handoff_t + 12)[:, None], 2.2, vmax * 0.8), cap)
        # ball in the air: the target works to the arrival point, defenders break on it
        if air.any():
            rem = np.maximum(arr_t - t, 1) * DT
            brk = air[:, None] & IS_DEF[None, :] & ~ru & (t >= throw_t[:, None] + react)
            tr = pos[pidx, np.maximum(target, 0)]
            aim = 0.3 * tr + 0.7 * arr_pt
            tgt = np.where(brk[..., None], aim[:, None, :], tgt)
            ve = np.where(brk, 5.0, ve)
            cap = np.where(brk, vmax, cap)
        # after the throw the linemen, the quarterback and the rushers drift towards the ball
        if air.any() or (phase == 2).any():
            flow = ((phase >= 1) & (phase < 3) & (ptype != 1))[:, None] & ((role == R_OL) | ru | (np.arange(N) == QB)[None, :])
            flow &= (t >= throw_t[:, None] + react) | (phase == 2)[:, None]
            goal = np.where(air[:, None], arr_pt, pos[pidx, np.maximum(carrier, 0)])
            tgt = np.where(flow[..., None], goal[:, None, :], tgt)
            ve = np.where(flow, 3.0, ve)
            cap = np.where(flow, np.minimum(vmax, np.where(ru, 6.5, 4.5)), cap)
        # after a catch / interception / handoff: carrier runs, the other side pursues
        car = phase == 2
        if car.any():
            c = np.maximum(carrier, 0)
            cpos, cvel = pos[pidx, c], vel[pidx, c]
            c_def = c >= DF0
            pursuers = car[:, None] & (IS_DEF[None, :] != c_def[:, None]) & (t >= phase2_t[:, None] + react // 2)
            tgt = np.where(pursuers[..., None], (cpos + cvel * 0.5)[:, None, :], tgt)
            ve = np.where(pursuers, vmax, ve)
            cap = np.where(pursuers & ~(ru & (ptype == 1)[:, None]), vmax, cap)
            dirn = np.where(c_def, -1.0, 1.0)
            ahead = np.stack([cpos[:, 0] + 10 * dirn, np.clip(cpos[:, 1] + cvel[:, 1] * 0.6, -1, FIELD_W + 1)], -1)
            pc = pidx[car]
            tgt[pc, c[car]] = ahead[car]
            ve[pc, c[car]] = vmax[pc, c[car]]
            cap[pc, c[car]] = vmax[pc, c[car]] * 0.95
        # dead ball: everybody pulls up
        dead = phase == 3
        if dead.any():
            tgt = np.where(dead[:, None, None], pos + vel * 0.15, tgt)
            ve = np.where(dead[:, None], 0.0, ve)
        # wander: small correlated noise on every target so that no two plays are identical
        wobble = 0.9 * wobble + rng.normal(0, 0.04, size=wobble.shape)
        tgt = tgt + wobble

        # ---- steering ---------------------------------------------------------------------------------
        to = tgt - pos
        dist = np.linalg.norm(to, axis=-1)
        brake = 0.8 * amax
        v_des = np.minimum(np.minimum(cap, vmax), np.sqrt(ve ** 2 + 2 * brake * dist))
        v_des = np.minimum(v_des, ve + dist / 0.5)  # settle on a target instead of hunting around it
        v_des = np.where(dist < 0.05, 0.0, v_des)
        dvec = _unit(to) * v_des[..., None]
        # guided receiver: arrive at the arrival point on time
        if air.any():
            pa = pidx[air]
            ta = target[air]
            rem = np.maximum(arr_t[air] - t, 1) * DT
            g = (arr_pt[air] - pos[pa, ta]) / rem[:, None]
            gn = np.linalg.norm(g, axis=-1, keepdims=True)
            dvec[pa, ta] = g * np.minimum(1.0, vmax[pa, ta][:, None] / np.maximum(gn, 1e-9))
        intent = intent + (dvec - intent) * INTENT_GAIN  # intentions change smoothly, not frame to frame
        dv = (intent - vel) * TAU_GAIN
        dvn = np.linalg.norm(dv, axis=-1)
        # available acceleration falls as a player nears top speed (the classic sprint profile)
        lim = amax * DT * (1.0 - 0.6 * np.linalg.norm(vel, axis=-1) / vmax)
        scale = np.where(dvn > lim, lim / np.maximum(dvn, 1e-9), 1.0)
        vel = vel + dv * scale[..., None]
        sp = np.linalg.norm(vel, axis=-1)
        vel = vel * np.minimum(1.0, vmax / np.maximum(sp, 1e-9))[..., None]
        pos = pos + vel * DT
        pos[..., 1] = np.clip(pos[..., 1], -1.5, FIELD_W + 1.5)
        pos[..., 0] = np.clip(pos[..., 0], -1.5, 121.5)
    else:
        end_t[~done] = T_MAX - 1

    for p in range(P):
        e = int(end_t[p])
        r = res[p]
        r.end_t = e
        r.pos = hist_pos[: e + 1, p].copy()
        r.vel = hist_vel[: e + 1, p].copy()
        r.ball = ball[: e + 1, p].copy()
        if r.pass_result == "NA" and ptype[p] == 0:
            r.pass_result = "I"
        dtk = min(int(dead_t[p]), e)
        c_last = r.tackler
        if r.pass_result == "C":
            r.gain = float(r.pos[dtk, r.target, 0] - los[p])
        elif r.pass_result == "S":
            r.gain = float(r.pos[dtk, QB, 0] - los[p])
        elif ptype[p] == 1:
            runner = int(np.argmax(role[p] == R_RUNNER)) if (role[p] == R_RUNNER).any() else QB
            r.gain = float(r.pos[dtk, runner, 0] - los[p])
        del c_last
    return res


def _throw(p, t, pos, vel, role, los, rng, target, arr_pt, arr_t, thr_pt, ball, flight_v):
    """The read: more often to the open man, not always. Lead him to where he will be."""
    recs = np.flatnonzero(role[p] == R_ROUTE)
    defs = np.flatnonzero((role[p] == R_MAN) | (role[p] == R_ZONE))
    if len(defs) == 0:
        defs = np.arange(DF0, N)
    if len(recs) == 0:
        recs = np.arange(SK0, DF0)
    pr = pos[p]
    d = np.linalg.norm(pr[recs][:, None, :] - pr[defs][None, :, :], axis=-1).min(axis=1)
    depth = pos[p, recs, 0] - los[p]
    reach = np.linalg.norm(pr[recs] - pr[QB], axis=1)
    score = 0.6 * np.minimum(d, 6.0) - 0.18 * reach + 0.03 * np.clip(depth, -2, 15) + rng.gumbel(0, 0.9, len(recs))
    r = int(recs[int(np.argmax(score))])
    q = ball[t, p]
    T = 0.8
    for _ in range(4):
        pt = pos[p, r] + vel[p, r] * T
        pt[1] = np.clip(pt[1], 0.5, FIELD_W - 0.5)
        pt[0] = min(pt[0], 118.5)
        dist = float(np.linalg.norm(pt - q))
        vb = float(np.clip(12.5 + 0.38 * dist, 13.0, 24.0))
        T = dist / vb + 0.1
    err = rng.normal(0, 0.25 + 0.02 * dist, 2)
    target[p] = r
    arr_pt[p] = pt + err
    arr_t[p] = t + max(3, int(round(T * 10)))
    thr_pt[p] = q
    flight_v[p] = (arr_pt[p] - q) / max((arr_t[p] - t) * DT, DT)


def _outcome(p, t, pos, target, arr_pt, thr_pt, rng, r: PlayResult):
    """Catch probability from separation, air distance, crowding, sideline and how far off the throw was."""
    rp = pos[p, target[p]]
    dd = np.linalg.norm(pos[p, DF0:] - rp, axis=1)
    sep = float(dd.min())
    air = float(np.linalg.norm(arr_pt[p] - thr_pt[p]))
    miss = float(np.linalg.norm(arr_pt[p] - rp))
    sideline = float(min(rp[1], FIELD_W - rp[1]))
    crowd = int((dd < 2.0).sum())
    z = (-0.8 + 0.95 * min(sep, 4.0) - 0.05 * air - 1.2 * max(miss - 0.7, 0.0)
         - 0.7 * (sideline < 1.5) - 0.4 * max(crowd - 1, 0))
    pc = 1.0 / (1.0 + np.exp(-z))
    u = rng.random()
    if u < pc:
        res = "C"
    else:
        p_int = 0.60 * np.exp(-sep / 0.9) * min(1.0, 0.3 + air / 20.0)
        res = "IN" if rng.random() < p_int else "I"
    r.pass_result, r.separation, r.air_dist, r.catch_prob = res, sep, air, float(pc)
