"""Completion model end to end: `ngs build` on a small simulated release (and on the real samples) trains,
stores the artefact and fills the completion tables; a scoring-only build reuses the stored model; a
scoring-only build without one fails saying how to train."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import EnvVars, require_shared_data

from ngs.build import build
from ngs.completion.features import FEATURE_COLUMNS
from ngs.errors import BuildError

COMPLETION_TABLES = ("fct_pass_features", "fct_completion_cv_predictions", "fct_completion_probability",
                     "rpt_completion_metrics", "rpt_completion_calibration",
                     "rpt_completion_feature_importance", "rpt_qb_cpoe", "rpt_receiver_separation")
# the completion marts and everything they are built from; nothing of the other domains
SELECT = " ".join(f"+{t}" for t in COMPLETION_TABLES)
# tests of unselected models that merely touch a selected one (e.g. the quarantine's seed) stay out
CAUTIOUS = ["--indirect-selection", "cautious"]


def _query(warehouse: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def sim_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cp_sim") / "release"
    subprocess.run(
        [sys.executable, "-m", "ngs.cli", "simulate", "--games", "3", "--seed", "23", "--out", str(out),
         "--plays-per-game", "50"],
        check=True, capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def artifacts_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cp_artifacts")


@pytest.fixture(scope="module")
def trained_warehouse(sim_release, artifacts_dir, tmp_path_factory, dbt_isolation) -> Path:
    warehouse = tmp_path_factory.mktemp("cp_wh") / "sim.duckdb"
    with EnvVars(NGS_ARTIFACTS_DIR=str(artifacts_dir)):
        build([sim_release], warehouse, select=SELECT, dbt_args=CAUTIOUS, quiet=True)
    return warehouse


@pytest.mark.slow
def test_training_build_fills_every_completion_table(trained_warehouse, artifacts_dir):
    tables = set(_query(trained_warehouse, "select table_name from information_schema.tables "
                                           "where table_schema = 'marts'")["table_name"])
    assert set(COMPLETION_TABLES) <= tables

    features = _query(trained_warehouse, "select * from marts.fct_pass_features")
    assert len(features) > 60 and (features["dataset"] == "simulated").all()
    assert features["air_distance_yd"].notna().all()
    assert (features["receiver_separation_arrival_yd"].dropna() >= 0).all()

    metrics = _query(trained_warehouse, "select * from marts.rpt_completion_metrics")
    labelled = int(features["is_complete"].notna().sum())
    assert set(metrics["model"]) == {"completion_probability", "completion_baseline_pass_length"}
    assert set(metrics["metric"]) == {"log_loss", "brier", "auc", "ece"}
    assert (metrics["dataset"] == "simulated").all() and (metrics["split"] == "cv_heldout").all()
    assert (metrics["n"] == labelled).all()
    value = metrics.set_index(["model", "metric"])["value"]
    for model in ("completion_probability", "completion_baseline_pass_length"):
        assert 0 < value[model, "log_loss"] < math.log(2) + 0.1  # no worse than a coin, roughly
        assert 0 < value[model, "brier"] < 0.3
        assert 0 <= value[model, "ece"] < 0.25
        assert 0.3 < value[model, "auc"] <= 1

    version = metrics["version"].iloc[0]
    stored = artifacts_dir / "completion" / version
    assert (artifacts_dir / "completion" / "LATEST").read_text().strip() == version
    meta = json.loads((stored / "metadata.json").read_text())
    assert meta["datasets"]["simulated"]["n_passes"] == labelled

    cv = _query(trained_warehouse, "select * from marts.fct_completion_cv_predictions")
    assert cv.groupby("game_id")["cv_fold"].nunique().max() == 1  # a game is never split across folds
    scored = _query(trained_warehouse, "select * from marts.fct_completion_probability")
    assert len(scored) == len(features)
    assert scored["completion_probability"].between(0, 1).all()
    assert (scored["model_version"] == version).all()
    assert scored["in_training"].sum() == labelled

    calib = _query(trained_warehouse, "select * from marts.rpt_completion_calibration")
    assert (calib.groupby("model")["n"].sum() == labelled).all()
    importance = _query(trained_warehouse, "select * from marts.rpt_completion_feature_importance")
    assert set(importance["feature"]) == set(FEATURE_COLUMNS)  # one row per feature the model reads


@pytest.mark.slow
def test_scoring_only_build_uses_the_stored_model(trained_warehouse, sim_release, artifacts_dir, tmp_path,
                                                  dbt_isolation):
    warehouse = tmp_path / "score.duckdb"
    with EnvVars(NGS_ARTIFACTS_DIR=str(artifacts_dir)):
        build([sim_release], warehouse, train=False, select=SELECT, dbt_args=CAUTIOUS, quiet=True)
    tables = set(_query(warehouse, "select table_name from information_schema.tables")["table_name"])
    assert "fct_completion_cv_predictions" not in tables
    sql = "select * from marts.fct_completion_probability order by game_id, play_id"
    pd.testing.assert_frame_equal(_query(warehouse, sql), _query(trained_warehouse, sql))
    sql = "select * from marts.rpt_completion_metrics order by model, metric"
    pd.testing.assert_frame_equal(_query(warehouse, sql), _query(trained_warehouse, sql))


@pytest.mark.slow
def test_scoring_only_build_without_a_model_says_how_to_train(sim_release, tmp_path, dbt_isolation):
    with EnvVars(NGS_ARTIFACTS_DIR=str(tmp_path / "empty")), pytest.raises(BuildError) as err:
        build([sim_release], tmp_path / "none.duckdb", train=False, select=SELECT, dbt_args=CAUTIOUS,
              quiet=True)
    assert "ArtifactMissingError" in str(err.value)
    assert "ngs build --data DIR" in str(err.value)


@pytest.mark.real_data
@pytest.mark.slow
def test_real_passes_train_and_score(tmp_path, dbt_isolation):
    folders = [require_shared_data("bdb2019"), require_shared_data("ngs_highlights")]
    warehouse = tmp_path / "real.duckdb"
    with EnvVars(NGS_ARTIFACTS_DIR=str(tmp_path / "artifacts")):
        build(folders, warehouse, select=SELECT, dbt_args=CAUTIOUS, quiet=True)
    metrics = _query(warehouse, "select * from marts.rpt_completion_metrics")
    assert (metrics["dataset"] == "real").all()
    assert metrics["n"].min() > 400  # ~457 labelled passes: 69 of the 2017 game + the highlights
    value = metrics.set_index(["model", "metric"])["value"]
    assert value["completion_probability", "log_loss"] < math.log(2)
    assert value["completion_probability", "auc"] > 0.5
    qb = _query(warehouse, "select * from marts.rpt_qb_cpoe")
    assert qb["passer_name"].notna().all() and (qb["attempts"] >= 10).all()
