"""Train, evaluate and score: pure functions from a pass-feature frame to the report tables.

Real and simulated passes are never mixed: each dataset gets its own grouped CV, its own metrics and
its own final model (stored side by side in one artefact version).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sklearn

from ngs.completion import model as m
from ngs.completion.errors import CompletionDataError
from ngs.completion.features import (
    DATASET_COLUMN,
    DATASETS,
    FEATURE_COLUMNS,
    GROUP_COLUMN,
    KEY_COLUMNS,
    LABEL_COLUMN,
    NUMERIC_FEATURES,
    check_feature_frame,
    labelled,
    quantised,
)
from ngs.completion.metrics import METRICS, calibration_table, probability_metrics
from ngs.threads import limited_threads

VERSION_PREFIX = "cp-v1"
SPLIT_CV = "cv_heldout"

METRICS_COLUMNS = ["model", "version", "dataset", "split", "metric", "value", "n"]
CALIBRATION_COLUMNS = ["model", "version", "dataset", "bin", "bin_lower", "bin_upper",
                       "mean_predicted", "observed_rate", "n"]
IMPORTANCE_COLUMNS = ["model", "version", "dataset", "feature", "importance_mean", "importance_std",
                      "n", "n_repeats", "rank"]
CV_COLUMNS = ["game_id", "play_id", "dataset", "model_version", "cv_fold",
              "cv_heldout_probability", "cv_heldout_baseline_probability", "is_complete"]
SCORE_COLUMNS = ["game_id", "play_id", "dataset", "is_complete", "completion_probability",
                 "baseline_probability", "in_training", "cv_fold", "cv_heldout_probability",
                 "expected_completion_probability", "model_version"]


@dataclass
class TrainingOutput:
    """Everything one training run produces; `ngs.completion.artifacts` stores it as one version."""

    version: str
    models: dict[str, dict[str, object]]
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    cv_predictions: pd.DataFrame
    metadata: dict = field(default_factory=dict)


def model_version(frame: pd.DataFrame) -> str:
    """cp-v1-<10 hex>: a hash of the labelled training rows (numeric features as the model sees them:
    ngs.completion.features.quantised), the feature list, the hyper-parameters and
    the scikit-learn version, so the same data and code always give the same version."""
    data = labelled(frame)[[*KEY_COLUMNS, DATASET_COLUMN, *FEATURE_COLUMNS, LABEL_COLUMN]]
    for col in NUMERIC_FEATURES:   # the values the model sees (engines agree on them, not on the last bit)
        data[col] = quantised(data[col])
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    h.update(json.dumps({"features": FEATURE_COLUMNS, "hgb": m.HGB_PARAMS, "folds": m.N_OUTER_FOLDS,
                         "inner": m.N_INNER_FOLDS, "sklearn": sklearn.__version__},
                        sort_keys=True).encode())
    return f"{VERSION_PREFIX}-{h.hexdigest()[:10]}"


def _typed(frame: pd.DataFrame, columns: list[str], dtypes: dict[str, str]) -> pd.DataFrame:
    out = frame.reindex(columns=columns) if not frame.empty else pd.DataFrame(columns=columns)
    return out.astype({c: t for c, t in dtypes.items() if c in out.columns})


def empty_metrics() -> pd.DataFrame:
    return _typed(pd.DataFrame(), METRICS_COLUMNS, {"value": "float64", "n": "int64"})


def train(frame: pd.DataFrame) -> TrainingOutput:
    """Grouped CV (by game) of the model and the baseline, then final fits on all passes, per dataset.

    A dataset too small for grouped CV is skipped and the reason recorded in metadata['skipped'];
    no error is raised unless the frame itself is malformed.
    """
    with limited_threads():
        return _train(frame)


def _train(frame: pd.DataFrame) -> TrainingOutput:
    check_feature_frame(frame)
    version = model_version(frame)
    data = labelled(frame)
    models: dict[str, dict[str, object]] = {}
    metrics, calib, importance, cv_rows = [], [], [], []
    meta_datasets: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for dataset in DATASETS:
        part = data[data[DATASET_COLUMN] == dataset].reset_index(drop=True)
        if part.empty:
            continue
        X, y, groups = part[list(FEATURE_COLUMNS)], part[LABEL_COLUMN].to_numpy(), part[GROUP_COLUMN].to_numpy()
        try:
            cv = m.grouped_cv_predict(X, y, groups)
            models[dataset] = m.fit_final(X, y, groups)
        except CompletionDataError as exc:
            skipped[dataset] = str(exc)
            continue
        for spec in m.SPECS:
            p = cv.probabilities[spec.name]
            for metric, value in probability_metrics(y, p).items():
                metrics.append({"model": spec.name, "version": version, "dataset": dataset,
                                "split": SPLIT_CV, "metric": metric, "value": value, "n": int(y.size)})
            table = calibration_table(y, p)
            table.insert(0, "dataset", dataset)
            table.insert(0, "version", version)
            table.insert(0, "model", spec.name)
            calib.append(table)
        imp = m.summarise_importance(cv.importance)
        imp.insert(1, "version", version)
        imp.insert(2, "dataset", dataset)
        importance.append(imp)
        cv_rows.append(pd.DataFrame({
            "game_id": part["game_id"], "play_id": part["play_id"], "dataset": dataset,
            "model_version": version, "cv_fold": cv.fold,
            "cv_heldout_probability": cv.probabilities[m.MODEL_NAME],
            "cv_heldout_baseline_probability": cv.probabilities[m.BASELINE_NAME],
            "is_complete": y.astype(bool)}))
        meta_datasets[dataset] = {
            "n_passes": int(y.size), "n_games": int(pd.unique(groups).size),
            "completion_rate": float(y.mean()), "n_folds": cv.n_folds, "calibration": cv.method,
            "n_unlabelled_passes": int(((frame[DATASET_COLUMN] == dataset) & frame[LABEL_COLUMN].isna()).sum()),
        }
    metrics_df = pd.DataFrame(metrics) if metrics else empty_metrics()
    # AUC is undefined when the held-out labels hold one class: drop the row rather than store NaN.
    metrics_df = metrics_df[metrics_df["value"].notna()].reset_index(drop=True)
    metadata = {
        "version": version, "model": m.MODEL_NAME, "baseline": m.BASELINE_NAME,
        "features": list(FEATURE_COLUMNS), "baseline_features": list(m.BASELINE_SPEC.features),
        "hgb_params": m.HGB_PARAMS, "outer_cv": f"GroupKFold(n_splits<={m.N_OUTER_FOLDS}) by game_id",
        "inner_calibration_cv": f"GroupKFold(n_splits<={m.N_INNER_FOLDS}) by game_id inside the training part",
        "random_state": m.RANDOM_STATE, "sklearn_version": sklearn.__version__,
        "metrics": list(METRICS), "datasets": meta_datasets, "skipped": skipped,
    }
    return TrainingOutput(
        version=version, models=models,
        metrics=_typed(metrics_df, METRICS_COLUMNS, {"value": "float64", "n": "int64"}),
        calibration=_typed(pd.concat(calib, ignore_index=True) if calib else pd.DataFrame(),
                           CALIBRATION_COLUMNS, {"bin": "int64", "bin_lower": "float64", "bin_upper": "float64",
                                                 "mean_predicted": "float64", "observed_rate": "float64",
                                                 "n": "int64"}),
        importance=_typed(pd.concat(importance, ignore_index=True) if importance else pd.DataFrame(),
                          IMPORTANCE_COLUMNS, {"importance_mean": "float64", "importance_std": "float64",
                                               "n": "int64", "n_repeats": "int64", "rank": "int64"}),
        cv_predictions=_typed(pd.concat(cv_rows, ignore_index=True) if cv_rows else pd.DataFrame(),
                              CV_COLUMNS, {"cv_fold": "int64", "cv_heldout_probability": "float64",
                                           "cv_heldout_baseline_probability": "float64",
                                           "is_complete": "bool"}),
        metadata=metadata,
    )


def score(frame: pd.DataFrame, version: str, models: dict[str, dict[str, object]],
          cv_predictions: pd.DataFrame) -> pd.DataFrame:
    """Every pass scored by the final model of its own dataset; the held-out CV probability joined where
    the pass was in that version's training set. `expected_completion_probability` is the held-out CV
    probability for training passes and the final model's otherwise (out of sample either way).
    Passes of a dataset the version has no model for get NULL probabilities."""
    with limited_threads():
        return _score(frame, version, models, cv_predictions)


def _score(frame: pd.DataFrame, version: str, models: dict[str, dict[str, object]],
           cv_predictions: pd.DataFrame) -> pd.DataFrame:
    check_feature_frame(frame, require_label=False)
    data = frame.sort_values(list(KEY_COLUMNS), kind="mergesort").reset_index(drop=True)
    p_model = np.full(len(data), np.nan)
    p_base = np.full(len(data), np.nan)
    for dataset, fitted in models.items():
        mask = (data[DATASET_COLUMN] == dataset).to_numpy()
        if mask.any():
            X = data.loc[mask, list(FEATURE_COLUMNS)]
            p_model[mask] = m.predict_proba(fitted[m.MODEL_NAME], m.MODEL_SPEC, X)
            p_base[mask] = m.predict_proba(fitted[m.BASELINE_NAME], m.BASELINE_SPEC, X)
    out = data[[*KEY_COLUMNS, DATASET_COLUMN]].copy()
    out["is_complete"] = data[LABEL_COLUMN].astype("boolean") if LABEL_COLUMN in data else pd.NA
    out["completion_probability"] = p_model
    out["baseline_probability"] = p_base
    cv = cv_predictions[[*KEY_COLUMNS, "dataset", "cv_fold", "cv_heldout_probability"]]
    out = out.merge(cv, on=[*KEY_COLUMNS, "dataset"], how="left", validate="one_to_one")
    out["in_training"] = out["cv_fold"].notna()
    out["cv_fold"] = out["cv_fold"].astype("Int64")
    out["expected_completion_probability"] = out["cv_heldout_probability"].fillna(out["completion_probability"])
    out["model_version"] = version
    return out[SCORE_COLUMNS]
