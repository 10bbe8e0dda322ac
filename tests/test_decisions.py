"""QB decisions: counterfactual targets on hand-built plays (open vs covered receiver), the feature
definitions against fct_pass_features' hand-computed case, the flight-time model, eligibility, and the
rpt_qb_decisions SQL run in DuckDB on the options the package produced."""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import numpy as np
import pandas as pd
import pytest

from ngs.completion import model as cm
from ngs.completion.features import FEATURE_COLUMNS
from ngs.decisions import flight as fl
from ngs.decisions.features import arrival_features
from ngs.decisions.options import OptionConfig, build_options
from ngs.decisions.scoring import CompletionScorer, rank_options
from ngs.decisions.warehouse import score_options, typed_options
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
    X = pd.DataFrame({c: rng.uniform(0, 20, n) for c in FEATURE_COLUMNS})
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


def test_options_are_deterministic(scorer):
    a = ranked_options(scorer, untrained_ghost())
    b = ranked_options(scorer, untrained_ghost())
    pd.testing.assert_frame_equal(a, b)


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
