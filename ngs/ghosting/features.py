"""Candidate features per window (one player, one observation window) and gradient-boosting screening.

Every feature lives in a translation / rotation-normalised frame: origin at the player's last observed
position, +x along his last observed velocity (``local`` below), so "ahead" and "to the left" mean the
same for every player on every play. Units: yards, yd/s, yd/s^2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ngs.constants import field_length_yd, field_width_yd, frame_rate_hz
from ngs.ghosting.baselines import constant_acceleration
from ngs.ghosting.data import META_COLUMNS, Windows

# Always given to the network whatever the screening says: without its own motion it cannot extrapolate.
CORE_FEATURES = ("speed_yps", "accel_long_yps2", "accel_lat_yps2")
N_NEAREST = 2


def frames_basis(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Origin (n, 2) and rotation (n, 2, 2) so that ``local = (p - origin) @ R.T`` has +x along the last
    observed velocity (falls back to the whole-window displacement, then to the world axes)."""
    origin = obs[:, -1, :]
    v = obs[:, -1, :] - obs[:, -2, :] if obs.shape[1] >= 2 else np.zeros_like(origin)
    disp = obs[:, -1, :] - obs[:, 0, :]
    small = np.linalg.norm(v, axis=1) < 1e-3
    v = np.where(small[:, None], disp, v)
    small = np.linalg.norm(v, axis=1) < 1e-3
    ang = np.where(small, 0.0, np.arctan2(v[:, 1], v[:, 0]))
    c, s = np.cos(ang), np.sin(ang)
    rot = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], 1)  # rows: heading, left normal
    return origin, rot


