"""What the dbt Python models (python_models/ghosting/*.py) compute: each model passes one function here to
``ngs.dbt_glue.run`` with the relations of the refs it read (``refs``: name -> DuckDB relation), the
training model's relation when this run built it (``trained``), and its settings (dataclasses below, built
from the model's config), and returns its DataFrame. No ``dbt`` here: pytest calls these directly.

Inputs (both built by dbt from what ``ngs build --data`` loaded; nothing is read from files):
``int_ball_in_air_tracks`` = the Big Data Bowl 2026 ball-in-air tracks (targeted receiver and every
defender in coverage), ``int_pass_play_tracks`` = every other source's pass plays (defensive backs and the
targeted receiver). ``dataset`` ('real' | 'simulated') is the game's, from ``dim_games``; the split is by
week (``ghosting_test_from_week``, a dbt var) or by game hash (``data.assign_split``). Every row a model
returns carries the version of the artefact that made it.

Scale (a season: ~32k passes, ~2.5M ball-in-air rows of those players): DuckDB filters and sorts the
tracks; they come back through Arrow (no per-row Python strings); windows, features and the network run
once over all passes (numpy / one batched torch call, threads capped by ngs.threads); the metrics
model reads only its test/val games. Time and memory grow linearly with the passes (~0.15 ms per pass for
the closing scores, excluding the query).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ngs import incremental
from ngs.errors import ArtifactMissingError
from ngs.ghosting import MODEL_NAME, closing, data, model_name, scoring
from ngs.ghosting.model import GhostModel, load
from ngs.ghosting.scoring import ARRIVAL, REPORT_HORIZONS
from ngs.spark.bridge import per_game

log = logging.getLogger(__name__)

METRIC_COLUMNS = ["model", "version", "dataset", "split", "metric", "value", "n", "horizon_step"]

# the refs a model file passes in (it calls dbt.ref itself, so dbt sees the edges)
BALL_IN_AIR, PASS_PLAYS, GAMES = "int_ball_in_air_tracks", "int_pass_play_tracks", "dim_games"
SOURCE_REFS = (BALL_IN_AIR, PASS_PLAYS, GAMES)


def inputs(ball_in_air, pass_plays, games) -> dict:
    """The ``refs`` of every function here from the three relations, in SOURCE_REFS order."""
    return dict(zip(SOURCE_REFS, (ball_in_air, pass_plays, games), strict=True))


@dataclass(frozen=True)
class ScoringSettings:
    """dbt vars (dbt_project.yml), through the model's config."""
    ghosting_test_from_week: int      # games of this week and later are held out


@dataclass(frozen=True)
class TrainingSettings(ScoringSettings):
    ghosting_max_epochs: int          # the joint model's schedule length


@dataclass(frozen=True)
class ClosingSettings(ScoringSettings):
    ghosting_closing_seed: int        # the randomised condition's draw


def game_splits(refs: dict, first_week: int) -> pd.Series:
    """'train' | 'val' | 'test' per game_id, decided once from dim_games (no tracking row is read), so a
    table of a few games' tracks gets the same split as the whole warehouse gives them."""
    games = refs[GAMES].select("game_id", "week", "dataset").df()
    return pd.Series(data.assign_split(games, first_week).to_numpy(), index=games["game_id"].to_numpy())


def games_in_splits(refs: dict, splits: tuple[str, ...], first_week: int) -> list[int]:
    """The game ids of these splits (:func:`game_splits`)."""
    split = game_splits(refs, first_week)
    return split.index[split.isin(splits).to_numpy()].tolist()


