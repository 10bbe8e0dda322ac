"""The feature contract shared by the dbt mart `fct_pass_features` and the model code.

The SQL computes every feature; Python only reads the columns named here, so a renamed column fails
loudly in `check_feature_frame` instead of silently training on less.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ngs.completion.errors import CompletionDataError

KEY_COLUMNS: tuple[str, ...] = ("game_id", "play_id")
GROUP_COLUMN = "game_id"
DATASET_COLUMN = "dataset"
LABEL_COLUMN = "is_complete"

# Order matters only for reproducibility (the column order the estimators see). Measured on the tracking at
# the throw and arrival frames, or stated by the release about the play (NULL where a release lacks them:
# the model's gradient boosting takes missing values as they are).
NUMERIC_FEATURES: tuple[str, ...] = (
    "air_distance_yd",
    "receiver_separation_throw_yd",
    "receiver_separation_arrival_yd",
    "second_separation_throw_yd",
    "second_separation_arrival_yd",
    "separation_closed_yps",
    "passer_rusher_distance_throw_yd",
    "passer_speed_throw_yps",
    "time_to_throw_s",
    "time_in_air_s",
    "receiver_sideline_distance_arrival_yd",
    "receiver_speed_arrival_yps",
    "defender_closing_speed_arrival_yps",
    "defender_speed_arrival_yps",
    "defenders_within_radius_throw",
    "defenders_within_radius_arrival",
    "pass_depth_yd",
    "pass_length_yd",
    "yards_to_goal",
    "receiver_ball_land_distance_yd",
    "down",
    "yards_to_go",
    "is_play_action",
    "dropback_distance_yd",
    "defenders_in_the_box",
)

# Stated by the release (BDB 2026 supplementary_data): ordinal-encoded inside the model's pipeline.
CATEGORICAL_FEATURES: tuple[str, ...] = (
    "route",
    "coverage_man_zone",
    "pass_coverage",
    "dropback_type",
    "pass_location_type",
    "offense_formation",
    "receiver_alignment",
)

FEATURE_COLUMNS: tuple[str, ...] = (*NUMERIC_FEATURES, *CATEGORICAL_FEATURES)

# The numeric features enter the model (training, scoring) and its version hash rounded to 1e-6 (yards,
# seconds, yd/s): engines agree on them to an ulp, not bit for bit (measured: 4 of 1,183 passes of 10 simulated
# games had defender_closing_speed_arrival_yps 1e-16 apart on Spark and DuckDB, the velocity components'
# trigonometry), and an exact-bit hash made that another model version. A micro-yard is far below the
# tracking's precision (0.01 yd).
FEATURE_DECIMALS = 6


def quantised(values: pd.Series) -> pd.Series:
    """A numeric feature as float64 rounded to FEATURE_DECIMALS (NULL stays NaN; -0.0, from a value a hair
    below zero, becomes 0.0: its bits differ)."""
    return values.astype("float64").round(FEATURE_DECIMALS) + 0.0

# The baseline sees what play-by-play data sees: how far the pass went and how long it was in the air.
BASELINE_FEATURES: tuple[str, ...] = ("pass_length_yd", "time_in_air_s")

DATASETS: tuple[str, ...] = ("real", "simulated")


def check_feature_frame(frame: pd.DataFrame, *, require_label: bool = True,
                        features: Sequence[str] = FEATURE_COLUMNS) -> None:
    """Raise CompletionDataError naming every missing column (keys, dataset, features, label)."""
    needed = [*KEY_COLUMNS, DATASET_COLUMN, *features] + ([LABEL_COLUMN] if require_label else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise CompletionDataError(
            f"the pass-feature frame lacks column(s) {missing}; expected the columns of "
            "marts.fct_pass_features (models/marts/completion/fct_pass_features.sql)"
        )
    bad = set(frame[DATASET_COLUMN].dropna().unique()) - set(DATASETS)
    if bad:
        raise CompletionDataError(f"unknown dataset value(s) {sorted(bad)}; expected one of {list(DATASETS)}")


def labelled(frame: pd.DataFrame) -> pd.DataFrame:
    """Passes with a known outcome (is_complete not NULL), in a stable order (game_id, play_id)."""
    out = frame[frame[LABEL_COLUMN].notna()].copy()
    out[LABEL_COLUMN] = out[LABEL_COLUMN].astype(bool).astype(int)
    return out.sort_values(list(KEY_COLUMNS), kind="mergesort").reset_index(drop=True)
