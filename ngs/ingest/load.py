"""Find Big Data Bowl files in folders, recognise their vintage, validate them and load them into `raw.*`.

Every problem is an `IngestError` naming the file (and the column or line): an empty or truncated file,
a missing required column, a value of the wrong type, a file no known format matches. The caller
(`ngs.build`) loads into a temporary warehouse, so a failure leaves the real one untouched.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ngs.errors import IngestError
from ngs.ingest.formats import SPECS, FormatSpec

DATA_SUFFIXES = {".csv", ".parquet"}
NULL_STRINGS = ["NA", "", "NaN", "nan", "NULL"]


@dataclass(frozen=True)
class DataFile:
    path: Path
    spec: FormatSpec
    columns: tuple[str, ...]


def _header(path: Path) -> list[str]:
    if path.suffix.lower() == ".parquet":
        try:
            rel = duckdb.sql(f"describe select * from read_parquet('{_sql_str(path)}')")
            return [r[0] for r in rel.fetchall()]
        except duckdb.Error as exc:
            raise IngestError(f"{path}: not a readable parquet file ({_first_line(exc)})") from exc
    if path.stat().st_size == 0:
        raise IngestError(f"{path}: the file is empty (no header, no rows)")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise IngestError(f"{path}: the file is empty (no header, no rows)") from None
        try:
            next(fh)
        except StopIteration:
            raise IngestError(f"{path}: has a header but no data rows") from None
    return [h.strip() for h in header]


def detect(path: Path) -> DataFile:
    """Recognise one file's format from its columns; an unknown or ambiguous file is an error."""
    cols = _header(path)
    colset = set(cols)
    found = [s for s in SPECS if s.matches(path.name.lower(), colset)]
    if not found:
        raise IngestError(
            f"{path}: unknown format: no Big Data Bowl vintage has these columns "
            f"({', '.join(cols[:12])}{', ...' if len(cols) > 12 else ''}). "
            "Accepted: see `ngs build --help` and the README's 'Data formats'."
        )
    if len(found) > 1:
        raise IngestError(f"{path}: ambiguous format, matches {[s.table for s in found]}")
    spec = found[0]
    lower = {c.lower() for c in cols}
    missing = [c for c in spec.required if c.lower() not in lower]
    if missing:
        raise IngestError(
            f"{path}: looks like {spec.vintage} {spec.entity} but lacks required column(s) "
            f"{', '.join(repr(c) for c in missing)}"
        )
    return DataFile(path=path, spec=spec, columns=tuple(cols))


def discover(folders: list[Path]) -> list[DataFile]:
    """All data files under the folders (recursively), each recognised. Names starting with '_' or '.' are
    skipped (the simulator keeps its ground truth in `_truth/`)."""
    files: list[DataFile] = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(
                p for p in folder.rglob("*")
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
                and not any(part.startswith(("_", ".")) for part in p.relative_to(folder).parts)
            )
        else:
            raise IngestError(f"{folder}: no such file or folder")
        if not candidates:
            raise IngestError(f"{folder}: no .csv or .parquet data files found")
        files.extend(detect(p) for p in candidates)
    seen: dict[Path, Path] = {}
    for f in files:
        key = f.path.resolve()
        if key in seen:
            raise IngestError(f"{f.path}: given twice")
        seen[key] = f.path
    return files


def _sql_str(path: Path | str) -> str:
    return str(path).replace("'", "''")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def create_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table exists (empty when its vintage was not given), so dbt sources always resolve."""
    con.execute("create schema if not exists raw")
    for spec in SPECS:
        cols = ", ".join(f"{_ident(c)} {t}" for c, t in spec.columns.items())
        con.execute(
            f"create table if not exists raw.{spec.table} ({cols}, source_file varchar, source_row bigint)"
        )
    con.execute(
        "create table if not exists raw.load_manifest (source_file varchar, vintage varchar, entity varchar, "
        "raw_table varchar, rows bigint, bytes bigint, loaded_at timestamp default current_timestamp)"
    )


def _reader(f: DataFile) -> str:
    path = _sql_str(f.path)
    if f.path.suffix.lower() == ".parquet":
        return f"read_parquet('{path}')"
    # The dialect and every column are given, sniffing is off: a short (truncated) row or a value of the
    # wrong type then fails with DuckDB's line number instead of a guess.
    types = {c: t for c, t in f.spec.columns.items()}
    by_actual = {a: types[c] for c, a in _actual_columns(f).items()}
    columns = ", ".join(f"'{_sql_str(c)}': '{by_actual.get(c, 'VARCHAR')}'" for c in f.columns)
    nulls = ", ".join(f"'{n}'" for n in NULL_STRINGS)
    return (
        f"read_csv('{path}', header = true, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {{{columns}}}, nullstr = [{nulls}], strict_mode = true, null_padding = false, "
        f"auto_detect = false)"
    )


_LINE_RE = re.compile(r"line:?\s*(\d+)", re.IGNORECASE)


def _explain(f: DataFile, exc: duckdb.Error) -> str:
    msg = str(exc)
    first = _first_line(exc)
    line = _LINE_RE.search(msg)
    where = f" (line {line.group(1)})" if line else ""
    col = re.search(r'[Cc]olumn:?\s*"?([\w.]+)"?', msg)
    col_part = f", column '{col.group(1)}'" if col else ""
    hint = ""
    if "Expected Number of Columns" in msg or "too many columns" in msg.lower():
        hint = " — the row has the wrong number of fields: is the file truncated or malformed?"
    elif "Could not convert" in msg or "Conversion" in type(exc).__name__:
        hint = " — a value does not have the column's type"
    return f"{f.path}{where}{col_part}: {first}{hint}"


def _actual_columns(f: DataFile) -> dict[str, str]:
    """Spec column -> the file's spelling of it (case-insensitive)."""
    by_lower = {c.lower(): c for c in f.columns}
    return {c: by_lower[c.lower()] for c in f.spec.columns if c.lower() in by_lower}


