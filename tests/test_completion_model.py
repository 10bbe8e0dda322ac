"""Package tests for ngs.completion on synthetic pass-feature frames (no warehouse needed)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from ngs.completion import artifacts, model, pipeline
from ngs.completion.errors import CompletionDataError
from ngs.completion.features import BASELINE_FEATURES, CATEGORICAL_FEATURES, FEATURE_COLUMNS, NUMERIC_FEATURES
from ngs.completion.metrics import calibration_table, expected_calibration_error, probability_metrics
from ngs.errors import ArtifactMissingError, NgsError


def synthetic_passes(n_games: int = 12, per_game: int = 30, seed: int = 0, dataset: str = "simulated",
                     first_game: int = 2030090700) -> pd.DataFrame:
    """Passes whose completion depends on pass length and separation at arrival (known signal); the
    categorical play context is noise."""
    rng = np.random.default_rng(seed)
    n = n_games * per_game
    frame = pd.DataFrame({
        "game_id": np.repeat(np.arange(first_game, first_game + n_games), per_game),
        "play_id": np.tile(np.arange(1, per_game + 1) * 10, n_games),
        "dataset": dataset,
    })
    for col in NUMERIC_FEATURES:
        frame[col] = rng.normal(5.0, 2.0, n)
    for col in CATEGORICAL_FEATURES:
        frame[col] = rng.choice(["A", "B", "C"], n)
    frame["pass_length_yd"] = rng.gamma(2.0, 6.0, n)
    frame["receiver_separation_arrival_yd"] = rng.gamma(2.0, 1.2, n)
    frame["defenders_within_radius_arrival"] = rng.poisson(0.8, n)
    logit = 2.0 - 0.08 * frame["pass_length_yd"] + 0.6 * (frame["receiver_separation_arrival_yd"] - 2.4)
    frame["is_complete"] = rng.random(n) < 1 / (1 + np.exp(-logit))
    return frame


# ---- metrics -------------------------------------------------------------------------------------

def test_ece_on_hand_made_probabilities():
    # bin 1 (0.1): mean 0.1, observed 1/2 -> 0.4 * 2/4;  bin 9 (0.9): mean 0.9, observed 2/2 -> 0.1 * 2/4
    assert expected_calibration_error([0, 1, 1, 1], [0.1, 0.1, 0.9, 0.9]) == pytest.approx(0.25)
    # perfectly calibrated within each bin -> 0
    assert expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.0)
    # p = 1.0 falls in the last bin, not an eleventh one
    table = calibration_table([1, 1, 0], [1.0, 0.95, 0.05])
    assert table["bin"].tolist() == [0, 9]
    assert table["n"].tolist() == [1, 2]
    assert table.loc[table["bin"] == 9, "mean_predicted"].item() == pytest.approx(0.975)


def test_metrics_with_one_class_skip_auc_instead_of_crashing():
    out = probability_metrics([1, 1, 1], [0.7, 0.8, 0.9])
    assert np.isnan(out["auc"])
    assert out["brier"] == pytest.approx(np.mean([0.09, 0.04, 0.01]))
    assert np.isfinite(out["log_loss"]) and np.isfinite(out["ece"])


def test_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        probability_metrics([0, 1], [0.5])
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        probability_metrics([0, 1], [0.5, 1.5])


# ---- grouped cross-validation ---------------------------------------------------------------------

def test_grouped_folds_never_mix_games():
    frame = synthetic_passes(n_games=7, per_game=9)
    folds = model.grouped_folds(frame["game_id"])
    assert len(folds) == 5
    covered = np.concatenate([te for _, te in folds])
    assert np.sort(covered).tolist() == list(range(len(frame)))
    for tr, te in folds:
        assert set(frame["game_id"].iloc[tr]).isdisjoint(frame["game_id"].iloc[te])


def test_cv_predictions_hold_out_whole_games():
    frame = synthetic_passes(n_games=6, per_game=25)
    out = pipeline.train(frame)
    cv = out.cv_predictions
    assert cv.groupby("game_id")["cv_fold"].nunique().max() == 1
    assert cv["cv_heldout_probability"].between(0, 1).all()
    assert len(cv) == len(frame)


def test_fewer_games_than_folds_uses_fewer_folds():
    folds = model.grouped_folds([1, 1, 2, 2, 3])
    assert len(folds) == 3


# ---- baseline --------------------------------------------------------------------------------------

def test_baseline_uses_only_pass_length_and_time_in_air():
    frame = synthetic_passes()
    assert model.BASELINE_SPEC.features == BASELINE_FEATURES == ("pass_length_yd", "time_in_air_s")
    X, y, g = frame[list(FEATURE_COLUMNS)], frame["is_complete"].to_numpy(), frame["game_id"].to_numpy()
    fitted = model.fit_calibrated(model.BASELINE_SPEC, X, y, g, "sigmoid")
    assert fitted.n_features_in_ == 2
    scrambled = X.copy()
    for col in FEATURE_COLUMNS:
        if col not in BASELINE_FEATURES:
            scrambled[col] = scrambled[col].sample(frac=1.0, random_state=1).to_numpy()
    np.testing.assert_array_equal(model.predict_proba(fitted, model.BASELINE_SPEC, X),
                                  model.predict_proba(fitted, model.BASELINE_SPEC, scrambled))


def test_model_takes_categories_and_missing_measurements():
    """The release's categorical play context is encoded, a category unseen in training scores as missing,
    and a measurement missing from every training pass (no passer in output-only plays) is left out
    instead of breaking the fit."""
    frame = synthetic_passes(n_games=6, per_game=30)
    frame["passer_speed_throw_yps"] = np.nan
    frame["route"] = frame["route"].where(frame.index % 7 != 0, None)
    X, y, g = frame[list(FEATURE_COLUMNS)], frame["is_complete"].to_numpy(), frame["game_id"].to_numpy()
    fitted = model.fit_calibrated(model.MODEL_SPEC, X, y, g, "sigmoid")
    unseen = X.head(5).copy()
    unseen["route"] = "NEVER_SEEN"
    unseen["passer_speed_throw_yps"] = 3.0
    p = model.predict_proba(fitted, model.MODEL_SPEC, unseen)
    assert p.shape == (5,) and np.isfinite(p).all() and ((p > 0) & (p < 1)).all()


def test_category_codes_equal_scikit_learns_ordinal_encoder():
    """The vectorised encoder gives scikit-learn's OrdinalEncoder's codes exactly: the same categories
    fitted, unknown and missing (None or NaN) values NaN, on a frame and on a plain array, and a column
    that is missing everywhere in training."""
    from sklearn.preprocessing import OrdinalEncoder

    rng = np.random.default_rng(3)
    train = pd.DataFrame({c: rng.choice(np.array(["B", "A", "C", None], dtype=object), 200)
                          for c in CATEGORICAL_FEATURES})
    train["route"] = np.nan
    train = train.astype(object).where(train.notna(), np.nan)
    score = pd.DataFrame({c: rng.choice(np.array(["C", "A", "Z", None, np.nan, "B"], dtype=object), 500)
                          for c in CATEGORICAL_FEATURES})
    reference = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                               encoded_missing_value=np.nan).fit(train)
    fast = model.CategoryCodes().fit(train)
    assert all(np.array_equal(a, b, equal_nan=True) if a.dtype.kind == "f" else
               [str(x) for x in a] == [str(x) for x in b] for a, b in zip(reference.categories_, fast.categories_, strict=True))
    expected = reference.transform(score)
    assert np.isnan(expected).any() and not np.isnan(expected).all()
    np.testing.assert_array_equal(fast.transform(score), expected)
    np.testing.assert_array_equal(fast.transform(score.to_numpy()), expected)
    np.testing.assert_array_equal(fast.fit_transform(train), reference.transform(train))
    with pytest.raises(ValueError, match="columns"):
        fast.transform(score.iloc[:, :3])


def test_model_beats_baseline_on_a_known_signal():
    out = pipeline.train(synthetic_passes(n_games=20, per_game=40))
    ll = out.metrics[out.metrics["metric"] == "log_loss"].set_index("model")["value"]
    # separation carries signal the baseline cannot see
    assert ll[model.MODEL_NAME] < ll[model.BASELINE_NAME]
    imp = out.importance.set_index("feature")
    assert imp.loc["receiver_separation_arrival_yd", "rank"] <= 2


# ---- report tables, determinism, datasets ---------------------------------------------------------

def test_report_tables_have_the_shared_schema():
    out = pipeline.train(synthetic_passes())
    assert list(out.metrics.columns) == ["model", "version", "dataset", "split", "metric", "value", "n"]
    assert set(out.metrics["metric"]) == {"log_loss", "brier", "auc", "ece"}
    assert set(out.metrics["model"]) == {model.MODEL_NAME, model.BASELINE_NAME}
    assert (out.metrics["split"] == "cv_heldout").all()
    assert out.version.startswith("cp-v1-")
    calib = out.calibration
    assert calib.groupby(["model", "dataset"])["n"].sum().eq(len(out.cv_predictions)).all()
    assert set(out.importance["feature"]) == set(FEATURE_COLUMNS)


def test_training_ignores_the_row_order():
    """The same passes in another order: the same version and outputs (determinism across processes and
    thread counts: tests/test_determinism.py)."""
    frame = synthetic_passes(n_games=8, per_game=20, seed=3)
    a, b = pipeline.train(frame), pipeline.train(frame.sample(frac=1.0, random_state=5))
    assert a.version == b.version
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    pd.testing.assert_frame_equal(a.cv_predictions, b.cv_predictions)
    pd.testing.assert_frame_equal(a.importance, b.importance)


def test_last_bit_differences_give_the_same_version_and_model_inputs():
    """Engines agree on a feature to an ulp, not bit for bit (Spark's JVM vs DuckDB's libm trigonometry: 4 of
    1,183 passes of 10 simulated games); the version hash and the matrix the models fit and score see the
    features rounded to 1e-6, so one ulp up or down changes neither (so no training on both is needed)."""
    frame = synthetic_passes(n_games=4, per_game=10, seed=7)
    for direction in (np.inf, -np.inf):
        bumped = frame.copy()
        for col in NUMERIC_FEATURES:
            bumped[col] = np.nextafter(bumped[col].to_numpy(float), direction)
        assert not bumped[list(NUMERIC_FEATURES)].equals(frame[list(NUMERIC_FEATURES)])
        assert pipeline.model_version(bumped) == pipeline.model_version(frame)
        for spec in model.SPECS:
            pd.testing.assert_frame_equal(model._matrix(bumped, spec), model._matrix(frame, spec))
        # nor the passes' scoring fingerprints (the incremental rescoring's; the features hashed rounded; the
        # whole-number columns keep their type, as they do on both engines)
        whole = [c for c in NUMERIC_FEATURES if pd.api.types.is_integer_dtype(frame[c])]
        assert _play_hashes(bumped.assign(**{c: frame[c] for c in whole})).equals(_play_hashes(frame))
    # a real change (1e-5 yd) is another version and another fingerprint of that pass only
    moved = frame.copy()
    moved.loc[0, "air_distance_yd"] += 1e-5
    assert pipeline.model_version(moved) != pipeline.model_version(frame)
    changed = _play_hashes(moved)["rows_hash"] != _play_hashes(frame)["rows_hash"]
    assert changed.tolist() == [True] + [False] * (len(frame) - 1)


def _play_hashes(frame: pd.DataFrame) -> pd.DataFrame:
    from ngs.completion.features import FEATURE_DECIMALS
    from ngs.incremental import play_hashes

    with duckdb.connect() as con:
        hashes = play_hashes(con.from_df(frame), decimals=FEATURE_DECIMALS)
    return hashes.set_index(["game_id", "play_id"]).loc[list(zip(frame["game_id"], frame["play_id"], strict=True))
                                                           ].reset_index()


def test_real_and_simulated_are_trained_separately():
    frame = pd.concat([synthetic_passes(dataset="simulated", seed=1),
                       synthetic_passes(dataset="real", seed=2, first_game=2017090700)], ignore_index=True)
    out = pipeline.train(frame)
    assert set(out.models) == {"real", "simulated"}
    assert set(out.metrics["dataset"]) == {"real", "simulated"}
    assert (out.metrics["n"] == 360).all()
    assert set(out.metadata["datasets"]) == {"real", "simulated"}


# ---- small data ------------------------------------------------------------------------------------

def test_too_few_passes_is_skipped_with_a_reason():
    frame = pd.concat([synthetic_passes(n_games=2, per_game=4, dataset="real", first_game=2017090700),
                       synthetic_passes(dataset="simulated")], ignore_index=True)
    out = pipeline.train(frame)
    assert set(out.models) == {"simulated"}
    assert "8 labelled passes" in out.metadata["skipped"]["real"]
    assert set(out.metrics["dataset"]) == {"simulated"}


def test_single_class_gives_a_clear_error():
    frame = synthetic_passes(n_games=4, per_game=10)
    frame["is_complete"] = True
    with pytest.raises(CompletionDataError, match="0 incompletions"):
        model.grouped_cv_predict(frame[list(FEATURE_COLUMNS)], frame["is_complete"], frame["game_id"])
    assert isinstance(CompletionDataError("x"), NgsError)
    assert pipeline.train(frame).models == {}


def test_single_game_gives_a_clear_error():
    with pytest.raises(CompletionDataError, match="grouped CV needs at least 2 games"):
        model.grouped_folds([5, 5, 5])


def test_a_training_fold_with_one_class_is_a_clear_error():
    frame = synthetic_passes(n_games=5, per_game=8)
    y = np.zeros(len(frame), dtype=int)
    y[:8] = 1  # every completion in game 1: the fold testing game 1 trains on incompletions only
    with pytest.raises(CompletionDataError, match="only incompletions|rarer outcome"):
        model.grouped_cv_predict(frame[list(FEATURE_COLUMNS)], y, frame["game_id"])


def test_missing_feature_column_is_named():
    frame = synthetic_passes().drop(columns=["time_to_throw_s"])
    with pytest.raises(CompletionDataError, match="time_to_throw_s"):
        pipeline.train(frame)


# ---- artefacts -------------------------------------------------------------------------------------

def test_loading_a_missing_artefact_says_how_to_train(tmp_path):
    with pytest.raises(ArtifactMissingError, match="ngs build --data DIR"):
        artifacts.load(root=tmp_path)
    with pytest.raises(ArtifactMissingError, match="cp-v1-0000000000"):
        artifacts.load("cp-v1-0000000000", root=tmp_path)


def test_save_load_and_score_round_trip(tmp_path):
    frame = synthetic_passes(n_games=8, per_game=20)
    out = pipeline.train(frame)
    path = artifacts.save(out, root=tmp_path)
    assert path.name == out.version and (tmp_path / "LATEST").read_text().strip() == out.version
    stored = artifacts.load(root=tmp_path)
    assert stored.metadata["datasets"]["simulated"]["n_passes"] == len(frame)
    pd.testing.assert_frame_equal(stored.metrics, out.metrics, check_dtype=False)

    unseen = synthetic_passes(n_games=1, per_game=5, seed=9, first_game=2031010100)
    unseen["is_complete"] = None
    scored = pipeline.score(pd.concat([frame, unseen], ignore_index=True), stored.version, stored.models,
                            stored.cv_predictions)
    assert len(scored) == len(frame) + 5
    assert scored["completion_probability"].between(0, 1).all()
    assert (scored["model_version"] == out.version).all()
    trained = scored[scored["in_training"]]
    assert len(trained) == len(frame)
    np.testing.assert_allclose(trained["expected_completion_probability"], trained["cv_heldout_probability"])
    new = scored[~scored["in_training"]]
    assert new["cv_fold"].isna().all()
    np.testing.assert_allclose(new["expected_completion_probability"], new["completion_probability"])


def test_missing_feature_values_are_handled():
    frame = synthetic_passes(n_games=6, per_game=20)
    frame["defenders_within_radius_arrival"] = frame["defenders_within_radius_arrival"].astype("Int64")
    frame.loc[::7, "defenders_within_radius_arrival"] = pd.NA
    frame.loc[::5, "time_to_throw_s"] = np.nan
    frame.loc[::11, "air_distance_yd"] = np.nan
    out = pipeline.train(frame)
    assert out.cv_predictions["cv_heldout_probability"].notna().all()
    assert out.cv_predictions["cv_heldout_baseline_probability"].notna().all()
