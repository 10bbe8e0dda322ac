"""A dbt Python model that runs unchanged on DuckDB and on Spark: per-play features and a logistic score,
computed pandas-per-partition (Spark: mapInPandas on the executors; DuckDB: hash buckets in turn)."""

import numpy as np

from ngs.spark.frames import map_partitions

SCHEMA = "game_id bigint, play_id bigint, nfl_id bigint, n_frames bigint, mean_speed_yps double, path_yd double, score double"


def score_partition(frames):
    """Complete (game) groups in, one row per (game, play, player) out; nothing depends on other groups."""
    frames = frames.sort_values(["game_id", "play_id", "nfl_id", "frame_id"])
    keys = ["game_id", "play_id", "nfl_id"]
    step = np.hypot(frames.groupby(keys)["x"].diff(), frames.groupby(keys)["y"].diff())
    frames = frames.assign(step_yd=step.fillna(0.0))
    out = frames.groupby(keys, as_index=False).agg(
        n_frames=("frame_id", "size"), mean_speed_yps=("speed_yps", "mean"), path_yd=("step_yd", "sum"))
    logit = -2.0 + 0.35 * out["mean_speed_yps"].fillna(0.0) + 0.05 * out["path_yd"]
    out["score"] = 1.0 / (1.0 + np.exp(-logit))
    return out


def model(dbt, session):
    dbt.config(materialized="table")
    frames = dbt.ref("toy_frames_clean")
    return map_partitions(frames, score_partition, by=["game_id"], schema=SCHEMA, partitions=3)