def load_file(con: duckdb.DuckDBPyConnection, f: DataFile) -> int:
    """Insert one file into its raw table, with source_file/source_row. Returns the rows loaded."""
    actual = _actual_columns(f)
    select = ", ".join(
        (f"cast({_ident(actual[c])} as {t})" if c in actual else f"cast(null as {t})")
        for c, t in f.spec.columns.items()
    )
    cols = ", ".join(_ident(c) for c in f.spec.columns)
    sql = (
        f"insert into raw.{f.spec.table} ({cols}, source_file, source_row) "
        f"select {select}, '{_sql_str(f.path)}', row_number() over () from {_reader(f)}"
    )
    try:
        n = con.execute(sql).fetchone()[0]
    except duckdb.Error as exc:
        raise IngestError(_explain(f, exc)) from exc
    if n == 0:
        raise IngestError(f"{f.path}: no data rows")
    con.execute(
        "insert into raw.load_manifest (source_file, vintage, entity, raw_table, rows, bytes) "
        "values (?, ?, ?, ?, ?, ?)",
        [str(f.path), f.spec.vintage, f.spec.entity, f"raw.{f.spec.table}", n, f.path.stat().st_size],
    )
    return n


def ingest_workers() -> int:
    """Files loaded at once (env NGS_INGEST_WORKERS, default: the machine's cores, at most 4)."""
    return max(1, int(os.environ.get("NGS_INGEST_WORKERS", min(os.cpu_count() or 1, 4))))


def load_files(con: duckdb.DuckDBPyConnection, files: list[DataFile], workers: int | None = None,
               on_loaded: Callable[[DataFile, int], None] | None = None) -> int:
    """Load ``files`` into their raw tables, several at once; returns the rows loaded.

    ``row_number() over ()`` (source_row, the file's line order) keeps each file's insert on one thread, so
    files are loaded side by side, each through its own cursor (DuckDB appends to one table concurrently).
    The largest files go first so the workers finish together. If any file fails, the others still finish
    and the error of the first failing file (in ``files`` order) is raised: the caller drops the database.
    """
    workers = workers or ingest_workers()
    order = sorted(range(len(files)), key=lambda i: -files[i].path.stat().st_size)
    loaded: dict[int, int] = {}
    errors: dict[int, BaseException] = {}

    def one(i: int) -> None:
        cur = con.cursor()
        try:
            loaded[i] = load_file(cur, files[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in file order
            errors[i] = exc
            return
        finally:
            cur.close()
        if on_loaded:
            on_loaded(files[i], loaded[i])

    if workers == 1:
        for i in order:
            one(i)
            if errors:
                break
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, order))
    if errors:
        raise errors[min(errors)]
    return sum(loaded.values())


def already_loaded(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("select source_file from raw.load_manifest").fetchall()}


def _key_columns(spec) -> tuple[str, str]:
    cols = spec.columns
    return ("game_id", "play_id") if "game_id" in cols else ("gameId", "playId")


def check_no_replayed_plays(con: duckdb.DuckDBPyConnection, new_files: list[DataFile]) -> None:
    """An append must bring new plays: tracking of a (game, play) an earlier load already holds is refused,
    naming the new file, the play and how many plays overlap (the warehouse is left as it was). Play
    metadata is different: a newer supplementary_data.csv / plays.csv that describes loaded plays again is
    allowed, and the file loaded last describes them (int_plays_unioned)."""
    by_table: dict[str, list[DataFile]] = {}
    for f in new_files:
        if "tracking" in f.spec.entity:
            by_table.setdefault(f.spec.table, []).append(f)
    for table, files in by_table.items():
        game, play = (_ident(c) for c in _key_columns(files[0].spec))
        new = ", ".join(f"'{_sql_str(f.path)}'" for f in files)
        rows = con.execute(
            f"with new as (select distinct source_file, {game} as game_id, {play} as play_id "
            f"from raw.{table} where source_file in ({new})), "
            f"old as (select distinct {game} as game_id, {play} as play_id "
            f"from raw.{table} where source_file not in ({new})) "
            "select new.source_file, new.game_id, new.play_id, count(*) over () as n "
            "from new inner join old using (game_id, play_id) order by 1, 2, 3 limit 1"
        ).fetchall()
        if rows:
            path, game_id, play_id, n = rows[0]
            raise IngestError(
                f"{path}: holds tracking of {n} play(s) the warehouse already has (first: game {game_id}, "
                f"play {play_id}). An append adds new plays only; to replace loaded plays, rebuild without "
                "--append from all the folders."
            )
