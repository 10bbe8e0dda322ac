"""What the dbt Python models in python_models/completion/ compute (called through ngs.dbt_glue.run).

The training model (`fct_completion_cv_predictions`, tag `train`) trains, stores the artefact and returns
the held-out CV predictions. The other models read the model version from that table when it was built
in this run (``trained``: its relation, None when the run excludes it), else the stored version named by
LATEST (so `dbt build --exclude tag:train` scores with the stored model), and return what the artefact
recorded at training (metrics, calibration, importance) or the scores of every pass. Every row carries
the model version.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from ngs import incremental
from ngs.completion import artifacts, pipeline
from ngs.completion.features import FEATURE_DECIMALS
from ngs.decisions import flight
from ngs.spark.bridge import per_game

log = logging.getLogger(__name__)


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns as pandas strings, so an empty frame still lands in DuckDB as VARCHAR."""
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return frame


def train(features: pd.DataFrame) -> pd.DataFrame:
    """Train per dataset, store the artefact (LATEST moves only if a model was trained), return CV rows."""
    output = pipeline.train(features)
    # the decisions models' flight-time fit, stored with the model so scoring-only builds and appends keep it
    output.metadata[flight.METADATA_KEY] = flight.fit_training(features)
    path = artifacts.save(output, update_latest=bool(output.models))
    for dataset, reason in output.metadata["skipped"].items():
        log.warning("completion model: %s passes skipped: %s", dataset, reason)
    log.info("completion model %s stored in %s", output.version, path)
    return _strings(output.cv_predictions.copy())


def stored(trained: duckdb.DuckDBPyRelation | None) -> artifacts.StoredModel | None:
    """The version trained in this run (the training model's table, ``trained``), else LATEST; None when
    this run trained nothing (too little data)."""
    version = None
    if trained is not None:
        versions = trained.project("model_version").df()["model_version"].dropna()
        if not len(versions):
            return None
        version = versions.max()
    return artifacts.load(version)


def report(trained: duckdb.DuckDBPyRelation | None, table: str) -> pd.DataFrame:
    """`metrics`, `calibration` or `importance` as recorded when the model was trained."""
    model = stored(trained)
    empty = {"metrics": pipeline.METRICS_COLUMNS, "calibration": pipeline.CALIBRATION_COLUMNS,
             "importance": pipeline.IMPORTANCE_COLUMNS}[table]
    if model is None:
        frame = {"metrics": pipeline.empty_metrics()}.get(table, pd.DataFrame(columns=empty))
    else:
        frame = getattr(model, table)
    return _strings(frame.reindex(columns=empty).copy())


# On Spark each game is scored on the executors (ngs.spark.bridge): a pass's row depends on its feature row only
@per_game("features", schema="game_id bigint, play_id bigint, dataset string, is_complete boolean, "
          "completion_probability double, baseline_probability double, in_training boolean, cv_fold bigint, "
          "cv_heldout_probability double, expected_completion_probability double, model_version string, "
          "scoring_fingerprint string")
def score(features: duckdb.DuckDBPyRelation, trained: duckdb.DuckDBPyRelation | None,
          inc: incremental.Increment = incremental.FULL) -> pd.DataFrame:
    """Every pass scored with the stored model of its dataset (NULL where none was trained). Incremental
    (ngs.incremental): only the passes whose feature row or model version changed are scored; every row
    carries its scoring_fingerprint."""
    model = stored(trained)
    context = f"completion|{model.version if model is not None else 'none'}"
    # the features hashed as the model sees them (rounded to FEATURE_DECIMALS): the same fingerprint on both
    # engines where a feature differs in the last bit
    hashes = incremental.play_hashes(features, decimals=FEATURE_DECIMALS)
    plays = incremental.plan(inc, incremental.fingerprints(hashes, context))
    features = incremental.only(features, plays, inc, "ngs_incremental_completion_passes")
    return incremental.stamp(_score(features.df(), model), plays)


def _score(features: pd.DataFrame, model: artifacts.StoredModel | None) -> pd.DataFrame:
    if model is None:
        out = features[["game_id", "play_id", "dataset", "is_complete"]].copy()
        dtypes = {"completion_probability": "float64", "baseline_probability": "float64",
                  "in_training": "boolean", "cv_fold": "Int64", "cv_heldout_probability": "float64",
                  "expected_completion_probability": "float64", "model_version": "string"}
        for col in pipeline.SCORE_COLUMNS[4:]:
            dtype = dtypes.get(col, "object")
            fill = float("nan") if dtype == "float64" else pd.NA
            out[col] = pd.Series([fill] * len(out), index=out.index, dtype=dtype)
        return _strings(out[pipeline.SCORE_COLUMNS])
    return _strings(pipeline.score(features, model.version, model.models, model.cv_predictions))
