"""The joint ghosting model's cheaper scoring (issue #13) predicts what the former path predicted, bit for bit:
the network's output of a window does not depend on the slice of windows it is run with (slices padded to a
multiple of joint.ROW_PAD rows) nor on the token count the slice pads to, so the scoring runs smaller slices
under inference_mode, fct_ghost_trajectories predicts
only the defenders' windows and fct_closing_scores predicts again only the windows the 25% draw changed.
The former code is kept here as the oracle (a network with random weights: an untrained one outputs zeros)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ngs.ghosting import closing, data, joint, scoring
from ngs.ghosting import warehouse as gw
from ngs.ghosting.joint_train import train_joint_pipeline

sys.path.insert(0, str(Path(__file__).parent))
from test_ghosting import synthetic_tracks  # noqa: E402

pytestmark = pytest.mark.timeout(300)

QUICK = dict(hidden=32, d_model=16, heads=2, max_epochs=0, patience=2, batch_size=128, horizon=20, blocks=1)


@pytest.fixture(scope="module")
def tracks() -> pd.DataFrame:
    return data.infer_targets_full(data.normalise_tracks(synthetic_tracks(n_plays=18, n_frames=24)))


@pytest.fixture(scope="module")
def model(tracks) -> joint.JointModel:
    m = train_joint_pipeline(tracks.assign(split="train"), None, joint.JointConfig(**QUICK), log=None, screen=False,
                             save=False)
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in m.net.parameters():                    # random weights: every layer moves the output
            p.copy_(torch.randn(p.shape, generator=gen) * 0.3)
    return m


@pytest.fixture(scope="module")
def full_size_model(tracks) -> joint.JointModel:
    """The trained model's sizes (JointConfig's defaults: hidden 256, d_model 64, 4 heads), random weights."""
    sizes = {k: v for k, v in QUICK.items() if k not in ("hidden", "d_model", "heads", "blocks")}
    m = train_joint_pipeline(tracks.assign(split="train"), None, joint.JointConfig(**sizes), log=None, screen=False,
                             save=False)
    gen = torch.Generator().manual_seed(6)
    with torch.no_grad():
        for p in m.net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return m


def test_a_few_windows_alone_give_what_they_give_in_a_full_slice(full_size_model, tracks):
    """A game's few randomised defenders (fct_closing_scores on Spark, game by game; an append) are scored in a
    slice of a few rows: with the trained model's sizes 8 rows took another matrix kernel than 12 or more,
    and their output differed in the last float32 bits from the same windows scored with the whole season."""
    m = full_size_model
    assert m.net.self_in[0].out_features == joint.JointConfig().hidden
    w, _ = scoring.windows_for(tracks, 3, 10)
    inp = m.inputs(w)
    assert len(inp.xs) >= 64
    whole = m.residual(inp)
    assert np.abs(whole).max() > 0.1
    for lo, hi in ((0, 1), (3, 8), (10, 15), (20, 29), (30, 63)):
        part = joint.Inputs(inp.xs[lo:hi], inp.xt[lo:hi], inp.present[lo:hi], inp.n_others[lo:hi])
        np.testing.assert_array_equal(m.residual(part), whole[lo:hi])


def _former_residual(m: joint.JointModel, inp: joint.Inputs, batch: int = 4096) -> np.ndarray:
    """JointModel.residual before issue #13 (no_grad, 4096-window slices)."""
    m.net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(inp.xs), batch):
            sl = slice(i, i + batch)
            kmax = max(int(inp.n_others[sl].max(initial=0)), 1)
            out.append(m.net(torch.from_numpy(inp.xs[sl]), torch.from_numpy(inp.xt[sl, :kmax]),
                             torch.from_numpy(inp.present[sl, :kmax])).numpy().astype(float))
    return np.concatenate(out)


