"""Estimators, grouped cross-validation and permutation importance for completion probability.

* `completion_probability`: HistGradientBoostingClassifier on every feature (the release's categorical play
  context ordinal-encoded; a feature with fewer than two values in the training part is dropped there),
  calibrated with CalibratedClassifierCV fitted on the training part only (inner folds grouped by game).
* `completion_baseline_pass_length`: logistic regression on pass length and time in the air (what
  play-by-play data sees), fitted and calibrated the same way, on the same outer folds.

Outer folds are GroupKFold by game: every play of a test game is held out together, so no play of a
test game is ever in training. Everything is deterministic (fixed random_state, no shuffling).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from ngs.completion.errors import CompletionDataError
from ngs.completion.features import (
    BASELINE_FEATURES,
    CATEGORICAL_FEATURES,
    FEATURE_COLUMNS,
    NUMERIC_FEATURES,
    quantised,
)
from ngs.threads import limited_threads

RANDOM_STATE = 20190907
MODEL_NAME = "completion_probability"
BASELINE_NAME = "completion_baseline_pass_length"

N_OUTER_FOLDS = 5
N_INNER_FOLDS = 3
MIN_PASSES = 20            # below this a held-out estimate is noise
MIN_PER_CLASS = 5          # completions and incompletions each
ISOTONIC_MIN_PASSES = 1000  # isotonic calibration overfits below ~1000 samples (sklearn user guide)
PERMUTATION_REPEATS = 3

HGB_PARAMS: dict = {
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": RANDOM_STATE,
}


@dataclass(frozen=True)
class ModelSpec:
    """A named estimator and the feature columns it reads."""

    name: str
    features: tuple[str, ...]
    make_estimator: Callable[[], BaseEstimator]


class InformativeColumns(TransformerMixin, BaseEstimator):
    """Keeps the columns with at least two distinct non-missing values in the data it was fitted on: a
    release that lacks a measurement (no passer in BDB 2026 output-only plays, no route in the simulator)
    leaves an all-missing column, which gradient boosting's binning cannot take."""

    def fit(self, X, y=None):
        values = np.asarray(X, dtype="float64")
        self.keep_ = np.array([np.unique(col[~np.isnan(col)]).size >= 2 for col in values.T], dtype=bool)
        return self

    def transform(self, X):
        return np.asarray(X, dtype="float64")[:, self.keep_]


class CategoryCodes(OrdinalEncoder):
    """OrdinalEncoder (the same fit, categories and codes; unknown and missing values encoded NaN) with a
    vectorised transform: scikit-learn's looks each object value up in Python, twice (~0.16 s for 60,000
    rows x 7 columns, once per calibrated model of the ensemble on every scoring call); pandas' categorical
    codes give the same numbers in ~0.02 s (tests/test_completion_model.py compares the two)."""

    def __init__(self):
        super().__init__(handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan)

    def transform(self, X):
        check_is_fitted(self)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
        if frame.shape[1] != len(self.categories_):
            raise ValueError(f"{type(self).__name__}: {frame.shape[1]} columns, fitted on {len(self.categories_)}")
        out = np.empty(frame.shape, dtype="float64")
        for i, categories in enumerate(self.categories_):
            known = [c for c in categories if not pd.isna(c)]  # missing comes last in categories_ and is NaN
            codes = pd.Categorical(frame.iloc[:, i], categories=known).codes.astype("float64")
            codes[codes < 0] = np.nan  # unknown or missing
            out[:, i] = codes
        return out


def make_gradient_boosting() -> BaseEstimator:
    encode = ColumnTransformer([
        ("categorical", make_pipeline(
            CategoryCodes(),
            InformativeColumns()), list(CATEGORICAL_FEATURES)),
        ("numeric", InformativeColumns(), list(NUMERIC_FEATURES)),
    ])
    return make_pipeline(encode, HistGradientBoostingClassifier(**HGB_PARAMS))


def make_pass_length_logistic() -> BaseEstimator:
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression())


MODEL_SPEC = ModelSpec(MODEL_NAME, FEATURE_COLUMNS, make_gradient_boosting)
BASELINE_SPEC = ModelSpec(BASELINE_NAME, BASELINE_FEATURES, make_pass_length_logistic)
SPECS: tuple[ModelSpec, ...] = (MODEL_SPEC, BASELINE_SPEC)