def tracks(refs: dict, name: str, first_week: int, splits: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The tracks of ``refs[name]`` (BALL_IN_AIR or PASS_PLAYS) with their game's split; with ``splits``, only
    the games of those splits are read."""
    game_ids = games_in_splits(refs, splits, first_week) if splits is not None else None
    tr = data.read_tracks(refs[name], game_ids=game_ids)
    by_game = tr["game_id"].map(game_splits(refs, first_week))
    # a game dim_games does not list (none in a built warehouse): split by its own rows, as the training does
    tr["split"] = by_game.fillna(data.assign_split(tr, first_week)).to_numpy()
    return tr


# ------------------------------------------------------------------------------------------- training
def training_model(refs: dict, settings: TrainingSettings) -> pd.DataFrame:
    """Train the joint model on every game outside the held-out weeks, store it (LATEST), return its
    training metrics. Run it under ngs.threads.limited_threads (ngs.dbt_glue.run does): inside dbt's process
    spin-waiting OpenMP/torch pools run many times slower."""
    from ngs.ghosting.joint import JointConfig
    from ngs.ghosting.joint_train import train_joint_pipeline, training_rows

    fw = settings.ghosting_test_from_week
    real = data.nonempty(tracks(refs, BALL_IN_AIR, fw))
    sim = data.nonempty(tracks(refs, PASS_PLAYS, fw))
    cfg = JointConfig(max_epochs=settings.ghosting_max_epochs)
    if not has_training_games(real, sim, fw):
        # e.g. one real game of a held-out week (the BDB 2021 sample is week 14): nothing to learn from without
        # touching the held-out weeks. No artefact is written; the scoring models use a stored one if there
        # is one, else leave their tables empty (stored_model).
        log.warning("ghosting model not trained: no pass play before week %s and no simulated game in the "
                    "warehouse (held-out weeks are never trained on)", fw)
        return _empty(METRIC_COLUMNS, ints=("n",)).astype({"horizon_step": "Int64"})
    model = train_joint_pipeline(real, sim, cfg, log=None)
    # horizon_step is NULL in every training row: typed, so DuckDB does not store a column of type "NULL"
    return pd.DataFrame(training_rows(model, MODEL_NAME), columns=METRIC_COLUMNS).astype({"horizon_step": "Int64"})


def has_training_games(real: pd.DataFrame | None, sim: pd.DataFrame | None, first_week: int) -> bool:
    """Any game outside the held-out split (the training windows come from those)."""
    return any(tr is not None and (data.assign_split(tr, first_week) != "test").any() for tr in (real, sim))


def stored_model(trained: duckdb.DuckDBPyRelation | None) -> GhostModel | None:
    """The stored ghosting model (``load``: LATEST); None only when there is none and this run's training
    model (``trained``: its relation, None when it is not in the run) found nothing to train on (its table is
    empty), so the scoring tables stay empty instead of failing. A scoring-only build with no stored model
    still fails with ArtifactMissingError (how to train)."""
    try:
        return load()
    except ArtifactMissingError:
        trained_rows = trained.aggregate("count(*)").fetchall()[0][0] if trained is not None else None
        if trained_rows == 0:
            log.warning("no ghosting model: its scoring tables are left empty")
            return None
        raise


def feature_screening(trained: duckdb.DuckDBPyRelation | None) -> pd.DataFrame:
    """The stored model's feature screening (importance per candidate feature, which were kept)."""
    model = stored_model(trained)
    if model is None:
        return pd.DataFrame({"feature": pd.Series(dtype="string"), "importance": pd.Series(dtype="float64"),
                             "importance_std": pd.Series(dtype="float64"), "share": pd.Series(dtype="float64"),
                             "rank": pd.Series(dtype="int64"), "selected": pd.Series(dtype="bool"),
                             "in_model": pd.Series(dtype="bool"), "model_version": pd.Series(dtype="string")})
    scr = model.screening.copy() if model.screening is not None else pd.DataFrame(
        columns=["feature", "importance", "importance_std", "share", "rank", "selected"])
    scr["selected"] = scr["selected"].astype(bool)
    scr["in_model"] = scr["feature"].isin(model.config.features)
    scr["model_version"] = model.version
    return scr


# ------------------------------------------------------------------------------------------- scoring
def _score_windows(model: GhostModel, tr: pd.DataFrame, horizon: int | str = ARRIVAL
                   ) -> tuple[data.Windows, np.ndarray]:
    """First window of every defender's track and the model's prediction, ``horizon`` frames or to the
    arrival (the targeted receiver's windows are not predicted: a window's prediction does not depend on the
    others predicted with it, and nothing reads his)."""
    if model.roles is not None and tr["is_target"].isna().any():  # else apply_roles would only copy
        tr = data.apply_roles(tr, model.roles)
    w, _ = scoring.windows_for(tr, model.config.history, horizon)
    w = w.subset(w.is_target == 0.0)
    return w, scoring.predict(model, w)


def _with_targets(model: GhostModel, tr: pd.DataFrame) -> pd.DataFrame:
    """BDB 2026 tracks whose pass has no known target: the roster label learned in training, else the
    convergence vote within the play (data.infer_targets_full); a target the warehouse knows is kept."""
    return data.infer_targets_full(tr, model.roles) if tr["is_target"].isna().any() else tr


def _game_labels(tr: pd.DataFrame, column: str) -> pd.Series:
    """``column`` (split or dataset) per game_id, as plain strings."""
    per_game = tr[["game_id", column]].drop_duplicates("game_id")
    return pd.Series(per_game[column].astype(str).to_numpy(), index=per_game["game_id"].to_numpy())


# On Spark each game is scored on the executors (ngs.spark.bridge): a pass's rows depend on its tracks, its
# game's labels (dim_games, shipped whole) and the model only
@per_game("refs." + BALL_IN_AIR, "refs." + PASS_PLAYS,
          schema="game_id bigint, play_id bigint, nfl_id bigint, split string, throw_frame_id int, frame_id bigint, "
          "horizon_step bigint, x_pred_std double, y_pred_std double, x_true_std double, y_true_std double, "
          "error_yd double, model_version string, scoring_fingerprint string")
def ghost_trajectories(refs: dict, trained: duckdb.DuckDBPyRelation | None, settings: ScoringSettings,
                       inc: incremental.Increment = incremental.FULL) -> pd.DataFrame:
    """One row per pass, defender, predicted frame (first window after the throw): the warehouse's pass
    plays (defensive backs) and the BDB 2026 ball-in-air plays (every defender in coverage). Incremental
    (ngs.incremental): only passes whose tracks, split or model changed are scored."""
    model = stored_model(trained)
    fw = settings.ghosting_test_from_week
    refs, plays = _increment(refs, inc, f"ghost_trajectories|{_version(model)}|{fw}", fw, ("split",))
    if model is None:
        return incremental.stamp(_empty(TRAJECTORY_COLUMNS, ints=("game_id", "play_id", "nfl_id", "horizon_step")),
                                 plays)
    parts = [_trajectories(model, tracks(refs, PASS_PLAYS, fw)),
             _trajectories(model, _with_targets(model, tracks(refs, BALL_IN_AIR, fw)))]
    parts = [p for p in parts if len(p)]
    if not parts:
        return incremental.stamp(_empty(TRAJECTORY_COLUMNS, ints=("game_id", "play_id", "nfl_id", "horizon_step")),
                                 plays)
    return incremental.stamp(pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0], plays)


