"""QB decisions: counterfactual targets on hand-built plays (open vs covered receiver), the feature
definitions against fct_pass_features' hand-computed case, the flight-time model, eligibility, and the
rpt_qb_decisions SQL run in DuckDB on the options the package produced."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest

from ngs.completion import model as cm
from ngs.completion.features import FEATURE_COLUMNS
from ngs.constants import frame_rate_hz
from ngs.decisions import flight as fl
from ngs.decisions.features import arrival_features, nearest
from ngs.decisions.ghost import META_COLUMNS, rollout
from ngs.decisions.options import (
    FEATURE_ORDER,
    GHOSTED_GROUPS,
    OPTION_COLUMNS,
    RECEIVER_GROUPS,
    OptionConfig,
    build_options,
)
from ngs.decisions.scoring import CompletionScorer, rank_options
from ngs.decisions.warehouse import score_options, typed_options
from ngs.ghosting.baselines import constant_velocity
from ngs.ghosting.model import FeatureScaler, GhostConfig, GhostModel, ResidualMLP
from ngs.paths import REPO_ROOT

GAME, PLAY = 2030091000, 7
SNAP, THROW, LAST = 1, 21, 80
BALL_SNAP = (25.0, 26.65)
FLIGHT = {"simulated": fl.FlightModel(0.3, 20.0, method="fit")}


def _track(nfl_id, offense, group, x0, y0, vx=0.0, vy=0.0, play=PLAY, frames=range(SNAP, LAST + 1)):
    f = np.asarray(list(frames))
    t = (f - SNAP) / 10.0
    return pd.DataFrame({"game_id": GAME, "play_id": play, "nfl_id": nfl_id, "frame_id": f, "is_offense": offense,
                         "position_group": group, "x_std": x0 + vx * t, "y_std": y0 + vy * t,
                         "speed_yps": float(np.hypot(vx, vy)), "vx": vx, "vy": vy})


def hand_play(play: int = PLAY, target: int = 20) -> tuple[pd.DataFrame, pd.DataFrame]:
    """WR 10 runs up the left (y 5) alone; WR 20 runs up the right (y 40) with DB 30 one yard off his
    shoulder, step for step; a DL rushes; an OL and an unknown-position player stand at the ball at the
    snap (not eligible); an unknown-position player out wide (y 50) is eligible."""
    tracks = pd.concat([
        _track(1, True, "QB", 20.0, BALL_SNAP[1], play=play),
        _track(2, True, "OL", 25.0, BALL_SNAP[1], play=play),
        _track(3, True, None, 25.0, 28.0, play=play),
        _track(4, True, None, 25.0, 50.0, vx=3.0, play=play),
        _track(10, True, "WR", 25.0, 5.0, vx=7.0, play=play),
        _track(20, True, "WR", 25.0, 40.0, vx=7.0, play=play),
        _track(30, False, "DB", 26.0, 41.0, vx=7.0, play=play),
        _track(40, False, "DL", 22.0, 26.0, play=play),
    ], ignore_index=True)
    passes = pd.DataFrame([{
        "game_id": GAME, "play_id": play, "dataset": "simulated", "snap_frame_id": SNAP, "throw_frame_id": THROW,
        "arrival_frame_id": THROW + 15, "passer_nfl_id": 1, "target_nfl_id": target,
        "line_of_scrimmage_x_std": 25.0, "ball_throw_x_std": 20.0, "ball_throw_y_std": BALL_SNAP[1],
        "ball_arrival_x_std": np.nan, "ball_arrival_y_std": np.nan, "ball_snap_x_std": BALL_SNAP[0],
        "ball_snap_y_std": BALL_SNAP[1], "down": 1, "yards_to_go": 10}])
    return passes, tracks


def tiny_completion_models() -> dict:
    """A small calibrated completion model trained on synthetic features where separation at the arrival
    drives completion (deterministic: fixed seed, HGB random_state)."""
    rng = np.random.default_rng(0)
    n = 400
    # the features an option has (the play's stated context, e.g. route or coverage, is not an option's)
    X = pd.DataFrame({c: rng.uniform(0, 20, n) if c in FEATURE_ORDER else np.nan for c in FEATURE_COLUMNS})
    X["receiver_separation_arrival_yd"] = rng.uniform(0, 12, n)
    logit = 1.5 * (X["receiver_separation_arrival_yd"] - 3.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    groups = np.repeat(np.arange(8), n // 8)
    return {"simulated": cm.fit_final(X, y, groups)}


@pytest.fixture(scope="module")
def scorer() -> CompletionScorer:
    return CompletionScorer("cp-test", tiny_completion_models())


def untrained_ghost() -> GhostModel:
    """The ghosting network before training: its last layer is zero, so it returns the
    constant-acceleration extrapolation exactly, through the real feature and predict path."""
    feats = ["speed_yps", "accel_long_yps2", "accel_lat_yps2", "target_rel_x_yd", "target_rel_y_yd",
             "frames_since_throw"]
    cfg = GhostConfig(features=feats, hidden=8, layers=1)
    scaler = FeatureScaler(feats, [0.0] * len(feats), [1.0] * len(feats), [])
    return GhostModel(cfg, scaler, ResidualMLP(len(feats), cfg.horizon, cfg.hidden, cfg.layers), "ghost-test")


def ranked_options(scorer, ghost=None, plays=((PLAY, 20),)) -> pd.DataFrame:
    parts = [hand_play(p, t) for p, t in plays]
    passes = pd.concat([p for p, _ in parts], ignore_index=True)
    tracks = pd.concat([t for _, t in parts], ignore_index=True)
    options = build_options(passes, tracks, ghost, FLIGHT, OptionConfig())
    return rank_options(score_options(options, scorer))


# ------------------------------------------------------------------------------------------ definitions
def test_arrival_features_match_fct_pass_features_hand_computed_case():
    """The case of the dbt unit test test_fct_pass_features_hand_computed (pass 1)."""
    f = arrival_features(
        receiver_xy=np.array([[42.0, 3.0]]), receiver_v=np.array([[7.0, 0.0]]), receiver_speed=np.array([7.0]),
        defenders_xy=np.array([[[46.0, 3.0], [42.0, 5.0], [39.0, 3.0]]]),
        defenders_v=np.array([[[5.0, 0.0], [7.0, -2.0], [3.0, 0.0]]]),
        ball_throw_xy=np.array([[30.0, 8.0]]), line_of_scrimmage_x=np.array([35.0]), radius_yd=3.0)
    assert f["air_distance_yd"][0] == pytest.approx(13.0)
    assert f["receiver_separation_arrival_yd"][0] == pytest.approx(2.0)
    assert f["defender_closing_speed_arrival_yps"][0] == pytest.approx(2.0)
    assert f["defenders_within_radius_arrival"][0] == 2
    assert f["receiver_sideline_distance_arrival_yd"][0] == pytest.approx(3.0)
    assert f["pass_depth_yd"][0] == pytest.approx(7.0)
    assert f["nearest_defender_index"][0] == 1


def test_no_defender_gives_null_separation_and_zero_in_radius():
    f = arrival_features(np.array([[50.0, 24.0]]), np.zeros((1, 2)), np.array([3.0]), np.full((1, 1, 2), np.nan),
                         np.full((1, 1, 2), np.nan), np.array([[50.0, 20.0]]), np.array([45.0]), 3.0)
    assert np.isnan(f["receiver_separation_arrival_yd"][0])
    assert np.isnan(f["defender_closing_speed_arrival_yps"][0])
    assert f["defenders_within_radius_arrival"][0] == 0


def test_flight_time_fit_recovers_a_linear_law_and_falls_back():
    d = np.linspace(5, 50, 30)
    m = fl.fit(d, 0.4 + d / 18.0)
    assert m.intercept_s == pytest.approx(0.4) and m.ball_speed_yps == pytest.approx(18.0)
    assert m.mae_s == pytest.approx(0.0, abs=1e-9)
    assert fl.fit(d[:5], d[:5] / 18.0) is None                # too few passes
    assert fl.fit(d, 3.0 - d / 100.0) is None                 # slope <= 0
    passes = pd.DataFrame({"dataset": ["real"] * 3, "throw_frame_id": 10, "arrival_frame_id": [20, 25, 30],
                           "ball_throw_x_std": 0.0, "ball_throw_y_std": 0.0,
                           "ball_arrival_x_std": [10.0, 20.0, 30.0], "ball_arrival_y_std": 0.0})
    assert fl.fit_per_dataset(passes, 10.0)["real"] == fl.DEFAULT


def test_earliest_catchable_frame():
    still = np.tile([[20.0, 0.0]], (1, 50, 1))               # 20 yd away, standing: 0.3 + 20 / 20 = 1.3 s
    assert fl.earliest_catchable_frame(still, np.zeros((1, 2)), fl.FlightModel(0.3, 20.0), 10.0)[0] == 13
    fast = np.stack([np.arange(1, 51) * 5.0 + 20.0, np.zeros(50)], -1)[None]  # outruns the ball: closest time
    k = fl.earliest_catchable_frame(fast, np.zeros((1, 2)), fl.FlightModel(0.3, 1.0), 10.0)[0]
    assert 1 <= k <= 50


# ------------------------------------------------------------------------------------------ options
def test_eligible_receivers_skip_passer_linemen_and_players_at_the_ball():
    passes, tracks = hand_play()
    options = build_options(passes, tracks, None, FLIGHT)
    assert sorted(options["receiver_nfl_id"]) == [4, 10, 20]
    assert options.loc[options["receiver_nfl_id"] == 20, "is_actual_target"].item()
    assert set(options["route_method"]) == {"actual"}
    assert (options["n_ghosted_defenders"] == 1).all() and (options["n_other_defenders"] == 1).all()


def test_unknown_target_and_nullable_ids_are_handled():
    passes, tracks = hand_play()
    passes = passes.astype({"passer_nfl_id": "Int64", "target_nfl_id": "Int64", "snap_frame_id": "Int64"})
    passes["target_nfl_id"] = pd.NA
    options = build_options(passes, tracks, None, FLIGHT)
    assert sorted(options["receiver_nfl_id"]) == [4, 10, 20]
    assert not options["is_actual_target"].any()


def test_route_and_flight_follow_the_receiver():
    passes, tracks = hand_play()
    opt = build_options(passes, tracks, None, FLIGHT).set_index("receiver_nfl_id")
    for rid, y in ((10, 5.0), (20, 40.0)):
        k = opt.loc[rid, "flight_frames"]
        x = 25.0 + 7.0 * (THROW + k - SNAP) / 10.0
        assert opt.loc[rid, "landing_x_std"] == pytest.approx(x)
        assert opt.loc[rid, "landing_y_std"] == pytest.approx(y)
        dist = np.hypot(x - 20.0, y - BALL_SNAP[1])
        assert k / 10.0 >= 0.3 + dist / 20.0 > (k - 1) / 10.0   # earliest catchable frame
        assert opt.loc[rid, "air_distance_yd"] == pytest.approx(dist)
    # the DB runs step for step with WR 20: one yard behind and one outside, at the arrival too
    assert opt.loc[20, "receiver_separation_arrival_yd"] == pytest.approx(np.sqrt(2.0), abs=1e-6)
    assert opt.loc[20, "nearest_defender_nfl_id"] == 30
    assert opt.loc[10, "receiver_separation_arrival_yd"] > 10.0


def test_route_past_the_end_of_tracking_is_extrapolated():
    passes, tracks = hand_play()
    tracks = tracks[~((tracks["nfl_id"] == 10) & (tracks["frame_id"] > THROW + 5))]
    opt = build_options(passes, tracks, None, FLIGHT).set_index("receiver_nfl_id")
    assert opt.loc[10, "route_method"] == "extrapolated_constant_velocity"
    k = opt.loc[10, "flight_frames"]
    assert opt.loc[10, "landing_x_std"] == pytest.approx(25.0 + 7.0 * (THROW + k - SNAP) / 10.0)


def test_open_receiver_beats_covered_one_and_is_the_best_option(scorer):
    for ghost in (None, untrained_ghost()):
        opt = ranked_options(scorer, ghost).set_index("receiver_nfl_id")
        assert opt.loc[10, "completion_probability"] > opt.loc[20, "completion_probability"]
        best = opt[opt["is_best_option"]]
        assert len(best) == 1
        assert opt.loc[10, "receiver_separation_arrival_yd"] > opt.loc[20, "receiver_separation_arrival_yd"]
        assert opt.loc[20, "cp_below_best"] > 0
        assert opt.loc[best.index[0], "receiver_separation_arrival_yd"] > 10.0  # no defender within 10 yd
        assert opt.loc[20, "option_rank"] > 1


def test_ghosting_model_adapter_equals_constant_acceleration_when_untrained(scorer):
    a = ranked_options(scorer, None).sort_values("receiver_nfl_id").reset_index(drop=True)
    b = ranked_options(scorer, untrained_ghost()).sort_values("receiver_nfl_id").reset_index(drop=True)
    pd.testing.assert_series_equal(a["receiver_separation_arrival_yd"], b["receiver_separation_arrival_yd"],
                                   atol=1e-5)


# ------------------------------------------------------------------------------------------ the SQL mart
def run_mart(options: pd.DataFrame, closing: pd.DataFrame, players: pd.DataFrame, min_attempts: int) -> pd.DataFrame:
    """models/marts/decisions/rpt_qb_decisions.sql rendered (ref -> table, var -> value) and run in DuckDB."""
    sql = (Path(REPO_ROOT) / "models" / "marts" / "decisions" / "rpt_qb_decisions.sql").read_text()
    rendered = jinja2.Template(sql).render(ref=lambda name: name,
                                           var=lambda name, default=None: {"min_qb_attempts": min_attempts}[name])
    con = duckdb.connect()
    for name, frame in (("fct_target_options", options), ("fct_closing_scores", closing), ("dim_players", players)):
        con.register(name, frame)
    return con.execute(rendered).df()


def test_decision_stats_pick_the_open_receiver(scorer):
    # QB 1 throws twice to the covered receiver (plays 7, 8); a second passer on play 9 throws to the open one
    opt = ranked_options(scorer, untrained_ghost(), plays=((7, 20), (8, 20), (9, 10)))
    opt.loc[opt["play_id"] == 9, "passer_nfl_id"] = 2
    table = typed_options(opt)
    closing = pd.DataFrame({"game_id": [GAME], "play_id": [7], "nfl_id": [30], "dataset": ["simulated"],
                            "condition": ["real"], "score": [-0.25]})
    players = pd.DataFrame({"nfl_id": [1, 2], "display_name": ["Covered Thrower", "Open Thrower"],
                            "position": ["QB", "QB"]})
    out = run_mart(table, closing, players, min_attempts=1).set_index("passer_nfl_id")
    assert out.loc[1, "attempts"] == 2
    assert out.loc[1, "best_option_share"] == 0.0
    assert out.loc[1, "cp_given_up"] > 0
    assert out.loc[1, "mean_defender_closing_score"] == pytest.approx(-0.25)
    assert out.loc[2, "best_option_share"] == 1.0
    assert out.loc[2, "cp_given_up"] == pytest.approx(0.0)
    assert list(run_mart(table, closing, players, min_attempts=3)["passer_nfl_id"]) == []


def test_rollout_past_the_horizon_and_speed_cap():
    from ngs.decisions.ghost import rollout

    t = np.arange(3) / 10.0
    obs = np.stack([30.0 + 11.0 * t + 5.0 * t**2, np.full(3, 20.0)], -1)[None, None]   # 11 yd/s, +10 yd/s^2
    receiver = np.stack([np.linspace(40, 60, 28), np.full(28, 20.0)], -1)[None]
    meta = np.array([[60.0, 20.0, 1.0, 10.0, 25.0]])
    res = rollout(None, obs, receiver, meta, np.array([25]), history=3, horizon=10)
    path = res.paths[0, 0]
    assert np.isfinite(path[:3 + 25]).all()                      # three 10-frame windows cover 25 frames
    steps = np.linalg.norm(np.diff(path[2:3 + 25], axis=0), axis=-1)
    assert steps.max() <= 12.5 / 10 + 1e-9
    assert res.steps[0] == 25 and res.capped_steps[0] > 0


# ------------------------------------------------------------------------------- vectorised = per pass
# The per-pass implementation the vectorised build replaced (ngs/decisions/options.py before the season-scale
# rewrite), kept verbatim as the reference: build_options must give the same options on awkward plays.
@dataclass
class _RefPlay:
    row: pd.Series
    ids: np.ndarray
    pos: np.ndarray          # (P, F, 2), frame index 0 = throw - history + 1
    vel: np.ndarray          # (P, F, 2)
    speed: np.ndarray        # (P, F)
    is_offense: np.ndarray   # (P,) 1 / 0 / NaN
    group: np.ndarray        # (P,) object, None when unknown
    snap_xy: np.ndarray      # (P, 2)


def _ref_first_valid(s: pd.Series):
    s = s.dropna()
    return s.iloc[0] if len(s) else None


def _ref_play_arrays(row: pd.Series, grp: pd.DataFrame, cfg: OptionConfig) -> _RefPlay:
    h, F = cfg.history, cfg.history + cfg.max_flight_frames
    base = int(row["throw_frame_id"]) - h + 1
    ids = np.sort(grp["nfl_id"].unique())
    index = {int(n): i for i, n in enumerate(ids)}
    P = len(ids)
    pos = np.full((P, F, 2), np.nan)
    vel = np.full((P, F, 2), np.nan)
    speed = np.full((P, F), np.nan)
    win = grp[(grp["frame_id"] >= base) & (grp["frame_id"] < base + F)]
    r = win["nfl_id"].map(index).to_numpy()
    c = win["frame_id"].to_numpy() - base
    pos[r, c] = win[["x_std", "y_std"]].to_numpy(float)
    vel[r, c] = win[["vx", "vy"]].to_numpy(float)
    speed[r, c] = win["speed_yps"].to_numpy(float)
    attrs = grp.groupby("nfl_id").agg(is_offense=("is_offense", _ref_first_valid),
                                      group=("position_group", _ref_first_valid)).reindex(ids)
    is_off = np.array([np.nan if v is None or pd.isna(v) else float(bool(v)) for v in attrs["is_offense"]])
    snap_xy = np.full((P, 2), np.nan)
    if pd.notna(row.get("snap_frame_id")):
        snap = grp[grp["frame_id"] == int(row["snap_frame_id"])]
        snap_xy[snap["nfl_id"].map(index).to_numpy()] = snap[["x_std", "y_std"]].to_numpy(float)
    groups = np.array([None if v is None or pd.isna(v) else str(v) for v in attrs["group"]], dtype=object)
    return _RefPlay(row, ids, pos, vel, speed, is_off, groups, snap_xy)


def _ref_eligible_receivers(play: _RefPlay, cfg: OptionConfig) -> np.ndarray:
    """Indices of the play's eligible receivers (see the module docstring)."""
    h = cfg.history
    row = play.row
    on_field = ~np.isnan(play.pos[:, h - 1, 0])
    offense = (play.is_offense == 1.0) & on_field & (play.ids != row["passer_nfl_id"])
    by_group = np.isin(play.group.astype(str), RECEIVER_GROUPS)
    ball_snap = np.array([row.get("ball_snap_x_std", np.nan), row.get("ball_snap_y_std", np.nan)], float)
    d_snap = np.linalg.norm(play.snap_xy - ball_snap, axis=1)
    unknown_ok = np.array([g is None for g in play.group]) & ~(d_snap <= cfg.lineman_radius_yd)
    target = (play.ids == row["target_nfl_id"]) & on_field if pd.notna(row["target_nfl_id"]) else False
    return np.flatnonzero((offense & (by_group | unknown_ok)) | target)


