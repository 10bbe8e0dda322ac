"""What the dbt Python models in python_models/decisions/ compute (called through ngs.dbt_glue.run with
their relations, the training models' relations when this run built them, and ``Settings``). The passes
come from the dbt model ``int_decision_passes`` (dataset from dim_games); the tracking rows of each chunk of passes from ``fct_tracking`` (TRACKS_SQL: a filter of that one ref by the chunk's
passes, frames and the players an option can use). ``Settings`` come from the models' YAML config (dbt
vars, defined once in dbt_project.yml):

* completion_defender_radius_yd (as fct_pass_features); decisions_max_flight_frames (longest flight
  considered, frames); decisions_lineman_radius_yd (unknown-position rule); decisions_ghost_step_frames
  (frames ghosted per roll-forward step);
* ghosting_model_version ("" = LATEST); the completion model is the one trained in this run, else
  LATEST (ngs.completion.warehouse.stored).

Every row carries the versions of the models that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ngs import incremental
from ngs.constants import frame_rate_hz
from ngs.decisions import MODEL_NAME, consistency, flight
from ngs.decisions.options import (
    CHUNK_PASSES,
    GHOSTED_GROUPS,
    OPTION_COLUMNS,
    RECEIVER_GROUPS,
    ChunkTracks,
    OptionConfig,
    chunk_options,
    concat_options,
    prepare_passes,
)
from ngs.decisions.scoring import CompletionScorer, rank_options
from ngs.spark.bridge import per_game

SOURCE_REFS = ("int_decision_passes", "fct_tracking")

# The tracking rows of a chunk of passes (registered as {chunk}: pass_idx, game_id, play_id, throw_frame_id,
# snap_frame_id, passer_nfl_id, target_nfl_id) that an option can use (sorted in numpy: cheaper): up to
# the throw the passer, the target, every defender and the receivers (offensive players of a receiver group
# or of none; none with only_actual); after it the target, the receivers and the defenders that are not
# ghosted (all of them for the diagnostic without ghosting); at the snap the offensive players of no group
# (the lineman rule); nothing after last_frame_id (throw + max_flight_frames, or the imposed arrival). A player's side and group are the same on every row of a play, so a row-level
# filter keeps or drops all of his rows (ngs.decisions.options.build_options, which reads everything, gives
# the same options: tests/test_decisions.py).
TRACKS_SQL = """
select
    c.pass_idx, t.nfl_id, t.frame_id - c.throw_frame_id + {before} as frame,
    t.is_offense::tinyint as is_offense, t.position_group, t.x_std, t.y_std, t.speed_yps, t.vx, t.vy
from {tracking} as t
inner join {chunk} as c on t.game_id = c.game_id and t.play_id = c.play_id
where not t.is_ball and t.nfl_id is not null
    and t.game_id between {first_game} and {last_game}
    and (
        (t.frame_id between c.throw_frame_id - {before} and c.throw_frame_id
         and (t.nfl_id = c.passer_nfl_id or t.nfl_id = c.target_nfl_id or not t.is_offense
              or ({receivers} and t.is_offense
                  and (t.position_group is null or t.position_group in {receiver_groups}))))
        or (t.frame_id between c.throw_frame_id + 1 and c.last_frame_id
            and (t.nfl_id = c.target_nfl_id
                 or ({receivers} and t.is_offense and t.nfl_id is distinct from c.passer_nfl_id
                     and (t.position_group is null or t.position_group in {receiver_groups}))
                 or (not t.is_offense and ({all_defenders} or t.position_group is null
                                           or t.position_group not in {ghosted_groups}))))
        or (t.frame_id = c.snap_frame_id and t.is_offense and t.position_group is null)
    )
