"""Incremental scoring of the per-pass Python models: an append (`ngs build --append`) scores only the passes
that are new or whose scoring inputs changed, and leaves the other rows of the model's table as they are.

Each per-pass model (fct_completion_probability, fct_ghost_trajectories, fct_closing_scores,
fct_target_options) is ``materialized='incremental'`` in dbt. Every row it writes carries
``scoring_fingerprint``: a hash of everything the pass's rows were computed from,

* the pass's input rows (:func:`play_hashes`: DuckDB's ``hash`` of each whole input row, summed per pass,
  so the order of rows does not matter and a changed, added or removed row changes it),
* what is decided per game for the whole warehouse (the ghosting split, the dataset),
* the context: model version(s), the settings (dbt vars), the flight-time fit, anything else that is the
  same for every pass (:func:`fingerprints`).

On an incremental run (dbt's ``is_incremental``: the table exists and the run is no ``--full-refresh``)
:func:`plan` compares the current fingerprint of every pass with the stored one: a pass whose fingerprint
is unchanged keeps its rows; the others (new, changed, or gone from the inputs) have their rows deleted in
the model's own transaction (``session`` is dbt's cursor) and the new or changed ones are scored.

A pass can give a model no rows (no target, no defender, no pre-throw tracking of the receivers), so the
model's table alone cannot tell "scored, nothing to write" from "never scored". Each run therefore also
writes the marker table ``<model>__scored`` (game_id, play_id, scoring_fingerprint; same schema as the model)
= every pass of the run's inputs with its current fingerprint: after the run each of them is either kept
unchanged or was scored now. :func:`plan` reads the stored fingerprints from it (and from the rows, which
win where they disagree); a warehouse without the marker (an older build) falls back to the rows and gets
it on that run. A full build (or ``--full-refresh``) rewrites it with every pass. Only a model
materialised incremental has one (on Spark the per-pass models are tables rebuilt in full: no marker).
It is not a dbt model: nothing reads it but :func:`plan`; ngs.safety.verify_warehouse and the dashboards
look only for the relations they know. So the
table equals a full rebuild's (tests/test_append.py compares every mart), a retrain or a moved LATEST
(another version) rescores everything, and a full build scores everything as before. Each model prints
one line ``ngs incremental: <model>: scored N of M passes`` (the dbt log and `ngs build` output).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import duckdb
import pandas as pd

KEY = ("game_id", "play_id")
COLUMN = "scoring_fingerprint"


MARKER = "__scored"  # suffix of the marker table: <model>__scored


@dataclass
class Increment:
    """Where a model writes: ``this`` (its table) when dbt runs it incrementally, else None (score every
    pass); ``target``: the model's relation (dbt.this) on every run of a model materialised incremental, so
    a full build writes the marker too; None: no marker (a table, as on Spark; tests and tools scoring
    outside dbt). In a model file (dbt sees the ``config.get`` key only there)::

        marker = dbt.this if dbt.config.get("materialized") == "incremental" else None
        inc = incremental.Increment(dbt.this if dbt.is_incremental else None, session, "name", marker)
    """
    this: object | None
    session: duckdb.DuckDBPyConnection
    name: str
    target: object | None = None

    @property
    def table(self) -> str | None:
        return None if self.this is None else str(self.this)

    @property
    def marker(self) -> str | None:
        """The marker table's name (quoted like the model's relation), or None when there is no target."""
        rel = self.target
        if rel is None:
            return None
        identifier = getattr(rel, "identifier", None)
        if identifier is not None:  # dbt's `this`: database, schema, identifier
            parts = [getattr(rel, "database", None), getattr(rel, "schema", None), f"{identifier}{MARKER}"]
            return ".".join(_quote(p) for p in parts if p)
        name = str(rel)
        return f"{name[:-1]}{MARKER}\"" if name.endswith('"') else f"{name}{MARKER}"


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


FULL = Increment(None, None, "")  # type: ignore[arg-type]  # no table: every pass is scored (tests, tools)


def play_hashes(rel: duckdb.DuckDBPyRelation, decimals: int | None = None) -> pd.DataFrame:
    """game_id, play_id, rows_hash (str): the sum of DuckDB's ``hash`` of every whole row of the pass in
    ``rel`` (order-independent; a changed, added or removed row changes it). ``decimals``: DOUBLE and FLOAT
    columns hashed rounded to that many (-0.0 as 0.0), for a model that sees its inputs rounded so (the
    completion model): a last-bit difference it does not see, e.g. the JVM's sin/cos against DuckDB's, then
    leaves the fingerprint as it is."""
    rounded = [c for c, t in zip(rel.columns, rel.types, strict=True) if str(t) in ("DOUBLE", "FLOAT")]
    rows = "ngs_incremental_rows"
    if decimals is not None and rounded:
        rows = ("(select * replace (" + ", ".join(f"round({_quote(c)}, {int(decimals)}) + 0.0 as {_quote(c)}"
                                                  for c in rounded) + ") from ngs_incremental_rows)")
    return rel.query("ngs_incremental_rows",
                     f"select game_id, play_id, sum(hash(r))::varchar as rows_hash from {rows} as r "
                     "group by game_id, play_id").df()


def combine(*parts: pd.DataFrame) -> pd.DataFrame:
    """Per-pass hashes of several inputs (each game_id, play_id, rows_hash) as one: a pass in one input only
    gets an empty part for the others."""
    out: pd.DataFrame | None = None
    for i, p in enumerate(parts):
        p = p[[*KEY, "rows_hash"]].rename(columns={"rows_hash": f"h{i}"})
        out = p if out is None else out.merge(p, on=list(KEY), how="outer")
    assert out is not None
    cols = [c for c in out.columns if c not in KEY]
    out["rows_hash"] = out[cols].fillna("").astype(str).agg("|".join, axis=1) if len(out) else pd.Series(
        dtype="string")
    return out[[*KEY, "rows_hash"]]


def fingerprints(hashes: pd.DataFrame, context: str, per_play: pd.Series | None = None) -> pd.DataFrame:
    """game_id, play_id, scoring_fingerprint: sha1 (16 hex digits) of the pass's ``rows_hash``, the
    ``context`` (versions, settings: the same for every pass) and ``per_play`` (a string per row of
    ``hashes``: what the warehouse decides per game, e.g. split and dataset)."""
    extra = per_play.astype(str).to_numpy() if per_play is not None else [""] * len(hashes)
    fp = [hashlib.sha1(f"{h}\x1f{e}\x1f{context}".encode()).hexdigest()[:16]
          for h, e in zip(hashes["rows_hash"].astype(str).to_numpy(), extra, strict=True)]
    out = hashes[list(KEY)].copy()
    out[COLUMN] = pd.array(fp, dtype="string")
    return out.reset_index(drop=True)


def plan(inc: Increment, current: pd.DataFrame) -> pd.DataFrame:
    """The passes of ``current`` (game_id, play_id, scoring_fingerprint) to score. Not incremental: all of
    them. Incremental: those whose fingerprint differs from the stored one (the marker's, or the rows'
    where they have rows) or that have none; the stored rows of those passes and of passes no longer in
    ``current`` are deleted from the table first. Either way the marker is rewritten to ``current``."""
    total = len(current)
    if inc.table is None:
        if inc.name:
            _report(inc.name, total, total, 0, "full build")
        _write_marker(inc, current)
        return current
    columns = [c[0] for c in inc.session.sql(f"select * from {inc.table} limit 0").description]
    if COLUMN not in columns:
        # a table written before the fingerprints (an older build): every pass is rescored, and the column
        # is added so dbt's insert (the existing table's columns) keeps the new rows' fingerprints
        inc.session.execute(f"alter table {inc.table} add column {COLUMN} varchar")
    stored = inc.session.sql(f"select distinct game_id, play_id, {COLUMN} from {inc.table}").df()
    marked = _read_marker(inc)
    if marked is not None:
        # the marker's fingerprint counts for a pass without rows; a pass with rows keeps the rows' (if the
        # two disagree the rows were written by another run than the marker: the rows decide)
        with_rows = stored[list(KEY)].drop_duplicates().assign(_rows=True)
        marked = marked.merge(with_rows, on=list(KEY), how="left")
        marked = marked[marked["_rows"].isna()].drop(columns="_rows")
        stored_all = pd.concat([stored, marked], ignore_index=True)
    else:
        stored_all = stored
    same = current.merge(stored_all, on=[*KEY, COLUMN], how="inner")[list(KEY)].drop_duplicates()
    todo = current.merge(same, on=list(KEY), how="left", indicator=True)
    todo = todo[todo["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
    keep = same.assign(_keep=True)
    stale = stored[list(KEY)].drop_duplicates().merge(keep, on=list(KEY), how="left")
    stale = stale[stale["_keep"].isna()][list(KEY)]
    if len(stale):
        name = f"ngs_incremental_stale_{inc.name}"
        inc.session.register(name, stale)
        try:
            inc.session.execute(f"delete from {inc.table} where (game_id, play_id) in "
                                f"(select (game_id, play_id) from {name})")
        finally:
            inc.session.unregister(name)
    changed = len(todo[list(KEY)].merge(stored[list(KEY)].drop_duplicates(), on=list(KEY)))  # had other rows
    _report(inc.name, len(todo), total, len(stale), "incremental", changed)
    _write_marker(inc, current)
    return todo


def _read_marker(inc: Increment) -> pd.DataFrame | None:
    """The marker's game_id, play_id, scoring_fingerprint, or None when the warehouse has none."""
    marker = inc.marker
    if marker is None:
        return None
    try:
        return inc.session.sql(f"select game_id, play_id, {COLUMN} from {marker}").df()
    except duckdb.CatalogException:
        return None


