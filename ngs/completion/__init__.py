"""Completion probability from tracking: features come from dbt (marts.fct_pass_features); this package
trains a calibrated gradient-boosting model and an air-distance baseline with grouped CV by game,
measures them on held-out folds, stores the final model and scores every pass."""

from ngs.completion.errors import CompletionDataError
from ngs.completion.features import BASELINE_FEATURES, FEATURE_COLUMNS
from ngs.completion.model import BASELINE_NAME, MODEL_NAME

__all__ = ["BASELINE_FEATURES", "BASELINE_NAME", "FEATURE_COLUMNS", "MODEL_NAME", "CompletionDataError"]