"""

OUTPUT_COLUMNS = [
    *(("predicted_separation_yd" if c == "receiver_separation_arrival_yd" else c) for c in OPTION_COLUMNS), "completion_probability", "option_rank", "is_best_option", "n_options",
    "best_completion_probability", "cp_below_best", "expected_air_yards", "completion_model_dataset",
    "completion_model_version", "ghosting_model_version", "flight_model",
]


STRING_OUTPUT_COLUMNS = ["dataset", "receiver_position_group", "route_method", "completion_model_dataset",
                         "completion_model_version", "ghosting_model_version", "flight_model"]


@dataclass(frozen=True)
class Settings:
    """dbt vars (dbt_project.yml), through the models' config."""
    completion_defender_radius_yd: float   # "defenders near the receiver" radius at arrival
    decisions_max_flight_frames: int       # longest hypothetical flight
    decisions_ghost_step_frames: int       # frames ghosted per roll-forward step
    decisions_lineman_radius_yd: float     # unknown-position players this close to the snap spot are linemen
    ghosting_model_version: str            # "" = the stored LATEST


def option_config(settings: Settings, history: int, horizon: int) -> OptionConfig:
    """``horizon``: the ghosting model's; the roll-forward step is decisions_ghost_step_frames, at most that.
    On the bdb2019 + NGS highlights warehouse (458 real passes) the joint model's separation-at-arrival
    error with the real arrival was 1.19 yd ghosting a whole flight in one step, 0.83 / 0.72 / 0.86 yd
    with steps of 5 / 10 / 15 frames: re-observing the receiver's route every 10 frames helps."""
    return OptionConfig(history=history, horizon=max(1, min(horizon, settings.decisions_ghost_step_frames)),
                        max_flight_frames=settings.decisions_max_flight_frames,
                        radius_yd=settings.completion_defender_radius_yd,
                        lineman_radius_yd=settings.decisions_lineman_radius_yd)


@dataclass(frozen=True)
class Trained:
    """The training models' tables when this run built them (None when it excludes tag:train)."""
    completion: duckdb.DuckDBPyRelation | None   # fct_completion_cv_predictions
    ghosting: duckdb.DuckDBPyRelation | None     # ghosting_model_training


def _views(refs: dict, session) -> dict[str, str]:
    """A temporary view of fct_tracking for TRACKS_SQL (nothing is left in the warehouse)."""
    view = "decisions_src_fct_tracking"
    session.execute(f"create or replace temp view {view} as {refs['fct_tracking'].sql_query()}")
    return {"fct_tracking": view}