def _write_marker(inc: Increment, current: pd.DataFrame) -> None:
    """Replace the marker with ``current``: every pass of this run's inputs and its fingerprint (each one is
    kept unchanged or scored by this run), in the model's session (dbt's cursor), as the deletes of stale
    rows; a failed build leaves the warehouse as it was anyway (ngs.build builds a copy)."""
    marker = inc.marker
    if marker is None or inc.session is None:
        return
    name = f"ngs_incremental_marker_{inc.name}"
    inc.session.register(name, current[[*KEY, COLUMN]])
    try:
        inc.session.execute(f"create or replace table {marker} as select game_id::bigint as game_id, "
                            f"play_id::bigint as play_id, {COLUMN}::varchar as {COLUMN} from {name} "
                            "order by game_id, play_id")
    finally:
        inc.session.unregister(name)


def _report(name: str, scored: int, total: int, removed: int, how: str, changed: int = 0) -> None:
    """One line per model and run: passes scored of all passes; of those, ``changed`` had rows whose
    fingerprint differs (the others are new, or gave no rows before: no target, no defender); ``removed``
    passes had their rows deleted (changed, or gone from the inputs)."""
    print(f"ngs incremental: {name}: scored {scored} of {total} passes ({how}; {changed} changed, "
          f"{scored - changed} new or without rows; {removed} passes' rows replaced or removed)", flush=True)