def calibration_method(n_passes: int) -> str:
    """Isotonic when there is enough data for it, else sigmoid (Platt)."""
    return "isotonic" if n_passes >= ISOTONIC_MIN_PASSES else "sigmoid"


def check_trainable(y: np.ndarray, groups: np.ndarray, what: str = "data") -> None:
    """Raise CompletionDataError saying what is missing for grouped CV on these labels and games."""
    y = np.asarray(y)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    n_games = int(pd.unique(np.asarray(groups)).size)
    problems = []
    if y.size < MIN_PASSES:
        problems.append(f"{y.size} labelled passes (need >= {MIN_PASSES})")
    if min(n_pos, n_neg) < MIN_PER_CLASS:
        problems.append(f"{n_pos} completions and {n_neg} incompletions (need >= {MIN_PER_CLASS} of each)")
    if n_games < 2:
        problems.append(f"{n_games} game (grouped CV by game needs >= 2)")
    if problems:
        raise CompletionDataError(f"cannot train the completion model on {what}: " + "; ".join(problems))


def grouped_folds(groups: Sequence, n_splits: int = N_OUTER_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold splits by game; fewer folds when there are fewer games. Deterministic (no shuffle)."""
    groups = np.asarray(groups)
    n_games = pd.unique(groups).size
    if n_games < 2:
        raise CompletionDataError(f"grouped CV needs at least 2 games, got {n_games}")
    k = min(n_splits, n_games)
    dummy = np.zeros(groups.size)
    return [(tr, te) for tr, te in GroupKFold(n_splits=k).split(dummy, groups=groups)]


def _inner_cv(y: np.ndarray, groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]] | StratifiedKFold:
    """Calibration folds inside a training set: by game when every inner training part has both classes,
    else stratified by label (plays of one game may then be split), deterministic either way."""
    n_games = pd.unique(groups).size
    if n_games >= 2:
        k = min(N_INNER_FOLDS, n_games)
        splits = list(GroupKFold(n_splits=k).split(np.zeros(y.size), groups=groups))
        if all(np.unique(y[tr]).size == 2 for tr, _ in splits):
            return splits
    minority = int(min((y == 1).sum(), (y == 0).sum()))
    if minority < 2:
        raise CompletionDataError(
            f"a training fold has {minority} pass(es) of its rarer outcome; calibration needs >= 2"
        )
    return StratifiedKFold(n_splits=min(N_INNER_FOLDS, minority), shuffle=True, random_state=RANDOM_STATE)


def _matrix(X: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The spec's columns: numbers as float64 rounded to FEATURE_DECIMALS (nullable integers from DuckDB become
    NaN, which the models handle), categories as Python objects with NaN for missing (what OrdinalEncoder takes)."""
    out = pd.DataFrame(index=X.index)
    for col in spec.features:
        if col in CATEGORICAL_FEATURES:
            values = X[col].astype(object)
            out[col] = values.where(X[col].notna(), np.nan)
        else:
            out[col] = quantised(X[col])
    return out


def fit_calibrated(spec: ModelSpec, X: pd.DataFrame, y: np.ndarray, groups: np.ndarray,
                   method: str) -> CalibratedClassifierCV:
    """Fit `spec` with calibration learnt on held-out inner folds of (X, y) only."""
    y = np.asarray(y).astype(int)
    if np.unique(y).size < 2:
        raise CompletionDataError(
            f"{spec.name}: a training set holds only {'completions' if y.all() else 'incompletions'}; "
            "grouped CV needs both outcomes in every training fold (add games)"
        )
    model = CalibratedClassifierCV(clone(spec.make_estimator()), method=method,
                                   cv=_inner_cv(y, np.asarray(groups)), ensemble=True)
    with limited_threads():
        model.fit(_matrix(X, spec), y)
    return model


def predict_proba(model: CalibratedClassifierCV, spec: ModelSpec, X: pd.DataFrame) -> np.ndarray:
    """Probability of a completion, clipped away from 0 and 1 so log loss stays finite."""
    with limited_threads():
        p = model.predict_proba(_matrix(X, spec))[:, 1]
    return np.clip(p, 1e-6, 1 - 1e-6)


@dataclass
class CvResult:
    """Held-out predictions of every spec, one row per pass, plus per-fold permutation importances."""

    fold: np.ndarray
    probabilities: dict[str, np.ndarray]
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    method: str = "sigmoid"
    n_folds: int = 0


def _neg_log_loss(estimator: BaseEstimator, X: pd.DataFrame, y: np.ndarray) -> float:
    return -float(log_loss(y, np.clip(estimator.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6), labels=[0, 1]))


def grouped_cv_predict(X: pd.DataFrame, y: Sequence, groups: Sequence,
                       specs: Sequence[ModelSpec] = SPECS, n_splits: int = N_OUTER_FOLDS,
                       importance_for: str | None = MODEL_NAME,
                       n_repeats: int = PERMUTATION_REPEATS) -> CvResult:
    """Outer GroupKFold by game: fit each spec on the training games, predict the held-out games.

    Permutation importance (increase in held-out log loss when one feature is shuffled) is measured
    on each held-out fold for the spec named `importance_for`.
    """
    with limited_threads():
        return _grouped_cv_predict(X, y, groups, specs, n_splits, importance_for, n_repeats)


def _grouped_cv_predict(X: pd.DataFrame, y: Sequence, groups: Sequence, specs: Sequence[ModelSpec],
                        n_splits: int, importance_for: str | None, n_repeats: int) -> CvResult:
    y = np.asarray(y).astype(int)
    groups = np.asarray(groups)
    X = X.reset_index(drop=True)
    check_trainable(y, groups)
    folds = grouped_folds(groups, n_splits)
    method = calibration_method(y.size)
    fold_of = np.full(y.size, -1, dtype=int)
    probs = {s.name: np.full(y.size, np.nan) for s in specs}
    rows = []
    for k, (tr, te) in enumerate(folds):
        fold_of[te] = k
        for spec in specs:
            model = fit_calibrated(spec, X.iloc[tr], y[tr], groups[tr], method)
            probs[spec.name][te] = predict_proba(model, spec, X.iloc[te])
            if spec.name == importance_for:
                Xte = _matrix(X.iloc[te], spec)
                result = permutation_importance(model, Xte, y[te], scoring=_neg_log_loss,
                                                n_repeats=n_repeats, random_state=RANDOM_STATE)
                for j, feat in enumerate(spec.features):
                    for r, value in enumerate(result.importances[j]):
                        rows.append({"model": spec.name, "fold": k, "feature": feat, "repeat": r,
                                     "importance": float(value), "n": int(te.size)})
    return CvResult(fold=fold_of, probabilities=probs, importance=pd.DataFrame(rows),
                    method=method, n_folds=len(folds))


def summarise_importance(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Per feature: mean increase in held-out log loss (weighted by fold size), its std, passes, repeats."""
    cols = ["model", "feature", "importance_mean", "importance_std", "n", "n_repeats", "rank"]
    if per_fold.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for (model, feat), g in per_fold.groupby(["model", "feature"], sort=False):
        w = g["n"].to_numpy(dtype=float)
        v = g["importance"].to_numpy(dtype=float)
        out.append({"model": model, "feature": feat,
                    "importance_mean": float(np.average(v, weights=w)),
                    "importance_std": float(np.std(v)),
                    "n": int(g.drop_duplicates("fold")["n"].sum()),
                    "n_repeats": int(g["repeat"].nunique())})
    table = pd.DataFrame(out)
    table = table.sort_values(["model", "importance_mean", "feature"], ascending=[True, False, True])
    table["rank"] = table.groupby("model").cumcount() + 1
    return table[cols].reset_index(drop=True)


def fit_final(X: pd.DataFrame, y: Sequence, groups: Sequence,
              specs: Sequence[ModelSpec] = SPECS) -> dict[str, CalibratedClassifierCV]:
    """Every spec fitted (and calibrated on inner folds) on all labelled passes."""
    y = np.asarray(y).astype(int)
    groups = np.asarray(groups)
    check_trainable(y, groups)
    method = calibration_method(y.size)
    with limited_threads():
        return {s.name: fit_calibrated(s, X.reset_index(drop=True), y, groups, method) for s in specs}