def _ref_receiver_route(play: _RefPlay, i: int, cfg: OptionConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Receiver ``i``'s positions, velocities and speeds over the window, real while tracked without a gap
    from the throw, constant velocity after; and the last window index that is real."""
    h, F = cfg.history, cfg.history + cfg.max_flight_frames
    pos, vel, spd = play.pos[i].copy(), play.vel[i].copy(), play.speed[i].copy()
    # before the throw: backfill missing early frames with the first known one (no motion)
    first = int(np.flatnonzero(~np.isnan(pos[:h, 0]))[0])
    pos[:first], vel[:first], spd[:first] = pos[first], vel[first], spd[first]
    gap = np.flatnonzero(np.isnan(pos[h - 1:, 0]))
    last = h - 1 + (int(gap[0]) - 1 if len(gap) else F - h)
    if last < F - 1:
        fps = frame_rate_hz()
        v = vel[last] / fps if np.isfinite(vel[last]).all() else (
            pos[last] - pos[last - 1] if last >= 1 else np.zeros(2))
        obs = np.stack([pos[last] - v, pos[last]])
        pos[last + 1:] = constant_velocity(obs, F - 1 - last)
        vel[last + 1:] = v * fps
        spd[last + 1:] = np.linalg.norm(v) * fps
    vel = np.where(np.isnan(vel), 0.0, vel)
    spd = np.where(np.isnan(spd), np.linalg.norm(vel, axis=-1), spd)
    return pos, vel, spd, last


def _ref_held(arr: np.ndarray) -> np.ndarray:
    """Forward-fill along axis 1 (frames), then backfill the leading NaNs."""
    if not len(arr):  # the one change: the original raised on a play with no unghosted defender
        return arr.copy()
    out = pd.DataFrame(arr.reshape(arr.shape[0], arr.shape[1], -1).transpose(1, 0, 2).reshape(arr.shape[1], -1))
    out = out.ffill().bfill().to_numpy()
    return out.reshape(arr.shape[1], arr.shape[0], -1).transpose(1, 0, 2).reshape(arr.shape)


def reference_build_options(passes: pd.DataFrame, tracks: pd.DataFrame, ghost_model, flight_models: dict[str, fl.FlightModel],
                  cfg: OptionConfig, arrival_override: dict | None = None,
                  only_actual: bool = False, ghost_defenders: bool = True) -> pd.DataFrame:
    """One row per (pass, option) with the columns OPTION_COLUMNS (ghost_steps: ghosted defender-frames;
    ghost_steps_capped: those shortened to the speed cap).

    ``arrival_override``: {(game_id, play_id, receiver_nfl_id): frames after the throw} replaces the flight
    model for those options (the consistency check uses the real arrival for the real target).
    ``only_actual``: build the actual target's option only.
    ``ghost_defenders=False``: every defender keeps his tracked positions (a diagnostic: what is left of
    the consistency gap without ghosting).
    """
    fps = frame_rate_hz()
    h, K = cfg.history, cfg.max_flight_frames
    recs: list[dict] = []
    obs_l, rec_l, meta_l, k_l, other_xy_l, other_v_l, other_id_l, ghost_id_l = [], [], [], [], [], [], [], []
    tracks = tracks[tracks["nfl_id"].notna()]
    passes = passes.copy()
    numeric = ["passer_nfl_id", "target_nfl_id", "snap_frame_id", "throw_frame_id", "line_of_scrimmage_x_std",
               "ball_throw_x_std", "ball_throw_y_std", "ball_snap_x_std", "ball_snap_y_std", "down", "yards_to_go"]
    for c in numeric:  # nullable integers (pd.NA) -> float NaN, so comparisons are plain False
        passes[c] = pd.to_numeric(passes[c], errors="coerce").astype(float) if c in passes else np.nan
    by_play = {key: g for key, g in tracks.groupby(["game_id", "play_id"], sort=False)}
    for _, row in passes.sort_values(["game_id", "play_id"]).iterrows():
        grp = by_play.get((row["game_id"], row["play_id"]))
        if grp is None or pd.isna(row["throw_frame_id"]):
            continue
        play = _ref_play_arrays(row, grp, cfg)
        on_field = ~np.isnan(play.pos[:, h - 1, 0])
        defense = (play.is_offense == 0.0) & on_field
        if not defense.any():
            continue
        groups_known = any(g is not None for g in play.group[defense])
        ghosted = defense & (np.isin(play.group.astype(str), GHOSTED_GROUPS) if groups_known else True)
        if not ghost_defenders:
            ghosted = np.zeros_like(defense)
        others = defense & ~ghosted
        g_idx, o_idx = np.flatnonzero(ghosted), np.flatnonzero(others)
        obs = play.pos[g_idx, :h].copy()
        for j in range(len(g_idx)):  # backfill missing frames before the throw
            first = int(np.flatnonzero(~np.isnan(obs[j, :, 0]))[0])
            obs[j, :first] = obs[j, first]
        oth_pos, oth_vel = _ref_held(play.pos[o_idx]), np.nan_to_num(_ref_held(play.vel[o_idx]))
        passer = np.flatnonzero(play.ids == row["passer_nfl_id"])
        passer_xy = play.pos[passer[0], h - 1] if len(passer) else np.full(2, np.nan)
        passer_speed = play.speed[passer[0], h - 1] if len(passer) else np.nan
        ball = np.array([row["ball_throw_x_std"], row["ball_throw_y_std"]], float)
        if not np.isfinite(ball).all():
            ball = passer_xy
        if not np.isfinite(ball).all():
            continue
        def_throw = play.pos[defense, h - 1]
        rusher = nearest(passer_xy[None], def_throw[None])[0][0] if len(passer) else np.nan
        time_to_throw = ((row["throw_frame_id"] - row["snap_frame_id"]) / fps
                         if pd.notna(row.get("snap_frame_id")) else np.nan)
        fm = flight_models.get(str(row["dataset"]), fl.DEFAULT)
        receivers = _ref_eligible_receivers(play, cfg)
        if only_actual:
            receivers = receivers[play.ids[receivers] == row["target_nfl_id"]]
        meta_base = [np.nan, np.nan, row.get("down", np.nan), row.get("yards_to_go", np.nan),
                     row["line_of_scrimmage_x_std"]]
        for i in receivers:
            rid = int(play.ids[i])
            route, rvel, rspd, last_real = _ref_receiver_route(play, i, cfg)
            key = (row["game_id"], row["play_id"], rid)
            if arrival_override is not None and key in arrival_override:
                k = int(np.clip(arrival_override[key], 1, K))
            else:
                k = int(fl.earliest_catchable_frame(route[None, h:h + K], ball[None], fm, fps)[0])
            a = h - 1 + k
            meta = np.array(meta_base, float)
            meta[META_COLUMNS.index("ball_land_x")], meta[META_COLUMNS.index("ball_land_y")] = route[a]
            sep_throw = nearest(route[h - 1][None], def_throw[None])[0][0]
            recs.append({
                "game_id": row["game_id"], "play_id": row["play_id"], "dataset": row["dataset"],
                "passer_nfl_id": row["passer_nfl_id"], "receiver_nfl_id": rid,
                "receiver_position_group": play.group[i], "is_actual_target": rid == row["target_nfl_id"],
                "throw_frame_id": int(row["throw_frame_id"]), "arrival_frame_id": int(row["throw_frame_id"]) + k,
                "flight_frames": k, "flight_time_s": k / fps,
                "route_method": "actual" if a <= last_real else "extrapolated_constant_velocity",
                "landing_x_std": route[a, 0], "landing_y_std": route[a, 1],
                "receiver_separation_throw_yd": sep_throw, "passer_rusher_distance_throw_yd": rusher,
                "passer_speed_throw_yps": passer_speed, "time_to_throw_s": time_to_throw,
                "time_in_air_s": k / fps,
                "n_ghosted_defenders": len(g_idx), "n_other_defenders": len(o_idx),
                "_ball_x": ball[0], "_ball_y": ball[1], "_los": row["line_of_scrimmage_x_std"],
                "_rvx": rvel[a, 0], "_rvy": rvel[a, 1], "_rspeed": rspd[a],
            })
            obs_l.append(obs)
            rec_l.append(route)
            meta_l.append(meta)
            k_l.append(k)
            other_xy_l.append(oth_pos[:, a] if len(o_idx) else np.zeros((0, 2)))
            other_v_l.append(oth_vel[:, a] if len(o_idx) else np.zeros((0, 2)))
            other_id_l.append(play.ids[o_idx])
            ghost_id_l.append(play.ids[g_idx])
    if not recs:
        return pd.DataFrame(columns=OPTION_COLUMNS)
    n = len(recs)
    M = max(1, max(len(o) for o in obs_l))
    N = max(1, max(len(o) for o in other_xy_l))
    obs_a = np.full((n, M, h, 2), np.nan)
    oxy, ov = np.full((n, N, 2), np.nan), np.full((n, N, 2), np.nan)
    ids_all = np.full((n, M + N), -1, dtype=np.int64)
    for j in range(n):
        obs_a[j, :len(obs_l[j])] = obs_l[j]
        oxy[j, :len(other_xy_l[j])] = other_xy_l[j]
        ov[j, :len(other_v_l[j])] = other_v_l[j]
        ids_all[j, :len(ghost_id_l[j])] = ghost_id_l[j]
        ids_all[j, M:M + len(other_id_l[j])] = other_id_l[j]
    k_arr = np.asarray(k_l)
    res = rollout(ghost_model, obs_a, np.stack(rec_l), np.stack(meta_l), k_arr, h, cfg.horizon)
    rows = np.arange(n)
    a = h - 1 + k_arr
    gxy = res.paths[rows, :, a]                              # (n, M, 2)
    gv = (res.paths[rows, :, a] - res.paths[rows, :, a - 1]) * fps
    dxy = np.concatenate([gxy, oxy], axis=1)
    dv = np.concatenate([gv, ov], axis=1)
    out = pd.DataFrame(recs)
    feats = arrival_features(out[["landing_x_std", "landing_y_std"]].to_numpy(), out[["_rvx", "_rvy"]].to_numpy(),
                             out["_rspeed"].to_numpy(), dxy, dv, out[["_ball_x", "_ball_y"]].to_numpy(),
                             out["_los"].to_numpy(), cfg.radius_yd)
    idx = feats.pop("nearest_defender_index")
    for name, values in feats.items():
        out[name] = values
    out["pass_length_yd"] = out["pass_depth_yd"]
    near = np.where(idx >= 0, ids_all[rows, np.maximum(idx, 0)], -1)
    out["nearest_defender_nfl_id"] = pd.Series(near, dtype="Int64").mask(near < 0)
    out["ghost_steps"] = res.steps
    out["ghost_steps_capped"] = res.capped_steps
    return out[OPTION_COLUMNS].reset_index(drop=True)


FLIGHTS = {"simulated": fl.FlightModel(0.3, 20.0, method="fit")}   # 'real' passes use fl.DEFAULT


def random_plays(seed: int, n_games: int = 3, plays_per_game: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plays with what real tracking throws at the code: tracks that end (routes extrapolated), gaps,
    late starts, a receiver off the field at the throw, no position groups for the defence, no DB, a
    missing passer, no snap, no ball at the throw, targets that are unknown or not receivers, nullable
    ids, an unknown dataset, and a few ball rows."""
    rng = np.random.default_rng(seed)
    passes, tracks = [], []
    roster = [(1, True, "QB"), (2, True, "OL"), (3, True, None), (4, True, None), (10, True, "WR"),
              (11, True, "WR"), (12, True, "TE"), (13, True, "RB"), (30, False, "DB"), (31, False, "DB"),
              (32, False, "DB"), (40, False, "LB"), (41, False, "DL")]
    for g in range(n_games):
        for p in range(plays_per_game):
            case = (g * plays_per_game + p) % 7
            snap, throw = 1, int(rng.integers(12, 25))
            last = throw + int(rng.integers(4, 60))
            los, ball_y = float(rng.uniform(20, 80)), float(rng.uniform(15, 38))
            for nid, off, grp in roster:
                if case == 4 and nid == 1:
                    continue                                        # passer not tracked
                if case == 1 and not off:
                    grp = None                                      # no position groups for the defence
                if case == 2 and grp == "DB":
                    grp = "LB"                                      # nobody ghosted
                first, end = snap, last
                if nid == 11:
                    end = throw + int(rng.integers(1, 12))          # route extrapolated
                if nid == 32:
                    first = throw - 1                               # missing frames before the throw
                if nid == 13 and case == 3:
                    end = throw - 1                                 # off the field at the throw
                if nid == 40 and case == 5:
                    end = throw + 3                                 # held at his last frame
                f = np.arange(first, end + 1)
                if nid == 31:
                    f = f[(f < throw + 3) | (f > throw + 6)]        # a gap after the throw
                if case == 5:
                    f = f[f != snap]                                # no snap rows
                t = (f - snap) / 10.0
                x0 = los + (-5.0 if nid == 1 else 0.0) + float(rng.normal(0, 4)) * (nid not in (2, 3))
                y0 = ball_y + (0.0 if nid in (1, 2, 3) else float(rng.uniform(-20, 20)))
                vx, vy = (float(rng.normal(4, 3)), float(rng.normal(0, 3))) if nid not in (2, 3) else (0.0, 0.0)
                ax, ay = float(rng.normal(0, 1)), float(rng.normal(0, 1))
                rows = pd.DataFrame({
                    "game_id": 2030091000 + g, "play_id": 100 + p, "nfl_id": nid, "frame_id": f, "is_offense": off,
                    "position_group": grp, "x_std": x0 + vx * t + ax * t**2 / 2, "y_std": y0 + vy * t + ay * t**2 / 2,
                    "vx": vx + ax * t, "vy": vy + ay * t})
                rows["speed_yps"] = np.hypot(rows["vx"], rows["vy"])
                if nid == 12:
                    rows.loc[rows.index[-3:], ["vx", "vy", "speed_yps"]] = np.nan   # velocities missing
                tracks.append(rows)
            tracks.append(pd.DataFrame({"game_id": 2030091000 + g, "play_id": 100 + p, "nfl_id": np.nan,
                                        "frame_id": np.arange(snap, last + 1), "is_offense": None,
                                        "position_group": None, "x_std": los, "y_std": ball_y, "vx": 0.0,
                                        "vy": 0.0, "speed_yps": 0.0}))  # the ball
            target = [10, 11, 12, 13, 3, 4, 2, 40, None][int(rng.integers(0, 9))]
            passes.append({
                "game_id": 2030091000 + g, "play_id": 100 + p,
                "dataset": {0: "simulated", 1: "real"}.get(g, None), "snap_frame_id": np.nan if case == 5 else snap,
                "throw_frame_id": throw, "arrival_frame_id": throw + int(rng.integers(-2, 70)),
                "passer_nfl_id": 1, "target_nfl_id": target, "line_of_scrimmage_x_std": los,
                "ball_throw_x_std": np.nan if case == 6 else los - 5.0, "ball_throw_y_std": ball_y,
                "ball_arrival_x_std": np.nan, "ball_arrival_y_std": np.nan, "ball_snap_x_std": los,
                "ball_snap_y_std": ball_y, "down": 1 + p % 4, "yards_to_go": 10})
    passes = pd.DataFrame(passes).astype({"target_nfl_id": "Int64", "snap_frame_id": "Int64"})
    tracks = pd.concat(tracks, ignore_index=True).astype({"nfl_id": "Int64"})
    return passes, tracks


def _override(passes: pd.DataFrame) -> dict:
    real = passes.dropna(subset=["arrival_frame_id", "target_nfl_id"])
    return {(g, p, int(t)): int(a - th) for g, p, t, a, th in
            real[["game_id", "play_id", "target_nfl_id", "arrival_frame_id", "throw_frame_id"]].itertuples(index=False)}


VARIANTS = {
    "constant_acceleration": dict(ghost=False, kw={}),
    "ghosting_model": dict(ghost=True, kw={}),
    "real_defenders": dict(ghost=False, kw=dict(ghost_defenders=False)),
    "real_arrival_actual_only": dict(ghost=True, kw=dict(only_actual=True, override=True)),
}


def _variant(name: str, passes: pd.DataFrame) -> tuple[object, dict]:
    v = VARIANTS[name]
    kw = dict(v["kw"])
    if kw.pop("override", False):
        kw["arrival_override"] = _override(passes)
    return (trained_like_ghost() if v["ghost"] else None), kw


def trained_like_ghost() -> GhostModel:
    """A ghosting network with random (fixed-seed) weights: unlike the untrained one it does not reduce to
    constant acceleration, so the rollout's inputs (others, target, landing spot) all matter."""
    import torch

    feats = ["speed_yps", "accel_long_yps2", "accel_lat_yps2", "target_rel_x_yd", "target_rel_y_yd",
             "ball_rel_x_yd", "ball_rel_y_yd", "nn1_rel_vx_yps", "others_centroid_x_yd", "frames_since_throw"]
    cfg = GhostConfig(features=feats, hidden=8, layers=1)
    scaler = FeatureScaler(feats, [0.0] * len(feats), [5.0] * len(feats), ["nn1_rel_vx_yps"])
    torch.manual_seed(3)
    net = ResidualMLP(len(feats) + 1, cfg.horizon, cfg.hidden, cfg.layers)
    with torch.no_grad():
        for prm in net.parameters():
            prm.copy_(torch.randn_like(prm) * 0.3)
    return GhostModel(cfg, scaler, net, "ghost-random")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_vectorised_options_equal_the_per_pass_reference(variant):
    passes, tracks = random_plays(7)
    ghost, kw = _variant(variant, passes)
    expect = reference_build_options(passes, tracks, ghost, FLIGHTS, OptionConfig(), **kw)
    shuffled = tracks.sample(frac=1.0, random_state=1)          # row order must not matter
    got = build_options(passes, shuffled, ghost, FLIGHTS, OptionConfig(), chunk_passes=4, **kw)
    assert len(expect) > (10 if kw.get("only_actual") else 40)
    assert set(got["route_method"]) == {"actual", "extrapolated_constant_velocity"} or kw
    pd.testing.assert_frame_equal(got, expect.reset_index(drop=True), check_dtype=False, rtol=_rtol(ghost))


def _rtol(ghost) -> float:
    """Bitwise equal but for the network's float32 sums, which depend on the batch (chunk) composition."""
    return 1e-12 if ghost is None else 1e-6


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_options_read_from_duckdb_equal_the_options_of_the_whole_tracks(variant):
    """ngs.decisions.warehouse reads only the players and frames an option can use (TRACKS_SQL), whole
    games per chunk; the options are those of build_options on every row."""
    from ngs.decisions import warehouse as dw
    from ngs.decisions.options import chunk_options, concat_options

    passes, tracks = random_plays(11)
    ghost, kw = _variant(variant, passes)
    actual_only = kw.get("only_actual", False)
    con = duckdb.connect()
    con.register("tracks_df", tracks.assign(is_ball=tracks["nfl_id"].isna()))
    con.execute("create table fct_tracking as select * from tracks_df")
    cfg = OptionConfig()
    all_defenders = actual_only or not kw.get("ghost_defenders", True)
    chunks = list(dw.iter_chunks(con, {"fct_tracking": "fct_tracking"}, passes, cfg, only_actual=actual_only,
                                 all_defenders=all_defenders, until_arrival=actual_only, chunk_passes=4))
    assert [len(pc) for pc, _ in chunks] == [6, 6, 6]              # whole games
    got = concat_options([chunk_options(pc, t, ghost, FLIGHTS, cfg, **kw) for pc, t in chunks])
    expect = build_options(passes, tracks, ghost, FLIGHTS, cfg, **kw)
    assert len(expect) > 10
    pd.testing.assert_frame_equal(got, expect, check_dtype=False, rtol=_rtol(ghost))
    read = sum(len(t.frames["player"]) for _, t in chunks)
    assert read < 0.8 * len(tracks)                                # the filter spares rows


def test_held_at_fills_like_ffill_then_bfill():
    from ngs.decisions.options import _held_at

    rng = np.random.default_rng(0)
    arr = rng.normal(size=(4, 3, 12, 2))
    arr[rng.random(arr.shape) < 0.4] = np.nan
    arr[1, 2] = np.nan                                           # never known
    rows, at = np.array([0, 1, 3, 3, 2]), np.array([0, 5, 11, 3, 7])
    slots = np.array([[0, 1, 2], [2, 0, 1], [1, 1, 0], [0, 2, 1], [2, 1, 0]])
    got = _held_at(arr, rows, slots, at)
    for i, (r, a) in enumerate(zip(rows, at, strict=True)):
        for j, s in enumerate(slots[i]):
            filled = pd.DataFrame(arr[r, s]).ffill().bfill().to_numpy()[a]
            np.testing.assert_array_equal(got[i, j], filled)
