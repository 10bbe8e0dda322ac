"""The same cleaning and feature work as the warehouse, written as a competent analyst would in pandas.

This is the yardstick `ngs bench` measures the DuckDB/dbt build against. It reads a Big Data Bowl
2023-format release (games, plays, players, pffScoutingData, tracking_week_*.csv: what `ngs simulate`
writes), and for each weekly tracking file (the usual way to fit a season in memory):

- cleaning: duplicate keys, missing positions, off-field rows, teleports, implied and reported speed
  (thresholds from seeds/quality_rules.csv through `ngs.constants`, applied in the same priority order
  as `int_tracking_flagged`), the play-level share rule;
- standardisation (offence towards +x), velocity/acceleration components (reported s/dir where given,
  else from positions), club side, position group;
- features: per pass play the snap/throw/arrival frames, the passer and targeted receiver (stated by
  pffScoutingData / nearest offensive player to the ball at arrival) and the receiver's separation from
  the nearest defender at the throw and at the arrival.

It writes the clean rows, the quarantined rows and the pass features as parquet (the warehouse stores
them too), and prints a JSON summary. Vectorised throughout: sort once, groupby/shift, merges.

    python -m ngs.bench_pandas DATA_DIR --out OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ngs import constants
from ngs.paths import SEEDS_DIR

TRACKING_DTYPES = {
    "gameId": "int64", "playId": "int64", "nflId": "float64", "frameId": "float64", "time": "object",
    "jerseyNumber": "float64", "team": "category", "playDirection": "category", "x": "float64", "y": "float64",
    "s": "float64", "a": "float64", "dis": "float64", "o": "float64", "dir": "float64", "event": "category",
}
NA_VALUES = ["NA", "", "NaN", "nan", "NULL"]
ROW_RULES = ["duplicate_key", "missing_position", "off_field", "teleport", "implied_speed", "reported_speed"]
THROW_EVENTS = ["pass_forward", "autoevent_passforward", "pass_shovel"]
SNAP_EVENTS = ["ball_snap", "autoevent_ballsnap", "snap_direct"]
OUTCOME_EVENTS = ["pass_outcome_caught", "pass_outcome_incomplete", "pass_outcome_interception",
                  "pass_outcome_touchdown", "pass_tipped"]


def _threshold(rule: str) -> float:
    return float(constants.quality_rules()[rule].threshold)


def read_metadata(data: Path) -> dict[str, pd.DataFrame]:
    plays = pd.read_csv(data / "plays.csv", na_values=NA_VALUES,
                        usecols=["gameId", "playId", "possessionTeam", "defensiveTeam", "passResult"])
    players = pd.read_csv(data / "players.csv", na_values=NA_VALUES,
                          usecols=["nflId", "officialPosition", "displayName"])
    groups = pd.read_csv(SEEDS_DIR / "position_groups.csv")
    players = players.merge(groups[["position", "position_group"]], how="left",
                            left_on="officialPosition", right_on="position").drop(columns="position")
    scouting = pd.read_csv(data / "pffScoutingData.csv", na_values=NA_VALUES, usecols=["gameId", "playId", "nflId",
                                                                                    "pff_role"])
    return {"plays": plays, "players": players, "scouting": scouting}


def clean_week(path: Path, meta: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One weekly tracking file -> (clean rows with kinematics, quarantined rows with their rule)."""
    fps = constants.frame_rate_hz()
    length, width = constants.field_length_yd(), constants.field_width_yd()
    df = pd.read_csv(path, dtype=TRACKING_DTYPES, na_values=NA_VALUES, keep_default_na=False)
    df["source_file"] = str(path)
    df["source_row"] = np.arange(1, len(df) + 1)
    df["is_ball"] = df["team"].eq("football").to_numpy(bool) | df["nflId"].isna().to_numpy()
    df["event"] = df["event"].cat.rename_categories(str.lower)

    # standardise: offence always towards +x (direction as the release states it, per play)
    direction = df.groupby(["gameId", "playId"], observed=True)["playDirection"].transform("first")
    left = direction.astype("string").str.lower().eq("left").fillna(False).to_numpy(bool)
    df["x_std"] = np.where(left, length - df["x"], df["x"])
    df["y_std"] = np.where(left, width - df["y"], df["y"])
    df["o_std"] = np.where(left, (df["o"] + 180) % 360, df["o"])
    df["dir_std"] = np.where(left, (df["dir"] + 180) % 360, df["dir"])

    # one sort, then every lag within a track (game, play, player or ball)
    df["track_id"] = df["nflId"].fillna(-1)
    df = df.sort_values(["gameId", "playId", "track_id", "frameId", "source_row"], kind="stable",
                        ignore_index=True)
    track = df.groupby(["gameId", "playId", "track_id"], sort=False)
    frame = df["frameId"]
    prev_frame = track["frameId"].shift(1)
    prev2_frame = track["frameId"].shift(2)
    prev_x, prev_y = track["x_std"].shift(1), track["y_std"].shift(1)
    prev2_x, prev2_y = track["x_std"].shift(2), track["y_std"].shift(2)
    prev_s, prev_dir = track["s"].shift(1), track["dir_std"].shift(1)

    dt = (frame - prev_frame).replace(0, np.nan) / fps
    prev_dt = (prev_frame - prev2_frame).replace(0, np.nan) / fps
    step = np.hypot(df["x_std"] - prev_x, df["y_std"] - prev_y)
    implied_speed = step / dt
    step_per_frame = step / (dt * fps)
    reported = df["s"].notna() & df["dir_std"].notna()
    rad, prev_rad = np.radians(df["dir_std"]), np.radians(prev_dir)
    df["vx"] = np.where(reported, df["s"] * np.sin(rad), (df["x_std"] - prev_x) / dt)
    df["vy"] = np.where(reported, df["s"] * np.cos(rad), (df["y_std"] - prev_y) / dt)
    prev_vx = np.where(reported, prev_s * np.sin(prev_rad), (prev_x - prev2_x) / prev_dt)
    prev_vy = np.where(reported, prev_s * np.cos(prev_rad), (prev_y - prev2_y) / prev_dt)
    df["ax"] = (df["vx"] - prev_vx) / dt
    df["ay"] = (df["vy"] - prev_vy) / dt
    df["speed_yps"] = df["s"].fillna(np.hypot(df["vx"], df["vy"]))
    df["accel_yps2"] = df["a"].fillna(np.hypot(df["ax"], df["ay"]))
    df["kinematics_source"] = np.where(reported, "reported", "derived")
    gap = (frame - prev_frame).fillna(1) - 1
    df["frames_missing_before"] = gap.clip(lower=0)
    beyond = pd.concat([-df["x"], df["x"] - length, -df["y"], df["y"] - width], axis=1).max(axis=1)

    # the rules, in priority order (seeds/quality_rules.csv)
    player = ~df["is_ball"]
    breaks = {
        "duplicate_key": (frame == prev_frame).to_numpy(),
        "missing_position": (df["x"].isna() | df["y"].isna() | df["frameId"].isna()).to_numpy(),
        "off_field": (beyond > _threshold("off_field")).to_numpy(),
        "teleport": (player & (step_per_frame > _threshold("teleport"))).to_numpy(),
        "implied_speed": (player & (implied_speed > _threshold("implied_speed"))).to_numpy(),
        "reported_speed": (player & (df["s"] > _threshold("reported_speed"))).to_numpy(),
    }
    measured = {"duplicate_key": np.ones(len(df)), "missing_position": np.full(len(df), np.nan),
                "off_field": beyond.to_numpy(), "teleport": step_per_frame.to_numpy(),
                "implied_speed": implied_speed.to_numpy(), "reported_speed": df["s"].to_numpy()}
    conditions = [breaks[r] for r in ROW_RULES]
    rule = pd.Series(np.select(conditions, ROW_RULES, default=""), index=df.index).replace("", None)
    value = np.select(conditions, [measured[r] for r in ROW_RULES], default=np.nan)
    bad_share = rule.notna().groupby([df["gameId"], df["playId"]]).transform("mean")
    play_bad = (bad_share > _threshold("play_quarantined")).to_numpy()
    df["rule"] = rule.where(rule.notna(), pd.Series(np.where(play_bad, "play_quarantined", None), index=df.index))
    df["measured_value"] = np.where(rule.notna(), value, np.where(play_bad, bad_share, np.nan))
    all_rules = pd.DataFrame({r: np.where(breaks[r], r, "") for r in ROW_RULES})
    all_rules["play_quarantined"] = np.where(rule.isna() & play_bad, "play_quarantined", "")
    quarantined = df["rule"].notna().to_numpy()
    quarantine = df.loc[quarantined, ["source_file", "source_row", "gameId", "playId", "nflId", "frameId",
                                      "is_ball", "x", "y", "s", "rule", "measured_value"]].copy()
    quarantine["all_rules"] = (all_rules[quarantined].agg(",".join, axis=1)
                               .str.replace(",+", ",", regex=True).str.strip(","))

    # the clean rows, with each player's side and position
    clean = df.loc[~quarantined].drop(columns=["rule", "measured_value", "track_id", "playDirection"])
    clean = clean.merge(meta["plays"][["gameId", "playId", "possessionTeam"]], how="left", on=["gameId", "playId"])
    clean["is_offense"] = (clean["team"] == clean["possessionTeam"]).where(~clean["is_ball"])
    clean = clean.merge(meta["players"], how="left", on="nflId")
    return clean, quarantine