def only(rel: duckdb.DuckDBPyRelation, plays: pd.DataFrame, inc: Increment, name: str) -> duckdb.DuckDBPyRelation:
    """``rel`` restricted to the passes in ``plays`` (game_id, play_id) on an incremental run, as a relation
    (filtered in DuckDB); ``rel`` itself on a full one. The passes go to a temporary table ``name`` of the
    model's connection (replaced on the next call)."""
    if inc.table is None:
        return rel
    keys = plays[list(KEY)].drop_duplicates().astype("int64")
    inc.session.register(f"{name}_frame", keys)
    try:
        inc.session.execute(f"create or replace temp table {name} as select * from {name}_frame")
    finally:
        inc.session.unregister(f"{name}_frame")
    return inc.session.sql(f"select r.* from ({rel.sql_query()}) as r semi join {name} as k using (game_id, play_id)")


def stamp(out: pd.DataFrame, plays: pd.DataFrame) -> pd.DataFrame:
    """``out`` (rows keyed by game_id, play_id) with each pass's scoring_fingerprint from ``plays``."""
    fp = plays[[*KEY, COLUMN]].astype({"game_id": "int64", "play_id": "int64"})
    if out.empty:
        out = out.copy()
        out[COLUMN] = pd.Series(dtype="string")
        return out
    keys = out[list(KEY)].astype("int64")
    got = keys.merge(fp, on=list(KEY), how="left", validate="many_to_one")[COLUMN]
    out = out.copy()
    out[COLUMN] = pd.array(got.to_numpy(), dtype="string")
    return out


__all__ = ["COLUMN", "FULL", "MARKER", "Increment", "combine", "fingerprints", "only", "plan", "play_hashes", "stamp"]
