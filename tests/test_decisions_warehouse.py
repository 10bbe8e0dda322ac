"""Integration: a small simulated warehouse built with `--no-train` (what the decisions models must run
in), with a tiny completion artefact trained on synthetic features and an untrained ghosting network
(= constant acceleration) stored in a temporary artefact folder, so the repository's artefacts are never
touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sklearn

from ngs.build import build
from ngs.completion import artifacts, pipeline
from ngs.completion.features import FEATURE_COLUMNS
from ngs.decisions import MODEL_NAME

sys.path.insert(0, str(Path(__file__).parent))
from test_decisions import tiny_completion_models, untrained_ghost  # noqa: E402


def store_tiny_artefacts(root: Path) -> None:
    untrained_ghost().save(root / "ghosting")
    output = pipeline.TrainingOutput(
        version="cp-test-tiny", models=tiny_completion_models(), metrics=pipeline.empty_metrics(),
        calibration=pd.DataFrame(columns=pipeline.CALIBRATION_COLUMNS),
        importance=pd.DataFrame(columns=pipeline.IMPORTANCE_COLUMNS),
        cv_predictions=pd.DataFrame(columns=pipeline.CV_COLUMNS),
        metadata={"version": "cp-test-tiny", "sklearn_version": sklearn.__version__, "features": list(FEATURE_COLUMNS)})
    artifacts.save(output, root=root / "completion")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, dbt_isolation) -> Path:
    tmp = tmp_path_factory.mktemp("decisions")
    data = tmp / "sim"
    subprocess.run([sys.executable, "-m", "ngs.cli", "simulate", "--games", "1", "--plays-per-game", "40",
                    "--seed", "5", "--out", str(data)], check=True, capture_output=True)
    arts = tmp / "artifacts"
    store_tiny_artefacts(arts)
    old = os.environ.get("NGS_ARTIFACTS_DIR")
    os.environ["NGS_ARTIFACTS_DIR"] = str(arts)
    try:
        wh = tmp / "dec.duckdb"
        build([data], wh, train=False, quiet=True)
    finally:
        if old is None:
            os.environ.pop("NGS_ARTIFACTS_DIR", None)
        else:
            os.environ["NGS_ARTIFACTS_DIR"] = old
    return wh


def _q(wh: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def test_every_pass_gets_its_options_and_the_real_target(warehouse):
    opt = _q(warehouse, "select * from marts.fct_target_options")
    passes = _q(warehouse, "select * from marts.fct_pass_events where throw_frame_id is not null")
    assert len(opt) > 0
    assert opt.groupby(["game_id", "play_id"]).size().min() >= 1
    assert set(opt["game_id"].astype(str) + "/" + opt["play_id"].astype(str)) <= set(
        passes["game_id"].astype(str) + "/" + passes["play_id"].astype(str))
    with_target = passes.dropna(subset=["target_nfl_id"])
    actual = opt[opt["is_actual_target"]]
    assert len(actual) == len(with_target)   # the real target is always an option
    assert opt["completion_probability"].between(0, 1).all()
    assert (opt["completion_model_version"] == "cp-test-tiny").all()
    assert (opt["ghosting_model_version"] == "ghost-test").all()
    assert (opt.groupby(["game_id", "play_id"])["is_best_option"].sum() == 1).all()
    assert (opt["cp_below_best"] >= -1e-12).all()
    assert set(opt["receiver_position_group"].dropna()) <= {"WR", "TE", "RB"}


def test_rpt_qb_decisions_agrees_with_the_options(warehouse):
    opt = _q(warehouse, "select * from marts.fct_target_options where is_actual_target")
    rpt = _q(warehouse, "select * from marts.rpt_qb_decisions")
    per = opt.groupby("passer_nfl_id").agg(attempts=("play_id", "size"),
                                           share=("is_best_option", "mean"), given=("cp_below_best", "mean"))
    min_attempts = 10  # var min_qb_attempts in dbt_project.yml
    per = per[per["attempts"] >= min_attempts]
    assert sorted(rpt["passer_nfl_id"]) == sorted(per.index)
    for _, row in rpt.iterrows():
        expect = per.loc[row["passer_nfl_id"]]
        assert row["attempts"] == expect["attempts"]
        assert row["best_option_share"] == pytest.approx(expect["share"])
        assert row["cp_given_up"] == pytest.approx(expect["given"])


def test_consistency_rows_in_the_shared_metrics_shape(warehouse):
    m = _q(warehouse, "select * from marts.rpt_decisions_metrics")
    shared = ["model", "version", "dataset", "split", "metric", "value", "n"]
    assert list(m.columns) == shared
    cons = m[(m["split"] == "counterfactual_consistency") & (m["model"] == MODEL_NAME)].set_index("metric")
    diag = m[(m["split"] == "counterfactual_consistency") & (m["model"] == f"{MODEL_NAME}_real_defenders")]
    # with the real defenders and the real arrival the separation is the measured one
    assert diag.set_index("metric").loc["mae_separation_arrival_yd_real_arrival", "value"] < 0.05
    for metric in ("mae_separation_arrival_yd", "mae_air_distance_yd", "mae_completion_probability"):
        assert metric in cons.index
        assert np.isfinite(cons.loc[metric, "value"]) and cons.loc[metric, "value"] >= 0
        assert cons.loc[metric, "n"] > 0
    # the real arrival imposed: the air distance is then measured at the real landing frame
    assert cons.loc["mae_air_distance_yd_real_arrival", "value"] <= cons.loc["mae_air_distance_yd", "value"] + 1.0
    assert "scoring" in set(m["split"])
    assert any(s.startswith("flight_time_") for s in m["split"])


def test_fct_target_options_equal_build_options_on_the_whole_tracks(warehouse):
    """The dbt model reads only the rows an option can use, chunk by chunk of games (TRACKS_SQL, Arrow);
    the pure function on every tracking row of the warehouse gives the same table."""
    from ngs.decisions import flight
    from ngs.decisions import warehouse as dw
    from ngs.decisions.options import OptionConfig, build_options
    from ngs.decisions.scoring import CompletionScorer, rank_options

    passes = _q(warehouse, "select * from intermediate.int_decision_passes order by game_id, play_id")
    tracks = _q(warehouse, "select game_id, play_id, nfl_id, frame_id, is_offense, position_group, x_std, y_std, "
                           "speed_yps, vx, vy from marts.fct_tracking where not is_ball")
    flights = flight.fit_per_dataset(passes, 10.0)
    options = build_options(passes, tracks, untrained_ghost(), flights, OptionConfig())
    scored = rank_options(dw.score_options(options, CompletionScorer("cp-test-tiny", tiny_completion_models())))
    scored["expected_air_yards"] = scored["completion_probability"] * scored["pass_depth_yd"]
    expect = dw.typed_options(scored).drop(columns=["completion_model_version", "ghosting_model_version",
                                                    "flight_model"])
    key = ["game_id", "play_id", "receiver_nfl_id"]
    got = _q(warehouse, "select * from marts.fct_target_options").sort_values(key).reset_index(drop=True)
    expect = expect.sort_values(key).reset_index(drop=True)
    assert len(got) == len(expect) > 0
    pd.testing.assert_frame_equal(got[expect.columns], expect, check_dtype=False, rtol=1e-9)
