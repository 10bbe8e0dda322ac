"""Counterfactual consistency: run on the receiver who was really targeted, the counterfactual machinery
must give features close to the ones measured from the real tracking (marts.fct_pass_features).

Rows in the shared metrics shape (model, version, dataset, split, metric, value, n):

* split 'counterfactual_consistency', per dataset: mean absolute error (and mean signed error, ``bias_``)
  of the separation at the arrival, the air distance and the completion probability (both feature sets
  scored by the same stored model), and of the flight time, with the flight-time model's arrival; the
  same with suffix ``_real_arrival`` when the real arrival frame is imposed (isolates ghosting and routes
  from the flight-time model), also for two diagnostics: model ``..._constant_acceleration`` (defenders
  extrapolated by the constant-acceleration baseline instead of the network) and ``..._real_defenders``
  (every defender on his real path: what is left without any ghosting);
* split 'flight_time_fit' (or 'flight_time_pooled_fit' / 'flight_time_default' where it fell back): the
  flight-time model per dataset (intercept_s, ball_speed_yps, mae_s);
* split 'scoring': options per pass and the share of ghosted steps shortened to the speed cap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ngs.decisions import MODEL_NAME
from ngs.decisions.flight import FlightModel

METRIC_COLUMNS = ["model", "version", "dataset", "split", "metric", "value", "n"]
SPLIT = "counterfactual_consistency"
COMPARED = {
    "separation_arrival_yd": "receiver_separation_arrival_yd",
    "air_distance_yd": "air_distance_yd",
    "completion_probability": "completion_probability",
    "flight_time_s": "flight_time_s",
}


def _pair_rows(version: str, dataset: str, cf: pd.DataFrame, measured: pd.DataFrame, suffix: str,
               model: str = MODEL_NAME) -> list[tuple]:
    both = cf.merge(measured, on=["game_id", "play_id"], suffixes=("_cf", "_real"))
    rows = []
    for name, col in COMPARED.items():
        if suffix and name == "flight_time_s":
            continue  # imposed: zero by construction
        a, b = both[f"{col}_cf"].to_numpy(float), both[f"{col}_real"].to_numpy(float)
        ok = np.isfinite(a) & np.isfinite(b)
        if not ok.any():
            continue
        err = a[ok] - b[ok]
        rows.append((model, version, dataset, SPLIT, f"mae_{name}{suffix}", float(np.abs(err).mean()), int(ok.sum())))
        rows.append((model, version, dataset, SPLIT, f"bias_{name}{suffix}", float(err.mean()), int(ok.sum())))
    return rows


def consistency_metrics(version: str, actual: pd.DataFrame, measured: pd.DataFrame,
                        real_arrival: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """``actual``: the real targets' option rows (completion_probability scored) with the flight model's
    arrival; ``real_arrival``: {model name: the same rows built with the real arrival imposed} (the
    counterfactual itself and diagnostics such as a constant-acceleration ghost or the real defenders);
    ``measured``: fct_pass_features rows with a ``completion_probability`` scored by the same model and the
    real ``flight_time_s``."""
    rows: list[tuple] = []
    keep = ["game_id", "play_id", *COMPARED.values()]
    for dataset, part in measured.groupby("dataset", sort=True):
        m = part[keep]
        rows += _pair_rows(version, str(dataset), actual.loc[actual["dataset"] == dataset, keep], m, "")
        for model, frame in (real_arrival or {}).items():
            if frame is not None and len(frame):
                sub = frame.loc[frame["dataset"] == dataset, keep]
                rows += _pair_rows(version, str(dataset), sub, m, "_real_arrival", model)
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def flight_rows(version: str, models: dict[str, FlightModel]) -> pd.DataFrame:
    rows = []
    for dataset, fm in sorted(models.items()):
        for metric in ("intercept_s", "ball_speed_yps", "mae_s"):
            rows.append((MODEL_NAME, version, dataset, f"flight_time_{fm.method}", metric,
                         float(getattr(fm, metric)), fm.n))
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def scoring_rows(version: str, options: pd.DataFrame) -> pd.DataFrame:
    """Options per pass and the share of ghosted steps shortened to the speed cap, per dataset."""
    rows = []
    for dataset, part in options.groupby("dataset", sort=True):
        per_pass = part.groupby(["game_id", "play_id"]).size()
        rows.append((MODEL_NAME, version, str(dataset), "scoring", "options_per_pass", float(per_pass.mean()),
                     int(per_pass.size)))
        steps = int(part["ghost_steps"].sum())
        if steps:
            rows.append((MODEL_NAME, version, str(dataset), "scoring", "share_ghost_steps_speed_capped",
                         float(part["ghost_steps_capped"].sum()) / steps, steps))
    return pd.DataFrame(rows, columns=METRIC_COLUMNS)


def typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=METRIC_COLUMNS)
    return out.astype({"model": "object", "version": "object", "dataset": "object", "split": "object",
                       "metric": "object", "value": "float64", "n": "int64"})