def to_local(p: np.ndarray, origin: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Positions (n, ..., 2) to the local frame of each window."""
    shp = p.shape
    q = (p.reshape(shp[0], -1, 2) - origin[:, None, :]) @ np.transpose(rot, (0, 2, 1))
    return q.reshape(shp)


def vec_to_local(v: np.ndarray, rot: np.ndarray) -> np.ndarray:
    shp = v.shape
    return (v.reshape(shp[0], -1, 2) @ np.transpose(rot, (0, 2, 1))).reshape(shp)


def to_world(q: np.ndarray, origin: np.ndarray, rot: np.ndarray) -> np.ndarray:
    shp = q.shape
    p = q.reshape(shp[0], -1, 2) @ rot + origin[:, None, :]
    return p.reshape(shp)


def frames_to_arrival(w: Windows) -> np.ndarray:
    """Frames from the last observed frame to the ball's arrival, from ``key['play_last_frame']`` (the last
    frame of the play's tracks, set by ``data.build_windows``; BDB 2026 gives it as ``num_frames_output``);
    NaN when unknown."""
    if "play_last_frame" not in w.key:
        return np.full(len(w), np.nan)
    return (pd.to_numeric(w.key["play_last_frame"], errors="coerce").to_numpy(dtype=float)
            - (w.key["start_frame"].to_numpy(dtype=float) + w.history - 1))


def candidate_features(w: Windows) -> pd.DataFrame:
    """The full candidate table, one row per window (NaN where a feature is unknown for that window)."""
    fps = frame_rate_hz()
    obs = w.obs
    n, h, _ = obs.shape
    origin, rot = frames_basis(obs)
    loc = to_local(obs, origin, rot)
    f: dict[str, np.ndarray] = {}
    vel = np.diff(loc, axis=1) * fps  # (n, h-1, 2)
    for k in range(h - 1):
        lag = h - 2 - k
        f[f"v_long_lag{lag}_yps"] = vel[:, k, 0]
        f[f"v_lat_lag{lag}_yps"] = vel[:, k, 1]
    f["speed_yps"] = np.linalg.norm(vel[:, -1], axis=1) if h >= 2 else np.zeros(n)
    if h >= 3:
        acc = np.diff(vel, axis=1) * fps
        f["accel_long_yps2"] = acc[:, -1, 0]
        f["accel_lat_yps2"] = acc[:, -1, 1]
        f["accel_mag_yps2"] = np.linalg.norm(acc[:, -1], axis=1)
    else:
        f["accel_long_yps2"] = np.zeros(n)
        f["accel_lat_yps2"] = np.zeros(n)
        f["accel_mag_yps2"] = np.zeros(n)
    if h >= 4:
        f["jerk_long_yps3"] = (acc[:, -1, 0] - acc[:, -2, 0]) * fps
    f["frames_since_throw"] = w.key["start_frame"].to_numpy(dtype=float) - 1.0
    # field: heading and room to the boundaries
    heading = rot[:, 0, :]  # world unit vector of +x local
    f["heading_world_x"] = heading[:, 0]
    f["heading_world_y"] = heading[:, 1]
    x, y = origin[:, 0], origin[:, 1]
    f["dist_sideline_yd"] = np.minimum(y, field_width_yd() - y)
    f["dist_endline_yd"] = np.minimum(x, field_length_yd() - x)
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.where(heading[:, 0] > 0, (field_length_yd() - x) / heading[:, 0],
                      np.where(heading[:, 0] < 0, -x / heading[:, 0], np.inf))
        ty = np.where(heading[:, 1] > 0, (field_width_yd() - y) / heading[:, 1],
                      np.where(heading[:, 1] < 0, -y / heading[:, 1], np.inf))
    f["room_ahead_yd"] = np.clip(np.minimum(tx, ty), 0, 60)

    # other players of the play (last observed frame)
    oth = w.others  # (n, k, h, 2)
    o_last = oth[:, :, -1, :]
    o_vel = (oth[:, :, -1, :] - oth[:, :, -2, :]) * fps if h >= 2 else np.zeros_like(o_last)
    rel = vec_to_local(o_last - origin[:, None, :], rot)
    own_v = (obs[:, -1] - obs[:, -2]) * fps if h >= 2 else np.zeros((n, 2))
    relv = vec_to_local(o_vel - own_v[:, None, :], rot)
    dist = np.linalg.norm(rel, axis=-1)
    present = ~np.isnan(dist)
    f["n_others"] = present.sum(axis=1).astype(float)
    d_sort = np.where(present, dist, np.inf)
    order = np.argsort(d_sort, axis=1)
    rows = np.arange(n)[:, None]
    for k in range(N_NEAREST):
        if k < order.shape[1]:
            j = order[:, k]
            ok = np.isfinite(d_sort[np.arange(n), j])
            for name, arr in (("rel_x_yd", rel[..., 0]), ("rel_y_yd", rel[..., 1]),
                              ("rel_vx_yps", relv[..., 0]), ("rel_vy_yps", relv[..., 1]), ("dist_yd", dist)):
                val = arr[np.arange(n), j]
                f[f"nn{k + 1}_{name}"] = np.where(ok, val, np.nan)
    with np.errstate(invalid="ignore"):
        cnt = present.sum(axis=1)
        f["others_centroid_x_yd"] = np.where(cnt > 0, np.nansum(rel[..., 0], 1) / np.maximum(cnt, 1), np.nan)
        f["others_centroid_y_yd"] = np.where(cnt > 0, np.nansum(rel[..., 1], 1) / np.maximum(cnt, 1), np.nan)
        f["others_mean_rel_vx_yps"] = np.where(cnt > 0, np.nansum(relv[..., 0], 1) / np.maximum(cnt, 1), np.nan)
        f["others_mean_rel_vy_yps"] = np.where(cnt > 0, np.nansum(relv[..., 1], 1) / np.maximum(cnt, 1), np.nan)
        # rate at which the others close on this player (yd/s, negative = converging on him)
        closing = (rel * relv).sum(-1) / np.where(dist > 1e-6, dist, np.nan)
        f["others_mean_closing_yps"] = np.where(cnt > 0, np.nansum(closing, 1) / np.maximum(cnt, 1), np.nan)
    # the targeted receiver (known in the warehouse, roster-inferred for BDB 2026; NaN when unknown)
    f["is_target"] = w.is_target.astype(float)
    tmask = w.others_is_target == 1.0
    has_t = tmask.any(axis=1)
    tj = np.argmax(tmask, axis=1)
    for name, arr in (("rel_x_yd", rel[..., 0]), ("rel_y_yd", rel[..., 1]), ("rel_vx_yps", relv[..., 0]),
                      ("rel_vy_yps", relv[..., 1]), ("dist_yd", dist)):
        f[f"target_{name}"] = np.where(has_t, arr[np.arange(n), tj], np.nan)
    # time left in the flight, and where the target would be at the arrival at his current velocity
    tta = frames_to_arrival(w)
    f["frames_to_arrival"] = tta
    t_rel = np.stack([rel[np.arange(n), tj, 0], rel[np.arange(n), tj, 1]], -1) if rel.shape[1] else np.zeros((n, 2))
    t_vel = vec_to_local(o_vel[np.arange(n), tj], rot) if rel.shape[1] else np.zeros((n, 2))
    proj = t_rel + t_vel * (tta / fps)[:, None]
    f["target_at_arrival_x_yd"] = np.where(has_t, proj[:, 0], np.nan)
    f["target_at_arrival_y_yd"] = np.where(has_t, proj[:, 1], np.nan)
    # ball landing spot (warehouse: ball position at the arrival frame)
    ball = w.meta[:, [META_COLUMNS.index("ball_land_x"), META_COLUMNS.index("ball_land_y")]]
    brel = vec_to_local(ball - origin, rot)
    f["ball_rel_x_yd"] = brel[:, 0]
    f["ball_rel_y_yd"] = brel[:, 1]
    f["ball_dist_yd"] = np.linalg.norm(brel, axis=1)
    f["down"] = w.meta[:, META_COLUMNS.index("down")]
    f["yards_to_go"] = w.meta[:, META_COLUMNS.index("yards_to_go")]
    f["x_from_los_yd"] = x - w.meta[:, META_COLUMNS.index("yardline_x")]
    del rows
    return pd.DataFrame(f)


def residual_target(w: Windows) -> np.ndarray:
    """Truth minus the constant-acceleration extrapolation, in the local frame: (n, horizon, 2)."""
    origin, rot = frames_basis(w.obs)
    ca = constant_acceleration(w.obs, w.horizon)
    return vec_to_local(w.fut - ca, rot)


def screen_features(w: Windows, sample: int = 20000, seed: int = 0, min_share: float = 0.01,
                    n_repeats: int = 3, max_iter: int = 200) -> pd.DataFrame:
    """Rank candidate features by permutation importance of a HistGradientBoosting model that predicts
    the constant-acceleration residual at the last horizon step (along-track and cross-track, one model
    each; importances summed), fitted on a game-disjoint sample and scored on the rest.

    Returns feature, importance (drop in R^2, summed over the two components), importance_std,
    share (of the total positive importance), rank, selected (share >= ``min_share`` or a core feature).
    """
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance

    X = candidate_features(w)
    y = residual_target(w)[:, -1, :]
    ok = np.isfinite(y).all(axis=1)
    X, y, games = X[ok].reset_index(drop=True), y[ok], w.key["game_id"].to_numpy()[ok]
    rng = np.random.default_rng(seed)
    if len(X) > sample:
        idx = np.sort(rng.choice(len(X), sample, replace=False))
        X, y, games = X.iloc[idx].reset_index(drop=True), y[idx], games[idx]
    ug = np.unique(games)
    test_games = set(rng.choice(ug, max(1, len(ug) // 4), replace=False).tolist()) if len(ug) > 1 else set()
    te = np.isin(games, list(test_games)) if test_games else np.zeros(len(X), bool)
    if te.sum() < 10 or (~te).sum() < 10:
        te = np.arange(len(X)) % 4 == 0
    # a column that is NaN or constant on this data cannot matter (and breaks the binning): importance 0
    usable = np.array([X[c].nunique(dropna=True) > 1 for c in X.columns])
    Xu = X.loc[:, usable]
    imp = np.zeros(X.shape[1])
    var = np.zeros(X.shape[1])
    for comp in range(2):
        m = HistGradientBoostingRegressor(max_iter=max_iter, learning_rate=0.08, max_leaf_nodes=31,
                                          random_state=seed, early_stopping=False)
        m.fit(Xu[~te], y[~te, comp])
        r = permutation_importance(m, Xu[te], y[te, comp], n_repeats=n_repeats, random_state=seed, n_jobs=1)
        imp[usable] += r.importances_mean
        var[usable] += r.importances_std**2
    pos = np.clip(imp, 0, None)
    share = pos / pos.sum() if pos.sum() > 0 else pos
    out = pd.DataFrame({"feature": X.columns, "importance": imp, "importance_std": np.sqrt(var), "share": share})
    out = out.sort_values("importance", ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    # constant (all-NaN) columns on this data cannot matter
    informative = pd.Series(usable, index=X.columns).reindex(out["feature"]).to_numpy()
    out["selected"] = ((out["share"] >= min_share) & informative) | out["feature"].isin(CORE_FEATURES)
    return out