def load_passes(refs: dict) -> pd.DataFrame:
    """int_decision_passes (one row per pass with a throw frame), sorted by game and play."""
    return refs["int_decision_passes"].order("game_id, play_id").df()


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _first_known(known: np.ndarray, player: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sorted by (player, frame): (players with a known value, their first such row)."""
    rows = np.flatnonzero(known)
    first = np.ones(len(rows), dtype=bool)
    first[1:] = player[rows[1:]] != player[rows[:-1]]
    return player[rows[first]], rows[first]


def _row_order(pass_idx: np.ndarray, nfl_id: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The order of rows by (pass, player, frame): one stable sort of a combined key (the rows come nearly
    sorted, which the stable sort exploits), or a lexsort where the key would overflow."""
    if not len(pass_idx):
        return np.zeros(0, dtype=np.int64)
    n_lo, f_lo = int(nfl_id.min()), int(frame.min())
    n_span, f_span = int(nfl_id.max()) - n_lo + 1, int(frame.max()) - f_lo + 1
    if (int(pass_idx.max()) + 1) * n_span * f_span >= 2**62:
        return np.lexsort((frame, nfl_id, pass_idx))
    key = (pass_idx * n_span + (nfl_id - n_lo)) * f_span + (frame - f_lo)
    return np.argsort(key, kind="stable")


def _chunk_query(pc: pd.DataFrame, cfg: OptionConfig, names: dict[str, str], chunk: str, only_actual: bool = False,
                 all_defenders: bool = False, until_arrival: bool = False) -> tuple[pd.DataFrame, str]:
    """The passes of ``pc`` as the frame to register as ``chunk`` and TRACKS_SQL for them."""
    flight = np.full(len(pc), cfg.max_flight_frames, dtype=np.int64)
    if until_arrival:
        imposed = (pd.to_numeric(pc["arrival_frame_id"]) - pc["throw_frame_id"]).to_numpy(float)
        flight = np.where(np.isfinite(imposed), np.clip(np.nan_to_num(imposed), 1, cfg.max_flight_frames),
                          cfg.max_flight_frames).astype(np.int64)
    keys = pd.DataFrame({"pass_idx": np.arange(len(pc)), "game_id": pc["game_id"].to_numpy(np.int64),
                         "play_id": pc["play_id"].to_numpy(np.int64),
                         "throw_frame_id": pc["throw_frame_id"].to_numpy(np.int64),
                         "last_frame_id": pc["throw_frame_id"].to_numpy(np.int64) + flight,
                         **{c: pd.array(pc[c], dtype="Int64")
                            for c in ("snap_frame_id", "passer_nfl_id", "target_nfl_id")}})
    sql = TRACKS_SQL.format(tracking=names["fct_tracking"], chunk=chunk, first_game=int(keys["game_id"].min()),
                            last_game=int(keys["game_id"].max()), before=cfg.history - 1,
                            receivers="false" if only_actual else "true",
                            all_defenders="true" if all_defenders else "false",
                            receiver_groups=_sql_list(RECEIVER_GROUPS), ghosted_groups=_sql_list(GHOSTED_GROUPS))
    return keys, sql


def track_hashes(session, names: dict[str, str], passes: pd.DataFrame, cfg: OptionConfig) -> pd.DataFrame:
    """game_id, play_id, rows_hash: the sum of the hashes of the tracking rows an option of the pass can use
    (TRACKS_SQL, the same rows load_chunk reads), for the incremental fingerprint of fct_target_options."""
    pc = prepare_passes(passes)
    if pc.empty:
        return pd.DataFrame({"game_id": pd.Series(dtype="int64"), "play_id": pd.Series(dtype="int64"),
                             "rows_hash": pd.Series(dtype="string")})
    chunk = "decisions_chunk_hash"
    keys, sql = _chunk_query(pc, cfg, names, chunk)
    session.register(chunk, keys)
    try:
        return session.sql(
            f"select k.game_id, k.play_id, sum(hash(t.nfl_id, t.frame, t.is_offense, t.position_group, t.x_std, "
            f"t.y_std, t.speed_yps, t.vx, t.vy))::varchar as rows_hash from ({sql}) as t "
            f"inner join {chunk} as k on t.pass_idx = k.pass_idx group by k.game_id, k.play_id").df()
    finally:
        session.unregister(chunk)


def load_chunk(session, names: dict[str, str], pc: pd.DataFrame, cfg: OptionConfig, only_actual: bool = False,
               all_defenders: bool = False, until_arrival: bool = False) -> ChunkTracks:
    """The ``ChunkTracks`` of the prepared passes ``pc`` (whole games), read from DuckDB in one query: only
    the players and frames an option can use (TRACKS_SQL). ``until_arrival``: the real arrival frame will be
    imposed (the consistency check), so no frame after it is read (an option uses none: the route up to
    the arrival, the other defenders at it, each tracked at the throw)."""
    import pyarrow.compute as pac

    chunk = "decisions_chunk"
    keys, sql = _chunk_query(pc, cfg, names, chunk, only_actual, all_defenders, until_arrival)
    session.register(chunk, keys)
    try:
        table = session.sql(sql).to_arrow_table()
    finally:
        session.unregister(chunk)
    pass_idx, nfl_id, frame = (np.asarray(table.column(c).to_numpy(), dtype=np.int64)
                               for c in ("pass_idx", "nfl_id", "frame"))
    order = _row_order(pass_idx, nfl_id, frame)
    pass_idx, nfl_id, frame = pass_idx[order], nfl_id[order], frame[order]
    num = {c: np.asarray(table.column(c).to_numpy(), dtype=float)[order]
           for c in ("is_offense", "x_std", "y_std", "speed_yps", "vx", "vy")}
    groups = pac.dictionary_encode(table.column("position_group").combine_chunks())   # one dictionary
    names_of = np.asarray(groups.dictionary.to_pylist() + [None], dtype=object)
    code = groups.indices.to_numpy(zero_copy_only=False)          # float with NaN where NULL
    code = np.where(np.isnan(code), len(names_of) - 1, code).astype(np.int64)[order]
    new = np.ones(len(pass_idx), dtype=bool)
    new[1:] = (pass_idx[1:] != pass_idx[:-1]) | (nfl_id[1:] != nfl_id[:-1])
    player = np.cumsum(new) - 1
    n = int(new.sum())
    players = {"pass": pass_idx[new], "nfl_id": nfl_id[new], "is_offense": np.full(n, np.nan),
               "position_group": np.full(n, None, dtype=object), "snap_x_std": np.full(n, np.nan),
               "snap_y_std": np.full(n, np.nan)}
    who, row = _first_known(~np.isnan(num["is_offense"]), player)
    players["is_offense"][who] = num["is_offense"][row]
    who, row = _first_known(code < len(names_of) - 1, player)
    players["position_group"][who] = names_of[code[row]]
    snap = pc["snap_frame_id"].to_numpy(float) - pc["throw_frame_id"].to_numpy(float) + cfg.history - 1
    who, row = _first_known(frame == snap[pass_idx], player)
    players["snap_x_std"][who], players["snap_y_std"][who] = num["x_std"][row], num["y_std"][row]
    win = (frame >= 0) & (frame < cfg.history + cfg.max_flight_frames)
    frames = {"player": player[win], "frame": frame[win],
              **{c: num[c][win] for c in ("x_std", "y_std", "speed_yps", "vx", "vy")}}
    return ChunkTracks(players, frames)


def iter_chunks(session, names: dict[str, str], passes: pd.DataFrame, cfg: OptionConfig, only_actual: bool = False,
                all_defenders: bool = False, until_arrival: bool = False, chunk_passes: int = CHUNK_PASSES):
    """(prepared passes, their ChunkTracks) for consecutive whole games of about ``chunk_passes`` passes."""
    prepared = prepare_passes(passes)
    if prepared.empty:
        return
    game = prepared["game_id"].to_numpy()
    ends = np.r_[np.flatnonzero(game[1:] != game[:-1]) + 1, len(prepared)]   # one past each game's last pass
    lo = 0
    while lo < len(prepared):
        later = ends[ends > lo]
        fits = later[later - lo <= chunk_passes]
        hi = int(fits[-1]) if len(fits) else int(later[0])     # whole games, at least one
        pc = prepared.iloc[lo:hi].reset_index(drop=True)
        yield pc, load_chunk(session, names, pc, cfg, only_actual, all_defenders, until_arrival)
        lo = hi


def _ghost_window(ghost) -> tuple[int, int]:
    """Observed and predicted frames of the ghosting model; the seed's 3 -> 10 without one."""
    return (ghost.config.history, ghost.config.horizon) if ghost is not None else (3, 10)


def _ghost_model(settings: Settings, trained: Trained):
    """The configured ghosting version, else the stored one; None (the defenders then follow constant
    acceleration, as in the consistency variant) only where this run had nothing to train it on."""
    from ngs.ghosting.model import load
    from ngs.ghosting.warehouse import stored_model

    version = settings.ghosting_model_version or None
    return load(version) if version else stored_model(trained.ghosting)


def completion_scorer(trained: Trained, passes: pd.DataFrame | None = None
                      ) -> tuple[CompletionScorer, dict[str, flight.FlightModel]]:
    """The completion model trained in this run, else LATEST (ngs.completion.warehouse.stored); a scorer
    with no model (NULL probabilities) when this run trained none (too little data). With it the flight-time
    fits per dataset of ``passes``: those stored with the completion model at training
    (flight.fit_training), else (an artefact from before they were stored, or none) fitted on ``passes``."""
    from ngs.completion import warehouse as completion_warehouse

    stored = completion_warehouse.stored(trained.completion)
    scorer = CompletionScorer(stored.version, stored.models) if stored is not None else CompletionScorer(None, {})
    if passes is None:
        return scorer, {}
    if stored is not None and flight.METADATA_KEY in stored.metadata:
        return scorer, flight.stored_per_dataset(stored.metadata[flight.METADATA_KEY], passes["dataset"].dropna().unique())
    return scorer, flight.fit_per_dataset(passes, frame_rate_hz())


def score_options(options: pd.DataFrame, scorer: CompletionScorer) -> pd.DataFrame:
    p, used = scorer.score(options)
    out = options.copy()
    out["completion_probability"] = p
    out["completion_model_dataset"] = used
    return out


def _flight_fit_not_stored(arguments: dict) -> str | None:
    """Why target_options needs every pass at once (ngs.spark.bridge.per_game): no flight-time fit stored
    with the completion model, so it is fitted on all the passes (completion_scorer)."""
    from ngs.completion import warehouse as completion_warehouse

    stored = completion_warehouse.stored(arguments["trained"].completion)
    if stored is None or flight.METADATA_KEY not in stored.metadata:
        return "no flight-time fit stored with the completion model: it is fitted on every pass"
    return None


# On Spark each game is scored on the executors (ngs.spark.bridge): a pass's options depend on its pass row,
# its tracking rows, the models and the stored flight-time fit only (else the fit needs every pass: driver)
@per_game("refs.int_decision_passes", "refs.fct_tracking", unless=_flight_fit_not_stored,
          schema="game_id bigint, play_id bigint, dataset string, passer_nfl_id bigint, receiver_nfl_id bigint, "
          "receiver_position_group string, is_actual_target boolean, throw_frame_id int, arrival_frame_id int, "
          "flight_frames int, flight_time_s double, route_method string, landing_x_std double, "
          "landing_y_std double, air_distance_yd double, receiver_separation_throw_yd double, "
          "predicted_separation_yd double, passer_rusher_distance_throw_yd double, passer_speed_throw_yps double, "
          "time_to_throw_s double, receiver_sideline_distance_arrival_yd double, receiver_speed_arrival_yps double, "
          "defender_closing_speed_arrival_yps double, defenders_within_radius_arrival int, pass_depth_yd double, "
          "second_separation_arrival_yd double, defender_speed_arrival_yps double, time_in_air_s double, "
          "pass_length_yd double, nearest_defender_nfl_id bigint, n_ghosted_defenders int, n_other_defenders int, "
          "ghost_steps int, ghost_steps_capped int, completion_probability double, option_rank int, "
          "is_best_option boolean, n_options int, best_completion_probability double, cp_below_best double, "
          "expected_air_yards double, completion_model_dataset string, completion_model_version string, "
          "ghosting_model_version string, flight_model string, scoring_fingerprint string")
def target_options(session, refs: dict, trained: Trained, settings: Settings,
                   inc: incremental.Increment = incremental.FULL) -> pd.DataFrame:
    """marts.fct_target_options: one row per pass and eligible receiver. Incremental (ngs.incremental): only
    the passes whose pass row, tracking rows, flight-time fit or models changed are scored."""
    ghost = _ghost_model(settings, trained)
    cfg = option_config(settings, *_ghost_window(ghost))
    names = _views(refs, session)
    passes = load_passes(refs)
    # the flight-time fit stored with the completion model (else fitted here): part of each pass's fingerprint,
    # so a fit that moves (another model, or an old artefact refitted on more passes) rescores those passes
    scorer, flights = completion_scorer(trained, passes)
    ghost_version = ghost.version if ghost is not None else "constant_acceleration"
    hashes = incremental.combine(incremental.play_hashes(refs["int_decision_passes"]),
                                 track_hashes(session, names, passes, cfg))
    per_pass = hashes[["game_id", "play_id"]].merge(passes[["game_id", "play_id", "dataset"]], how="left",
                                                   on=["game_id", "play_id"])["dataset"].astype(str)
    flight_of = {k: repr(sorted(v.to_dict().items())) for k, v in flights.items()}
    context = f"target_options|{ghost_version}|{scorer.version}|{settings}|{cfg}"
    plays = incremental.plan(inc, incremental.fingerprints(hashes, context, per_pass.map(flight_of).fillna("")))
    if inc.table is not None:
        passes = passes.merge(plays[["game_id", "play_id"]], on=["game_id", "play_id"], how="inner")
    options = concat_options([chunk_options(pc, tracks, ghost, flights, cfg)
                              for pc, tracks in iter_chunks(session, names, passes, cfg)])
    out = rank_options(score_options(options, scorer))
    out["expected_air_yards"] = out["completion_probability"] * out["pass_depth_yd"]
    out["completion_model_version"] = scorer.version
    out["ghosting_model_version"] = ghost_version
    fm = {k: f"{v.method}: {v.intercept_s:.3f} s + d / {v.ball_speed_yps:.2f} yd/s" for k, v in flights.items()}
    out["flight_model"] = out["dataset"].map(fm)
    return incremental.stamp(typed_options(out), plays)


def typed_options(out: pd.DataFrame) -> pd.DataFrame:
    out = out.rename(columns={"receiver_separation_arrival_yd": "predicted_separation_yd"})
    out = out.reindex(columns=OUTPUT_COLUMNS)
    ints = ["game_id", "play_id", "passer_nfl_id", "receiver_nfl_id", "nearest_defender_nfl_id"]
    for c in ints:
        out[c] = pd.to_numeric(out[c]).astype("Int64")
    for c in ["throw_frame_id", "arrival_frame_id", "flight_frames", "option_rank", "n_options",
              "n_ghosted_defenders", "n_other_defenders", "ghost_steps", "ghost_steps_capped"]:
        out[c] = pd.to_numeric(out[c]).astype("Int32")
    out["defenders_within_radius_arrival"] = pd.to_numeric(out["defenders_within_radius_arrival"]).astype("Int32")
    for c in ["is_actual_target", "is_best_option"]:
        out[c] = out[c].astype(bool)
    # every other column typed too: a column of no rows (no eligible receiver anywhere, as on BDB 2026 output
    # files without roles) or of NULLs only would otherwise reach DuckDB as type "NULL", which the dbt unit
    # test of rpt_qb_decisions (and any cast downstream) cannot cast to
    for c in STRING_OUTPUT_COLUMNS:
        out[c] = out[c].astype("string")
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = pd.to_numeric(out[c]).astype("float64")
    return out


# The real targets' options with the real arrival imposed, scored: one row per pass and variant (the
# counterfactual and two diagnostics) with the columns the consistency metrics compare (consistency.COMPARED)
AT_REAL_COLUMNS = ["model", "game_id", "play_id", "dataset", *consistency.COMPARED.values()]


AT_REAL_MODELS = (MODEL_NAME, f"{MODEL_NAME}_constant_acceleration", f"{MODEL_NAME}_real_defenders")


def _at_real_variants(ghost) -> dict[str, dict]:
    """AT_REAL_MODELS' option-building arguments: the ghosting model, constant-acceleration ghosts, no ghosting."""
    return dict(zip(AT_REAL_MODELS, (dict(ghost_model=ghost), dict(ghost_model=None),
                                     dict(ghost_model=None, ghost_defenders=False)), strict=True))


# On Spark each game runs on the executors (ngs.spark.bridge): a pass's rows depend on its pass row, its
# tracking rows, the models and the stored flight-time fit only; the tracking never reaches the driver
@per_game("refs.int_decision_passes", "refs.fct_tracking", unless=_flight_fit_not_stored,
          schema="model string, game_id bigint, play_id bigint, dataset string, "
          + ", ".join(f"{c} double" for c in consistency.COMPARED.values()))
def options_at_real_arrival(session, refs: dict, trained: Trained, settings: Settings) -> pd.DataFrame:
    """The input of the consistency rows of rpt_decisions_metrics: every real target (a pass with an arrival
    frame) built as an option with its real arrival imposed, for the counterfactual (``MODEL_NAME``: the
    ghosting model) and two diagnostics (``_constant_acceleration`` ghosts; ``_real_defenders``: no
    ghosting), scored by the completion model. Columns AT_REAL_COLUMNS, rows by (model, game_id, play_id)."""
    ghost = _ghost_model(settings, trained)
    cfg = option_config(settings, *_ghost_window(ghost))
    names = _views(refs, session)
    passes = load_passes(refs)
    scorer, flights = completion_scorer(trained, passes)
    real = passes.dropna(subset=["arrival_frame_id", "target_nfl_id"])
    override = {(g, p, int(t)): int(a - th) for g, p, t, a, th in
                real[["game_id", "play_id", "target_nfl_id", "arrival_frame_id", "throw_frame_id"]]
                .itertuples(index=False)}
    variants = _at_real_variants(ghost)
    built: dict[str, list] = {name: [] for name in variants}
    # one read of the tracking for the three variants
    for pc, tracks in iter_chunks(session, names, real, cfg, only_actual=True, all_defenders=True,
                                  until_arrival=True):
        for name, kw in variants.items():
            built[name].append(chunk_options(pc, tracks, kw["ghost_model"], flights, cfg,
                                             arrival_override=override, only_actual=True,
                                             ghost_defenders=kw.get("ghost_defenders", True)))
    parts = []
    for name, parts_of in built.items():
        frame = concat_options(parts_of)
        if len(frame):
            parts.append(score_options(frame, scorer).assign(model=name))
    return typed_at_real(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=AT_REAL_COLUMNS))