def _version(model: GhostModel | None) -> str:
    return model.version if model is not None else "none"


def _increment(refs: dict, inc: incremental.Increment, context: str, first_week: int, per_game: tuple[str, ...]
               ) -> tuple[dict, pd.DataFrame]:
    """The passes to score (ngs.incremental.plan) and ``refs`` with both track inputs restricted to them on an
    incremental run. A pass's fingerprint: its rows of both track inputs, the ``per_game`` labels of its game
    (split from dim_games: it can change for an old game when games are added; dataset) and ``context``."""
    hashes = incremental.combine(*(incremental.play_hashes(refs[name]) for name in (BALL_IN_AIR, PASS_PLAYS)))
    games = refs[GAMES].select("game_id", "week", "dataset").df()
    labels = pd.DataFrame({"game_id": games["game_id"].to_numpy(),
                           "split": data.assign_split(games, first_week).to_numpy(),
                           "dataset": games["dataset"].astype(str).to_numpy()})
    per_play = hashes[["game_id"]].merge(labels, on="game_id", how="left")[list(per_game)].fillna("")
    plays = incremental.plan(inc, incremental.fingerprints(hashes, context, per_play.astype(str).agg("|".join, axis=1)))
    return {**refs, **{name: incremental.only(refs[name], plays, inc, f"ngs_incremental_{inc.name}_{i}")
                       for i, name in enumerate((BALL_IN_AIR, PASS_PLAYS))}}, plays