def test_a_windows_output_does_not_depend_on_its_slice_or_padding(model, tracks):
    w, _ = scoring.windows_for(tracks, 3, 10)
    w.others = w.others.copy()
    w.others[::3, 0] = np.nan                            # windows with fewer tokens: slices pad differently
    w.others[::5, 1] = np.nan
    inp = model.inputs(w.subset(np.arange(64)))
    assert len(set(inp.n_others.tolist())) > 1
    # the former path on 64 windows (a multiple of 4 rows: MKL's main kernel for every row, see ROW_PAD)
    ref = _former_residual(model, inp)
    assert np.abs(ref).max() > 0.1                       # the network is not the physics path
    for batch in (joint.SCORE_BATCH, 1, 7, 64):
        np.testing.assert_array_equal(model.residual(inp, batch), ref)
    # a window alone, padded to every token count, gives the same output as in the whole slice (the former
    # path multiplied a lone window's rows with MKL's remainder kernel: other last bits)
    for i in (0, 3, 5):
        one = joint.Inputs(inp.xs[i:i + 1], inp.xt[i:i + 1], inp.present[i:i + 1], inp.n_others[i:i + 1])
        np.testing.assert_array_equal(model.residual(one), ref[i:i + 1])
        padded = joint.Inputs(one.xs, one.xt, one.present, np.array([inp.xt.shape[1]]))
        np.testing.assert_array_equal(model.residual(padded), ref[i:i + 1])


def test_trajectories_predict_only_defenders_as_before(model, tracks):
    w_all, _ = scoring.windows_for(tracks, model.config.history, scoring.ARRIVAL)
    keep = w_all.is_target == 0.0
    assert 0 < keep.sum() < len(w_all)
    former = scoring.predict(model, w_all)[keep]         # the former path: every window, then the defenders
    w, pred = gw._score_windows(model, tracks, scoring.ARRIVAL)
    assert len(w) == keep.sum() and (w.is_target == 0.0).all()
    np.testing.assert_array_equal(pred, former)


def _former_randomised(tracks: pd.DataFrame, m, seed: int) -> pd.DataFrame:
    """closing_experiment's randomised condition before issue #13: every defender's window predicted again."""
    h, H = m.config.history, closing.HORIZON
    w, _ = data.build_windows(tracks, h, H, starts="first")
    dw = w.subset(w.is_target == 0.0)
    rec = tracks[tracks["is_target"] == 1.0].set_index(["game_id", "play_id", "frame_id"])[["x", "y"]]
    frames = dw.key["start_frame"].to_numpy()[:, None] + np.arange(h - 1, h + H)[None, :]
    idx = pd.MultiIndex.from_arrays([np.repeat(dw.key["game_id"].to_numpy(), H + 1),
                                     np.repeat(dw.key["play_id"].to_numpy(), H + 1), frames.ravel()])
    R = rec.reindex(idx).to_numpy().reshape(len(dw), H + 1, 2)
    ok = ~np.isnan(R).any(axis=(1, 2))
    dw, R = dw.subset(ok), R[ok]
    u = closing.keyed_uniforms(seed, [dw.key["game_id"].to_numpy(), dw.key["play_id"].to_numpy(),
                                      dw.key["nfl_id"].to_numpy()], 3)
    chosen = u[:, 0] < 0.25
    rand_w = dw.subset(np.ones(len(dw), bool))
    rand_w.obs = np.where(chosen[:, None, None], closing.randomise_observed(dw.obs, u[:, 1:]), dw.obs)
    comp = closing.closing_components(np.concatenate([rand_w.obs[:, -1:], m.predict(rand_w)], axis=1), R)
    comp.insert(0, "nfl_id", dw.key["nfl_id"].to_numpy())
    comp.insert(0, "play_id", dw.key["play_id"].to_numpy())
    comp.insert(0, "game_id", dw.key["game_id"].to_numpy())
    return comp


def test_closing_predicts_again_only_the_drawn_defenders_as_before(model, tracks):
    _, per = closing.closing_experiment(tracks, model, seed=3)
    got = per[per["condition"] == "randomised_25pct"].reset_index(drop=True)
    assert 0 < got["randomised"].sum() < len(got)
    former = _former_randomised(tracks, model, 3)
    pd.testing.assert_frame_equal(got[former.columns].reset_index(drop=True), former, check_exact=True,
                                  check_dtype=False)
    # a defender not drawn scores the same in both model conditions
    pred = per[per["condition"] == "predicted"].reset_index(drop=True)
    same = ~got["randomised"].to_numpy()
    np.testing.assert_array_equal(got.loc[same, "score"].to_numpy(), pred.loc[same, "score"].to_numpy())