def typed_at_real(frame: pd.DataFrame) -> pd.DataFrame:
    """AT_REAL_COLUMNS with fixed types (an empty frame too), rows by (model, game_id, play_id)."""
    out = frame.reindex(columns=AT_REAL_COLUMNS)
    out = out.astype({"model": "string", "dataset": "string",
                      **{c: "float64" for c in consistency.COMPARED.values()}})
    for c in ("game_id", "play_id"):
        out[c] = pd.to_numeric(out[c]).astype("Int64")
    return out.sort_values(["model", "game_id", "play_id"], kind="stable", ignore_index=True)


def decisions_metrics(refs: dict, options: pd.DataFrame, measured: pd.DataFrame, at_real: pd.DataFrame,
                      trained: Trained, settings: Settings) -> pd.DataFrame:
    """marts.rpt_decisions_metrics: consistency of the counterfactual on the real targets, flight-time fit,
    scoring figures. ``refs``: int_decision_passes; ``options``: fct_target_options; ``measured``:
    fct_pass_features; ``at_real``: options_at_real_arrival's rows (any order)."""
    ghost = _ghost_model(settings, trained)
    passes = load_passes(refs)
    fps = frame_rate_hz()
    scorer, flights = completion_scorer(trained, passes)
    version = f"{ghost.version if ghost is not None else 'constant_acceleration'}+{scorer.version}"
    parts = [consistency.flight_rows(version, flights), consistency.scoring_rows(version, options)]
    if len(measured):
        meas = measured.copy()
        meas["completion_probability"] = scorer.score(meas)[0]
        meas["flight_time_s"] = (meas["arrival_frame_id"] - meas["throw_frame_id"]) / fps
        actual = options[options["is_actual_target"]].rename(
            columns={"predicted_separation_yd": "receiver_separation_arrival_yd"})
        at_real = typed_at_real(at_real)   # one order whatever the engine's
        by_model = {name: part.drop(columns="model").reset_index(drop=True)
                    for name, part in at_real.groupby("model", sort=False)}
        real_arrival = {name: by_model.get(name) for name in AT_REAL_MODELS}
        parts.append(consistency.consistency_metrics(version, actual, meas, real_arrival))
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=consistency.METRIC_COLUMNS)
    out["value"] = out["value"].astype(float).replace([np.inf, -np.inf], np.nan)
    return consistency.typed(out)
