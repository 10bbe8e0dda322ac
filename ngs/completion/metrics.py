"""Probability metrics for a binary outcome: log loss, Brier score, ROC AUC, expected calibration error.

Every function takes plain arrays of labels (0/1) and predicted probabilities of the positive class.
A metric that is undefined on the given labels (AUC with one class) returns NaN instead of raising,
so a report can skip it and say why.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

N_CALIBRATION_BINS = 10
METRICS: tuple[str, ...] = ("log_loss", "brier", "auc", "ece")

CALIBRATION_COLUMNS: tuple[str, ...] = ("bin", "bin_lower", "bin_upper", "mean_predicted", "observed_rate", "n")


def _arrays(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_prob, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"labels ({y.shape[0]}) and probabilities ({p.shape[0]}) differ in length")
    if y.size and not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if p.size and (np.isnan(p).any() or (p < 0).any() or (p > 1).any()):
        raise ValueError("probabilities must lie in [0, 1] and not be NaN")
    return y, p


def bin_index(y_prob: ArrayLike, n_bins: int = N_CALIBRATION_BINS) -> np.ndarray:
    """Equal-width bins over [0, 1]: bin b holds [b/n, (b+1)/n); p = 1 falls in the last bin."""
    p = np.asarray(y_prob, dtype=float).ravel()
    return np.clip(np.floor(p * n_bins).astype(int), 0, n_bins - 1)


def calibration_table(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = N_CALIBRATION_BINS) -> pd.DataFrame:
    """One row per non-empty bin: mean predicted probability, observed rate, count."""
    y, p = _arrays(y_true, y_prob)
    b = bin_index(p, n_bins)
    frame = pd.DataFrame({"bin": b, "p": p, "y": y})
    out = (frame.groupby("bin", sort=True)
           .agg(mean_predicted=("p", "mean"), observed_rate=("y", "mean"), n=("y", "size"))
           .reset_index())
    out.insert(1, "bin_lower", out["bin"] / n_bins)
    out.insert(2, "bin_upper", (out["bin"] + 1) / n_bins)
    out["n"] = out["n"].astype("int64")
    return out[list(CALIBRATION_COLUMNS)]


def expected_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, n_bins: int = N_CALIBRATION_BINS) -> float:
    """ECE = sum over bins of (n_b / N) * |mean predicted_b - observed rate_b| (equal-width bins)."""
    y, p = _arrays(y_true, y_prob)
    if y.size == 0:
        return float("nan")
    table = calibration_table(y, p, n_bins)
    weights = table["n"].to_numpy() / y.size
    return float(np.sum(weights * np.abs(table["mean_predicted"] - table["observed_rate"])))


def probability_metrics(y_true: ArrayLike, y_prob: ArrayLike) -> dict[str, float]:
    """log_loss, brier, auc, ece; NaN for a metric the labels cannot define (AUC needs both classes)."""
    y, p = _arrays(y_true, y_prob)
    if y.size == 0:
        return dict.fromkeys(METRICS, float("nan"))
    both = np.unique(y).size == 2
    return {
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p, pos_label=1)),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "ece": expected_calibration_error(y, p),
    }
