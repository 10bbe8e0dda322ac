"""Glue for the dbt Python models in python_models/decisions/: read the marts, call the package, return a
DataFrame. Settings reach them through the models' YAML config (dbt vars):

* simulated_min_season (as fct_pass_features: a season >= it is 'simulated', else 'real');
* completion_defender_radius_yd (as fct_pass_features); decisions_max_flight_frames (longest flight
  considered, frames); decisions_lineman_radius_yd (unknown-position rule);
* ghosting_model_version (default: LATEST); the completion model is the one trained in this run, else
  LATEST (ngs.completion.warehouse.stored).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ngs.constants import frame_rate_hz
from ngs.decisions import MODEL_NAME, consistency, flight
from ngs.decisions.ghost import limited_threads
from ngs.decisions.options import (
    CHUNK_PASSES,
    OPTION_COLUMNS,
    ChunkTracks,
    OptionConfig,
    chunk_options,
    concat_options,
    needed_players,
    prepare_passes,
)
from ngs.decisions.scoring import CompletionScorer, rank_options

SOURCE_REFS = ("fct_pass_events", "fct_tracking", "fct_plays")

PASSES_SQL = """
select
    p.game_id, p.play_id,
    case when coalesce(pl.season, p.game_id // 1000000) >= {min_season} then 'simulated' else 'real' end
        as dataset,
    p.snap_frame_id, p.throw_frame_id, p.arrival_frame_id, p.passer_nfl_id, p.target_nfl_id,
    p.line_of_scrimmage_x_std, p.ball_throw_x_std, p.ball_throw_y_std, p.ball_arrival_x_std, p.ball_arrival_y_std,
    b.x_std as ball_snap_x_std, b.y_std as ball_snap_y_std,
    pl.down, pl.yards_to_go
from {pass_events} as p
left join {plays} as pl on p.game_id = pl.game_id and p.play_id = pl.play_id
left join {tracking} as b
    on b.game_id = p.game_id and b.play_id = p.play_id and b.frame_id = p.snap_frame_id and b.is_ball
where p.throw_frame_id is not null
order by p.game_id, p.play_id
"""

# The players of a chunk of passes (registered as {chunk}: pass_idx, game_id, play_id, throw_frame_id,
# snap_frame_id): side and position group at his earliest frame where known, position at the snap.
PLAYERS_SQL = """
select
    c.pass_idx, t.nfl_id,
    arg_min(t.is_offense, t.frame_id) filter (where t.is_offense is not null) as is_offense,
    arg_min(t.position_group, t.frame_id) filter (where t.position_group is not null) as position_group,
    max(t.x_std) filter (where t.frame_id = c.snap_frame_id) as snap_x_std,
    max(t.y_std) filter (where t.frame_id = c.snap_frame_id) as snap_y_std
from {tracking} as t
inner join {chunk} as c on t.game_id = c.game_id and t.play_id = c.play_id
where not t.is_ball and t.nfl_id is not null
    and t.game_id between {first_game} and {last_game}
    and (t.frame_id between c.throw_frame_id - {before} and c.throw_frame_id + {after}
         or t.frame_id = c.snap_frame_id)
group by c.pass_idx, t.nfl_id
order by c.pass_idx, t.nfl_id
"""

# Their rows in the window, only for the players an option can use ({players}: pass_idx, nfl_id, player,
# after), after the throw only where ``after``.
FRAMES_SQL = """
select
    p.player, t.frame_id - c.throw_frame_id + {before} as frame, t.x_std, t.y_std, t.speed_yps, t.vx, t.vy
from {tracking} as t
inner join {chunk} as c on t.game_id = c.game_id and t.play_id = c.play_id
inner join {players} as p on c.pass_idx = p.pass_idx and t.nfl_id = p.nfl_id
where not t.is_ball
    and t.game_id between {first_game} and {last_game}
    and t.frame_id between c.throw_frame_id - {before} and c.throw_frame_id + (case when p.after then {after} else 0 end)
"""

OUTPUT_COLUMNS = [
    *(("predicted_separation_yd" if c == "receiver_separation_arrival_yd" else c) for c in OPTION_COLUMNS), "completion_probability", "option_rank", "is_best_option", "n_options",
    "best_completion_probability", "cp_below_best", "expected_air_yards", "completion_model_dataset",
    "completion_model_version", "ghosting_model_version", "flight_model",
]


def _config(dbt, name: str, default):
    value = dbt.config.get(name) if dbt is not None else None
    return type(default)(value) if value not in (None, "", "None") else default


def option_config(dbt, history: int, horizon: int) -> OptionConfig:
    return OptionConfig(history=history, horizon=horizon,
                        max_flight_frames=_config(dbt, "decisions_max_flight_frames", OptionConfig.max_flight_frames),
                        radius_yd=_config(dbt, "completion_defender_radius_yd", OptionConfig.radius_yd),
                        lineman_radius_yd=_config(dbt, "decisions_lineman_radius_yd", OptionConfig.lineman_radius_yd))


def _views(refs: dict, session) -> dict[str, str]:
    """A temporary view per ref (nothing is left in the warehouse)."""
    names = {}
    for ref, rel in refs.items():
        view = f"decisions_src_{ref}"
        session.execute(f"create or replace temp view {view} as {rel.sql_query()}")
        names[ref] = view
    return names


def load_passes(names: dict[str, str], session, min_season: int) -> pd.DataFrame:
    return session.execute(PASSES_SQL.format(min_season=min_season, pass_events=names["fct_pass_events"],
                                             plays=names["fct_plays"], tracking=names["fct_tracking"])).df()


def _numpy(session, sql: str) -> dict[str, np.ndarray]:
    """A query's columns as numpy arrays (numbers as float64 / int64 with NULL -> NaN, others as objects)."""
    out = {}
    for name, values in session.execute(sql).fetchnumpy().items():
        if isinstance(values, np.ma.MaskedArray):
            values = (values.astype(float).filled(np.nan) if values.dtype.kind in "biuf"
                      else values.astype(object).filled(None))
        out[name] = np.asarray(values)
    return out


def load_chunk(session, names: dict[str, str], pc: pd.DataFrame, cfg: OptionConfig, only_actual: bool = False,
               all_defenders: bool = False) -> ChunkTracks:
    """The ``ChunkTracks`` of the prepared passes ``pc`` (whole games), read from DuckDB: only the players
    and frames an option can use (ngs.decisions.options.needed_players)."""
    chunk, players_view = "decisions_chunk", "decisions_players"
    keys = pd.DataFrame({"pass_idx": np.arange(len(pc)), "game_id": pc["game_id"].to_numpy(np.int64),
                         "play_id": pc["play_id"].to_numpy(np.int64),
                         "throw_frame_id": pc["throw_frame_id"].to_numpy(np.int64),
                         "snap_frame_id": pd.array(pc["snap_frame_id"], dtype="Int64")})
    args = dict(tracking=names["fct_tracking"], chunk=chunk, players=players_view,
                first_game=int(keys["game_id"].min()), last_game=int(keys["game_id"].max()),
                before=cfg.history - 1, after=cfg.max_flight_frames)
    session.register(chunk, keys)
    try:
        found = _numpy(session, PLAYERS_SQL.format(**args))
        players = {"pass": found["pass_idx"].astype(np.int64), "nfl_id": found["nfl_id"].astype(np.int64),
                   "is_offense": found["is_offense"].astype(float), "position_group": found["position_group"],
                   "snap_x_std": found["snap_x_std"].astype(float), "snap_y_std": found["snap_y_std"].astype(float)}
        keep, after = needed_players(players, pc, only_actual, all_defenders)
        players = {c: v[keep] for c, v in players.items()}
        session.register(players_view, pd.DataFrame({"pass_idx": players["pass"], "nfl_id": players["nfl_id"],
                                                     "player": np.arange(int(keep.sum())), "after": after[keep]}))
        try:
            frames = _numpy(session, FRAMES_SQL.format(**args))
        finally:
            session.unregister(players_view)
    finally:
        session.unregister(chunk)
    frames = {"player": frames["player"].astype(np.int64), "frame": frames["frame"].astype(np.int64),
              **{c: frames[c].astype(float) for c in ("x_std", "y_std", "speed_yps", "vx", "vy")}}
    return ChunkTracks(players, frames)


def iter_chunks(session, names: dict[str, str], passes: pd.DataFrame, cfg: OptionConfig, only_actual: bool = False,
                all_defenders: bool = False, chunk_passes: int = CHUNK_PASSES):
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
        yield pc, load_chunk(session, names, pc, cfg, only_actual, all_defenders)
        lo = hi


def _ghost_model(dbt):
    from ngs.ghosting.model import load

    return load(_config(dbt, "ghosting_model_version", "") or None)


def completion_scorer(dbt, session) -> CompletionScorer:
    """The completion model trained in this run, else LATEST (ngs.completion.warehouse.stored); a scorer
    with no model (NULL probabilities) when this run trained none (too little data)."""
    from ngs.completion import warehouse as completion_warehouse

    stored = completion_warehouse.stored(dbt, session)
    return CompletionScorer(stored.version, stored.models) if stored is not None else CompletionScorer(None, {})


def score_options(options: pd.DataFrame, scorer: CompletionScorer) -> pd.DataFrame:
    p, used = scorer.score(options)
    out = options.copy()
    out["completion_probability"] = p
    out["completion_model_dataset"] = used
    return out


def target_options(dbt, session, refs: dict) -> pd.DataFrame:
    """marts.fct_target_options: one row per pass and eligible receiver."""
    ghost = _ghost_model(dbt)
    cfg = option_config(dbt, ghost.config.history, ghost.config.horizon)
    names = _views(refs, session)
    passes = load_passes(names, session, _config(dbt, "simulated_min_season", 2030))
    flights = flight.fit_per_dataset(passes, frame_rate_hz())
    scorer = completion_scorer(dbt, session)
    with limited_threads():
        options = concat_options([chunk_options(pc, tracks, ghost, flights, cfg)
                                  for pc, tracks in iter_chunks(session, names, passes, cfg)])
    out = rank_options(score_options(options, scorer))
    out["expected_air_yards"] = out["completion_probability"] * out["pass_depth_yd"]
    out["completion_model_version"] = scorer.version
    out["ghosting_model_version"] = ghost.version
    fm = {k: f"{v.method}: {v.intercept_s:.3f} s + d / {v.ball_speed_yps:.2f} yd/s" for k, v in flights.items()}
    out["flight_model"] = out["dataset"].map(fm)
    return typed_options(out)


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
    return out


def decisions_metrics(dbt, session, refs: dict, options: pd.DataFrame, measured: pd.DataFrame) -> pd.DataFrame:
    """marts.rpt_decisions_metrics: consistency of the counterfactual on the real targets, flight-time fit,
    scoring figures. ``options``: fct_target_options; ``measured``: fct_pass_features."""
    ghost = _ghost_model(dbt)
    cfg = option_config(dbt, ghost.config.history, ghost.config.horizon)
    names = _views(refs, session)
    passes = load_passes(names, session, _config(dbt, "simulated_min_season", 2030))
    fps = frame_rate_hz()
    flights = flight.fit_per_dataset(passes, fps)
    scorer = completion_scorer(dbt, session)
    version = f"{ghost.version}+{scorer.version}"
    parts = [consistency.flight_rows(version, flights), consistency.scoring_rows(version, options)]
    if len(measured):
        meas = measured.copy()
        meas["completion_probability"] = scorer.score(meas)[0]
        meas["flight_time_s"] = (meas["arrival_frame_id"] - meas["throw_frame_id"]) / fps
        actual = options[options["is_actual_target"]].rename(
            columns={"predicted_separation_yd": "receiver_separation_arrival_yd"})
        real = passes.dropna(subset=["arrival_frame_id", "target_nfl_id"])
        override = {(g, p, int(t)): int(a - th) for g, p, t, a, th in
                    real[["game_id", "play_id", "target_nfl_id", "arrival_frame_id", "throw_frame_id"]]
                    .itertuples(index=False)}
        variants = {MODEL_NAME: dict(ghost_model=ghost),
                    f"{MODEL_NAME}_constant_acceleration": dict(ghost_model=None),
                    f"{MODEL_NAME}_real_defenders": dict(ghost_model=None, ghost_defenders=False)}
        built: dict[str, list] = {name: [] for name in variants}
        with limited_threads():   # one read of the tracking for the three variants
            for pc, tracks in iter_chunks(session, names, real, cfg, only_actual=True, all_defenders=True):
                for name, kw in variants.items():
                    built[name].append(chunk_options(pc, tracks, kw["ghost_model"], flights, cfg,
                                                     arrival_override=override, only_actual=True,
                                                     ghost_defenders=kw.get("ghost_defenders", True)))
        at_real = {}
        for name, parts_of in built.items():
            frame = concat_options(parts_of)
            at_real[name] = score_options(frame, scorer) if len(frame) else None
        parts.append(consistency.consistency_metrics(version, actual, meas, at_real))
    parts = [p for p in parts if len(p)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=consistency.METRIC_COLUMNS)
    out["value"] = out["value"].astype(float).replace([np.inf, -np.inf], np.nan)
    return consistency.typed(out)