TRAJECTORY_COLUMNS = ["game_id", "play_id", "nfl_id", "split", "throw_frame_id", "frame_id", "horizon_step",
                      "x_pred_std", "y_pred_std", "x_true_std", "y_true_std", "error_yd", "model_version"]
STRING_COLUMNS = {"split", "dataset", "condition", "model_version", "model", "version", "metric", incremental.COLUMN}


def _empty(columns: list[str], ints: tuple[str, ...] = ()) -> pd.DataFrame:
    """No rows, typed (a column of no rows would reach DuckDB as type "NULL", which a dbt unit test or a
    cast downstream cannot cast to)."""
    return pd.DataFrame({c: pd.Series(dtype="string" if c in STRING_COLUMNS else "int64" if c in ints
                                      else "bool" if c == "randomised" else "float64") for c in columns})


def _trajectories(model: GhostModel, tr: pd.DataFrame) -> pd.DataFrame:
    if tr.empty:
        return pd.DataFrame(columns=TRAJECTORY_COLUMNS)
    w, pred = _score_windows(model, tr, ARRIVAL)
    H, h = w.horizon, model.config.history
    throw = tr.drop_duplicates(["game_id", "play_id"]).set_index(["game_id", "play_id"])["throw_frame_id"]
    split = tr.drop_duplicates(["game_id", "play_id"]).set_index(["game_id", "play_id"])["split"]
    key = w.key.loc[w.key.index.repeat(H)].reset_index(drop=True)
    step = np.tile(np.arange(1, H + 1), len(w))
    idx = pd.MultiIndex.from_frame(key[["game_id", "play_id"]])
    t0 = throw.reindex(idx).to_numpy()
    out = pd.DataFrame({
        "game_id": key["game_id"], "play_id": key["play_id"], "nfl_id": key["nfl_id"],
        "split": split.reindex(idx).to_numpy(),
        "throw_frame_id": t0,
        "frame_id": t0 + key["start_frame"].to_numpy() - 1 + h - 1 + step,
        "horizon_step": step,
        "x_pred_std": pred[..., 0].ravel(), "y_pred_std": pred[..., 1].ravel(),
        "x_true_std": w.fut[..., 0].ravel(), "y_true_std": w.fut[..., 1].ravel(),
    })
    out = out[np.isfinite(w.fut[..., 0]).ravel()].reset_index(drop=True)   # the flight: frames with truth
    out["error_yd"] = np.hypot(out["x_pred_std"] - out["x_true_std"], out["y_pred_std"] - out["y_true_std"])
    out["model_version"] = model.version
    return out[TRAJECTORY_COLUMNS]


DATASETS = ("real", "simulated")
HELD_OUT = ("test", "val")


