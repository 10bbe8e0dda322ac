"""Ghosting v2: the physics baselines (damped forms and their fit), scoring per horizon (N frames and to
arrival), the joint model of the play (determinism, physics start, any horizon), ghost-eval's horizons."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ngs.ghosting import baselines, data, joint, model, scoring
from ngs.ghosting.joint_train import train_joint_pipeline

sys.path.insert(0, str(Path(__file__).parent))
from test_ghosting import synthetic_tracks, write_tracks  # noqa: E402

QUICK = dict(hidden=32, d_model=16, heads=2, max_epochs=2, patience=2, batch_size=128, horizon=20)


def _with_split(tracks: pd.DataFrame) -> pd.DataFrame:
    """Every fourth play validates (the synthetic games are too few for the game-hash split to pick one)."""
    return tracks.assign(split=np.where(tracks["play_id"] % 4 == 0, "val", "train"))


def _quick_model(tracks: pd.DataFrame, **kw) -> joint.JointModel:
    cfg = joint.JointConfig(**{**QUICK, **kw})
    return train_joint_pipeline(tracks, None, cfg, log=None, screen=False, save=False)


# ----------------------------------------------------------------------------------------- baselines
def test_constant_acceleration_half_form():
    obs = np.array([[[0.0, 0.0], [1.0, 0.0], [3.0, 0.0]]])            # v = 2, a = 1 (per frame)
    k = np.arange(1, 6)
    np.testing.assert_allclose(baselines.constant_acceleration_half(obs, 5)[0, :, 0], 3 + 2 * k + k**2 / 2)
    np.testing.assert_allclose(baselines.constant_acceleration(obs, 5)[0, :, 0], 3 + 2 * k + k * (k + 1) / 2)


def test_damped_reduces_to_the_constant_forms():
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(7, 3, 2)).cumsum(axis=1)
    np.testing.assert_allclose(baselines.damped(obs, 12, 1.0, 1.0), baselines.constant_acceleration(obs, 12))
    k = np.arange(1, 13)[:, None]
    v, a = baselines.last_velocity(obs), baselines.last_acceleration(obs)
    np.testing.assert_allclose(baselines.damped(obs, 12, 1.0, 0.0), obs[:, -1:] + k * (v + a)[:, None])
    # the recursion written out: v_j = r v_{j-1} + g^(j-1) a
    r, g = 0.97, 0.8
    p, vj, want = obs[:, -1].copy(), v.copy(), []
    for j in range(1, 13):
        vj = r * vj + g ** (j - 1) * a
        p = p + vj
        want.append(p.copy())
    np.testing.assert_allclose(baselines.damped(obs, 12, r, g), np.stack(want, 1), atol=1e-12)


def test_fit_damping_recovers_the_generating_constants_and_skips_missing_truth():
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(400, 3, 2)).cumsum(axis=1) * 0.3
    fut = baselines.damped(obs, 15, 0.96, 0.7)
    fut[:100, 8:] = np.nan                                          # shorter tracks: frames left out
    fit = baselines.fit_damping(obs, fut)
    assert fit["damped_velocity_acceleration"]["r"] == pytest.approx(0.96)
    assert fit["damped_velocity_acceleration"]["g"] == pytest.approx(0.7)
    assert fit["damped_velocity_acceleration"]["mse"] < 1e-20
    assert fit["damped_acceleration"]["r"] == 1.0 and fit["damped_acceleration"]["mse"] > 0
    # exactly the squared error of the chosen path (the sufficient sums are not an approximation)
    p = fit["damped_acceleration"]
    err = baselines.damped(obs, 15, p["r"], p["g"]) - fut
    assert p["mse"] == pytest.approx(np.nanmean(err**2))


def test_errors_leave_out_frames_without_truth():
    pred = np.zeros((2, 3, 2))
    truth = np.ones((2, 3, 2))
    truth[1, 1:] = np.nan                                            # track 2 ends after one frame
    e = baselines.errors(pred, truth)
    assert e["rmse"] == pytest.approx(1.0) and e["n_by_step"] == [2, 1, 1]
    assert e["fde"] == pytest.approx(np.sqrt(2))                     # each track's last frame with truth
    full = baselines.errors(pred, np.ones((2, 3, 2)))
    assert full["n_by_step"] == [2, 2, 2] and full["ade"] == pytest.approx(np.sqrt(2))


def test_best_baseline_ignores_nan():
    assert baselines.best_baseline({"a": {"rmse": 0.5}, "b": {"rmse": float("nan")}, "c": {"rmse": 0.4}}) == "c"
    assert baselines.best_baseline({"a": {"rmse": float("nan")}}) is None


# ----------------------------------------------------------------------------------------- scoring
def test_parse_horizon():
    assert scoring.parse_horizon("arrival") == "arrival" and scoring.parse_horizon(" 15 ") == 15
    for bad in ("0", "-3", "ten", None):
        with pytest.raises(ValueError, match="horizon"):
            scoring.parse_horizon(bad)


def test_arrival_windows_take_every_remaining_frame():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=3, n_frames=12))
    tr = tr[~((tr["play_id"] == 2) & (tr["frame_id"] > 7))]          # a shorter play
    tr = pd.concat([tr, tr[(tr["play_id"] == 1) & (tr["frame_id"] <= 3)].assign(play_id=9)])  # nothing after
    w, skipped = scoring.windows_for(tr, 3, "arrival")
    assert skipped == 4 and len(w) == 12 and w.fut.shape[1] == 9
    known = np.isfinite(w.fut[..., 0]).sum(axis=1)
    assert set(known[w.key["play_id"].to_numpy() == 2]) == {4} and set(known[w.key["play_id"].to_numpy() == 1]) == {9}
    assert (w.key["play_last_frame"] - w.key["start_frame"] - 2 == known).all()


# ----------------------------------------------------------------------------------------- joint model
def test_token_features_are_in_the_players_frame():
    """Rotating and shifting the whole play leaves every token (and every own feature) unchanged."""
    tr = data.normalise_tracks(synthetic_tracks(n_plays=4, n_frames=15))
    tr["is_target"] = (tr["nfl_id"] < 200).astype(float)
    w, _ = data.build_windows(tr, 3, 10)
    th = 0.7
    R = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    moved = tr.copy()
    moved[["x", "y"]] = tr[["x", "y"]].to_numpy() @ R.T + np.array([5.0, -3.0])
    w2, _ = data.build_windows(moved, 3, 10)
    t1, p1 = joint.token_features(w, None)
    t2, p2 = joint.token_features(w2, None)
    assert p1.any() and (p1 == p2).all()
    np.testing.assert_allclose(t1, t2, atol=2e-4)
    names = list(joint.TOKEN_FEATURES)
    assert set(t1[..., names.index("is_target")][p1]) == {0.0, 1.0}


def test_joint_model_starts_as_physics_and_predicts_any_horizon():
    tr = data.normalise_tracks(synthetic_tracks(n_plays=12, n_frames=24))
    m = _quick_model(tr, max_epochs=0)
    w, _ = scoring.windows_for(tr, 3, 10)
    np.testing.assert_allclose(m.predict(w, 10), joint.base_path(w.obs, 10, m.damping), atol=1e-9)
    long = m.predict(w, 35)                                          # past the network's 20 frames
    assert long.shape == (len(w), 35, 2) and np.isfinite(long).all()
    np.testing.assert_allclose(long[:, :10], m.predict(w, 10))


def test_joint_training_learns():
    """(Determinism across processes and thread counts: tests/test_determinism.py.)"""
    tr = _with_split(data.normalise_tracks(synthetic_tracks(n_plays=36, n_frames=24)))
    a = _quick_model(tr, max_epochs=4)
    assert a.version.startswith("ghost-v2-")
    assert set(a.damping) == {"10", "15", "arrival"}
    val = a.metrics["val_first_windows"]
    assert {"10", "15", "arrival"} <= set(val) and val["10"]["model"]["rmse"] < val["10"]["constant_velocity"]["rmse"]
    assert a.metrics["history"][-1]["train_mse"] < a.metrics["history"][0]["train_mse"]
    from ngs.ghosting.joint_train import training_rows

    rows = pd.DataFrame(training_rows(a, "ghosting_joint"), columns=["model", "version", "dataset", "split",
                                                                      "metric", "value", "n", "horizon_step"])
    assert not rows.duplicated(["model", "dataset", "split", "metric"]).any() and rows["value"].notna().all()
    fit = a.damping["arrival"]["damped_velocity_acceleration"]
    got = rows.set_index(["model", "metric"])["value"]
    assert got[("damped_velocity_acceleration", "damping_g_arrival")] == fit["g"]
    assert got[("ghosting_joint", "rmse_yd_h15")] == val["15"]["model"]["rmse"]


def test_joint_artefact_round_trip_and_reuse(tmp_path, monkeypatch):
    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path))
    tr = data.normalise_tracks(synthetic_tracks(n_plays=24, n_frames=20))
    cfg = joint.JointConfig(**QUICK)
    m = train_joint_pipeline(tr, None, cfg, log=None, screen=False)
    loaded = model.load(history=3, horizon=15)
    assert isinstance(loaded, joint.JointModel) and loaded.version == m.version
    w, _ = scoring.windows_for(tr, 3, "arrival")
    np.testing.assert_array_equal(loaded.predict(w, w.horizon), m.predict(w, w.horizon))
    logs = []
    again = train_joint_pipeline(tr, None, cfg, log=logs.append, screen=False)
    assert again.version == m.version and any("reusing" in s for s in logs)


def test_ghost_eval_horizons(tmp_path, monkeypatch, capsys):
    from ngs.cli import main

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    train_joint_pipeline(data.normalise_tracks(synthetic_tracks(n_plays=24, n_frames=22)), None,
                         joint.JointConfig(**QUICK), log=None, screen=False)
    tracks = synthetic_tracks(n_plays=4, n_frames=17, seed=5)
    f = write_tracks(tracks, tmp_path / "output_2023_w99.csv")
    names = {"model", "constant_velocity", "constant_acceleration", "constant_acceleration_half",
             "damped_acceleration", "damped_velocity_acceleration"}
    for horizon, tracks_scored, steps in (("10", 16, 10), ("15", 0, 15), ("arrival", 16, 14)):
        assert main(["ghost-eval", "--tracks", str(f), "--horizon", horizon, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["tracks"] == tracks_scored and out["horizon"] == (horizon if horizon == "arrival" else int(horizon))
        assert names <= set(out) and names <= set(out["per_horizon"])
        if tracks_scored:
            assert out["best_baseline"] in names - {"model"}
            assert out[out["best_baseline"]]["rmse"] == min(out[k]["rmse"] for k in names - {"model"})
            assert len(out["per_horizon"]["model"]["rmse"]) == steps
            assert out["model_vs_best_baseline_rmse_reduction"] == pytest.approx(
                1 - out["model"]["rmse"] / out[out["best_baseline"]]["rmse"])
    assert main(["ghost-eval", "--tracks", str(f), "--horizon", "arrival"]) == 0
    assert "best baseline" in capsys.readouterr().out
    short = write_tracks(tracks[tracks["frame_id"] <= 3], tmp_path / "short.csv")   # nothing after the observed
    assert main(["ghost-eval", "--tracks", str(short), "--horizon", "ARRIVAL", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tracks"] == 0 and out["skipped"] == 16 and out["best_baseline"] is None
    assert out["model"]["rmse"] is None and out["model_vs_best_baseline_rmse_reduction"] is None
    with pytest.raises(SystemExit) as exc:
        main(["ghost-eval", "--tracks", str(f), "--horizon", "soon"])
    assert exc.value.code == 2 and "'arrival'" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- training inputs
def test_learn_roles_counts_known_targets_exactly_and_votes_elsewhere():
    from ngs.ghosting.joint_train import learn_roles

    tr = data.normalise_tracks(synthetic_tracks(n_plays=12, n_frames=15))
    tr["is_target"] = (tr["nfl_id"] < 200).astype(float)          # receivers 100 / 110 / 120
    unknown = tr["play_id"] > 6
    tr.loc[unknown, "is_target"] = np.nan
    roles = learn_roles(tr).set_index("nfl_id")
    known_plays = tr[~unknown].groupby("nfl_id")["play_id"].nunique()
    voted = data.infer_roles(tr[unknown]).set_index("nfl_id")
    for nfl_id, row in roles.iterrows():
        assert row["plays"] == known_plays.get(nfl_id, 0) + (voted["plays"].get(nfl_id, 0))
    assert (roles.loc[roles.index < 200, "is_offense"] == 1.0).all()
    assert (roles.loc[roles.index >= 200, "is_offense"] == 0.0).all()
    filled = data.apply_roles(tr, learn_roles(tr))
    assert filled["is_target"].notna().all()


def test_hide_inputs_hides_whole_plays_deterministically():
    from ngs.ghosting.joint_train import hide_inputs

    tr = data.normalise_tracks(synthetic_tracks(n_plays=200, n_frames=6))
    tr["is_target"] = (tr["nfl_id"] < 200).astype(float)
    tr["down"] = 2.0
    cfg = joint.JointConfig(hide_meta=0.3, hide_target=0.1)
    a, b = hide_inputs(tr, cfg), hide_inputs(tr, cfg)
    pd.testing.assert_frame_equal(a, b)
    per_play = a.groupby("play_id").agg(meta=("down", lambda s: s.isna().mean()),
                                         target=("is_target", lambda s: s.isna().mean()))
    assert set(per_play["meta"]) == {0.0, 1.0} and set(per_play["target"]) == {0.0, 1.0}   # whole plays
    assert 0.2 < per_play["meta"].mean() < 0.4 and 0.03 < per_play["target"].mean() < 0.2
    assert tr["down"].notna().all()                                                     # a copy
    assert hide_inputs(tr, joint.JointConfig(hide_meta=0, hide_target=0)) is tr