def pass_features(clean: pd.DataFrame, meta: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per pass play: snap/throw/arrival frames, passer, target, and the target's separation at throw/arrival."""
    key = ["gameId", "playId"]
    ev = clean.loc[clean["event"].notna(), key + ["frameId", "event"]]
    frames = pd.DataFrame({
        "snap_frame_id": ev[ev["event"].isin(SNAP_EVENTS)].groupby(key)["frameId"].min(),
        "throw_frame_id": ev[ev["event"].isin(THROW_EVENTS)].groupby(key)["frameId"].min(),
    }).dropna(subset=["throw_frame_id"]).reset_index()
    later = ev.merge(frames[key + ["throw_frame_id"]], on=key)
    later = later[later["frameId"] > later["throw_frame_id"]]
    arrived = later[later["event"] == "pass_arrived"].groupby(key)["frameId"].min().rename("arrived")
    outcome = later[later["event"].isin(OUTCOME_EVENTS)].groupby(key)["frameId"].min().rename("outcome")
    frames = frames.merge(arrived, how="left", on=key).merge(outcome, how="left", on=key)
    frames["arrival_frame_id"] = frames["arrived"].fillna(frames["outcome"])
    frames = frames.drop(columns=["arrived", "outcome"])

    roles = meta["scouting"]
    passer = roles[roles["pff_role"] == "Pass"].groupby(key)["nflId"].min().rename("passer_nfl_id")
    frames = frames.merge(passer, how="left", on=key)

    cols = key + ["frameId", "nflId", "is_ball", "is_offense", "x_std", "y_std"]
    at = clean[cols].merge(frames, on=key)
    at_throw = at[at["frameId"] == at["throw_frame_id"]]
    at_arrival = at[at["frameId"] == at["arrival_frame_id"]]

    # the target: the offensive player (not the passer) nearest the ball at the arrival
    ball = at_arrival[at_arrival["is_ball"]].groupby(key)[["x_std", "y_std"]].first()
    ball.columns = ["ball_x", "ball_y"]
    off = at_arrival[at_arrival["is_offense"].eq(True) & (at_arrival["nflId"] != at_arrival["passer_nfl_id"])]
    off = off.join(ball, on=key)
    off = off.assign(d2=(off["x_std"] - off["ball_x"]) ** 2 + (off["y_std"] - off["ball_y"]) ** 2)
    target = off.loc[off.groupby(key)["d2"].idxmin(), key + ["nflId"]].rename(columns={"nflId": "target_nfl_id"})
    frames = frames.merge(target, how="left", on=key)

    def separation(at_frame: pd.DataFrame, name: str) -> pd.Series:
        rec = at_frame.merge(frames[key + ["target_nfl_id"]], on=key)
        rec_xy = rec[rec["nflId"] == rec["target_nfl_id"]][key + ["x_std", "y_std"]]
        defs = rec[rec["is_offense"].eq(False)][key + ["x_std", "y_std"]]
        pair = defs.merge(rec_xy, on=key, suffixes=("", "_rec"))
        pair[name] = np.hypot(pair["x_std"] - pair["x_std_rec"], pair["y_std"] - pair["y_std_rec"])
        return pair.groupby(key)[name].min()

    frames = frames.merge(separation(at_throw, "separation_at_throw_yd"), how="left", on=key)
    frames = frames.merge(separation(at_arrival, "separation_at_arrival_yd"), how="left", on=key)
    return frames


def run(data: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    meta = read_metadata(data)
    seconds = {"clean": 0.0, "features": 0.0, "write": 0.0}
    rows = clean_rows = quarantined_rows = passes = 0
    for path in sorted(data.glob("tracking_week_*.csv")):
        t = time.perf_counter()
        clean, quarantine = clean_week(path, meta)
        seconds["clean"] += time.perf_counter() - t
        t = time.perf_counter()
        features = pass_features(clean, meta)
        seconds["features"] += time.perf_counter() - t
        t = time.perf_counter()
        clean.to_parquet(out / f"{path.stem}_clean.parquet", index=False)
        quarantine.to_parquet(out / f"{path.stem}_quarantine.parquet", index=False)
        features.to_parquet(out / f"{path.stem}_pass_features.parquet", index=False)
        seconds["write"] += time.perf_counter() - t
        rows += len(clean) + len(quarantine)
        clean_rows += len(clean)
        quarantined_rows += len(quarantine)
        passes += len(features)
        del clean, quarantine, features
    total = time.perf_counter() - t0
    return {"rows": rows, "clean_rows": clean_rows, "quarantined_rows": quarantined_rows, "pass_plays": passes,
            "seconds": round(total, 3), "stages": {k: round(v, 3) for k, v in seconds.items()}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv)
    print(json.dumps(run(a.data, a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