def ghosting_metrics(refs: dict, trained: duckdb.DuckDBPyRelation | None, settings: ScoringSettings
                     ) -> pd.DataFrame:
    """The model vs every physics baseline on the held-out games (first window of each track, as ``ngs
    ghost-eval``) for horizons 10, 15 and to the arrival (``scoring.metric_rows``), per dataset of the game
    (dim_games) and split: test = weeks from ghosting_test_from_week on (the BDB 2026 benchmark: weeks
    11-14) or the game-hash test share, val = the validation games. Both inputs (BDB 2026 ball-in-air
    tracks, other pass plays) count for their dataset."""
    model = stored_model(trained)
    if model is None:
        return _empty(METRIC_COLUMNS, ints=("n",)).astype({"horizon_step": "Int64"})
    fw = settings.ghosting_test_from_week
    parts: dict[tuple[str, str], list[pd.DataFrame]] = {}
    for name in (BALL_IN_AIR, PASS_PLAYS):
        tr = tracks(refs, name, fw, splits=HELD_OUT)
        if tr.empty:
            continue
        dataset = tr["dataset"].astype(str).to_numpy()
        for ds in DATASETS:
            for split in HELD_OUT:
                part = tr[(dataset == ds) & (tr["split"] == split).to_numpy()]
                if len(part):
                    parts.setdefault((ds, split), []).append(part)
    rows: list[tuple] = []
    for (ds, split), got in parts.items():   # the two inputs hold different games: one table of tracks
        tr = got[0] if len(got) == 1 else pd.concat(got, ignore_index=True)
        rows += scoring.metric_rows(model, model_name(model), ds, split, tr, model.config.history, REPORT_HORIZONS)
    if not rows:
        return _empty(METRIC_COLUMNS, ints=("n",)).astype({"horizon_step": "Int64"})
    out = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    out["horizon_step"] = out["horizon_step"].astype("Int64")
    out["n"] = out["n"].astype("int64")
    return out


CLOSING_COLUMNS = ["game_id", "play_id", "nfl_id", "dataset", "condition", "score", "closing", "effort",
                   "superhuman_penalty", "start_dist_yd", "end_dist_yd", "max_speed_yps", "n_frames", "randomised",
                   "start_frame", "split", "model_version"]


@per_game("refs." + BALL_IN_AIR, "refs." + PASS_PLAYS,
          schema="game_id bigint, play_id bigint, nfl_id bigint, dataset string, condition string, score double, "
          "closing double, effort double, superhuman_penalty double, start_dist_yd double, end_dist_yd double, "
          "max_speed_yps double, n_frames bigint, randomised boolean, start_frame bigint, split string, "
          "model_version string, scoring_fingerprint string")
def closing_scores(refs: dict, trained: duckdb.DuckDBPyRelation | None, settings: ClosingSettings,
                   inc: incremental.Increment = incremental.FULL) -> pd.DataFrame:
    """Per-defender closing scores in the three conditions (real / predicted / randomised_25pct), on the
    BDB 2026 ball-in-air plays (targets from the warehouse, else inferred) and the warehouse's other pass
    plays (targets known); dataset = the game's (dim_games). The randomised condition draws per defender from
    (seed, game, play, defender) (closing.closing_experiment), so a pass scores the same alone or with the
    season and an append scores only the passes whose tracks, labels or model changed (ngs.incremental)."""
    model = stored_model(trained)
    seed = settings.ghosting_closing_seed
    fw = settings.ghosting_test_from_week
    refs, plays = _increment(refs, inc, f"closing_scores|{_version(model)}|{fw}|{seed}|{closing.DRAW}", fw,
                             ("split", "dataset"))
    empty = _empty(CLOSING_COLUMNS + [incremental.COLUMN], ints=("game_id", "play_id", "nfl_id", "n_frames"))
    if model is None:
        return empty
    parts, labels = [], []
    for name in (BALL_IN_AIR, PASS_PLAYS):
        tr = tracks(refs, name, fw)
        if tr.empty:
            continue
        labels.append(tr[["game_id", "split", "dataset"]].drop_duplicates("game_id"))
        _, per = closing.closing_experiment(_with_targets(model, tr), model, seed=seed)
        if len(per):
            per.insert(3, "dataset", per["game_id"].map(_game_labels(tr, "dataset")).to_numpy())
            parts.append(per)
    if not parts:
        return empty
    out = pd.concat(parts, ignore_index=True)
    games = out[["game_id"]].drop_duplicates()
    split = pd.concat(labels)[["game_id", "split"]].drop_duplicates("game_id")
    out = out.merge(games.merge(split, on="game_id", how="left"), on="game_id", how="left")
    out["model_version"] = model.version
    out["n_frames"] = out["n_frames"].astype("int64")
    out["randomised"] = out["randomised"].astype(bool)
    return incremental.stamp(out[CLOSING_COLUMNS], plays)


__all__ = ["training_model", "feature_screening", "ghost_trajectories", "ghosting_metrics", "closing_scores"]
