"""Find Big Data Bowl files in folders, recognise their vintage, validate them and load them into `raw.*`.

Every problem is an `IngestError` naming the file (and the line and column): an empty, unreadable or
truncated file, a missing required column (with the format it looks closest to), a value of the wrong type
or a fraction in a whole-number column, a file that is not UTF-8/UTF-16 CSV text (compressed, binary), a
file no known format matches. A UTF-8 byte-order mark is skipped; UTF-16 little-endian with its mark is
read as such. The caller (`ngs.build`) loads into a temporary warehouse, so a failure leaves the real one
untouched.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from ngs.errors import IngestError
from ngs.ingest.formats import INT, SPECS, WHOLE_NUMBER_DOUBLES, B, D, FormatSpec

if TYPE_CHECKING:
    import pandas as pd

DATA_SUFFIXES = {".csv", ".parquet"}
NULL_STRINGS = ["NA", "", "NaN", "nan", "NULL"]


@dataclass(frozen=True)
class DataFile:
    path: Path
    spec: FormatSpec
    columns: tuple[str, ...]
    encoding: str = "utf-8"  # of a CSV: 'utf-8' (a byte-order mark is skipped) or 'utf-16' (little-endian, BOM)


_SNIFF_BYTES = 1 << 16


def _printable(text: str, limit: int = 60) -> str:
    """A value fit for an error message: control characters escaped, long text cut."""
    out = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def _read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except IsADirectoryError:
        raise IngestError(f"{path}: is a folder, not a data file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _text_encoding(path: Path, head: bytes) -> str:
    """The encoding a CSV is read with; a file that is not CSV text is an error saying what it looks like."""
    if head.startswith(b"\xff\xfe"):
        return "utf-16"  # UTF-16 little-endian with its byte-order mark: DuckDB reads it as 'utf-16'
    if head.startswith(b"\xfe\xff"):
        raise IngestError(f"{path}: the file is UTF-16 big-endian text; re-save it as UTF-8 (or UTF-16 little-endian)")
    kinds = {b"\x1f\x8b": "a gzip-compressed file: decompress it first (gunzip)",
             b"PK\x03\x04": "a zip archive: unzip it first",
             b"PAR1": "a parquet file: name it *.parquet"}
    for magic, what in kinds.items():
        if head.startswith(magic):
            raise IngestError(f"{path}: not CSV text but {what}")
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if head and (even.count(0) > 0.3 * len(even) or odd.count(0) > 0.3 * len(odd)):
            raise IngestError(f"{path}: the file looks like UTF-16 text without a byte-order mark; "
                              "re-save it as UTF-8")
        raise IngestError(f"{path}: not CSV text (binary data: NUL bytes in the first "
                          f"{min(len(head), _SNIFF_BYTES):,} bytes)")
    text = head[: head.rfind(b"\n") + 1] if len(head) == _SNIFF_BYTES and b"\n" in head else head
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise IngestError(f"{path} (line {line}): not UTF-8 text (byte 0x{text[exc.start]:02x}); "
                          "re-save the file as UTF-8") from None
    return "utf-8"


def _header(path: Path) -> tuple[list[str], str]:
    """The file's column names and, for a CSV, the encoding to read it with."""
    if path.suffix.lower() == ".parquet":
        try:
            rel = duckdb.sql(f"describe select * from read_parquet('{_sql_str(path)}')")
            return [r[0] for r in rel.fetchall()], "utf-8"
        except duckdb.Error as exc:
            raise IngestError(f"{path}: not a readable parquet file ({_first_line(exc)})") from exc
    head = _read_head(path)
    if not head:
        raise IngestError(f"{path}: the file is empty (no header, no rows)")
    encoding = _text_encoding(path, head)
    with open(path, newline="", encoding="utf-8-sig" if encoding == "utf-8" else encoding,
              errors="replace") as fh:
        try:
            header = next(csv.reader(fh))
        except StopIteration:
            raise IngestError(f"{path}: the file is empty (no header, no rows)") from None
        except csv.Error as exc:
            raise IngestError(f"{path} (line 1): the header is not valid CSV ({exc})") from None
        try:
            next(fh)
        except StopIteration:
            raise IngestError(f"{path}: has a header but no data rows") from None
    return [h.strip() for h in header], encoding


def _closest(cols: list[str]) -> str:
    """The formats whose columns a file shares most, and the required columns each would still need."""
    lower = {c.lower() for c in cols}
    scored = []
    for s in SPECS:
        shared = sum(c.lower() in lower for c in s.columns)
        missing = [c for c in s.required if c.lower() not in lower]
        if shared and missing:
            scored.append((shared - len(missing), s, missing))
    if not scored:
        return ""
    best = max(score for score, _, _ in scored)
    near = [f"{s.vintage} {s.entity} ({s.description}) but lacks required column(s) "
            f"{', '.join(repr(c) for c in missing)}" for score, s, missing in scored if score == best]
    return " It looks closest to " + "; or to ".join(near) + "."


def detect(path: Path) -> DataFile:
    """Recognise one file's format from its columns; an unknown or ambiguous file is an error."""
    cols, encoding = _header(path)
    colset = set(cols)
    found = [s for s in SPECS if s.matches(path.name.lower(), colset)]
    if not found:
        shown = ", ".join(_printable(c, 30) for c in cols[:12])
        raise IngestError(
            f"{path}: unknown format: no Big Data Bowl vintage has these columns "
            f"({shown}{', ...' if len(cols) > 12 else ''}).{_closest(cols)} "
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
    if path.suffix.lower() != ".parquet":
        _check_complete(path, encoding)
    return DataFile(path=path, spec=spec, columns=tuple(cols), encoding=encoding)


def _check_complete(path: Path, encoding: str) -> None:
    """Every Big Data Bowl release ends its last line with a line break: a file that does not was most likely
    cut off while being copied, possibly inside the last value (which would then load as a wrong value)."""
    end = b"\n\x00" if encoding == "utf-16" else b"\n"
    try:
        with open(path, "rb") as fh:
            fh.seek(-len(end), os.SEEK_END)
            if fh.read() == end:
                return
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    lines = _lines_in(path)
    raise IngestError(
        f"{path} (line {lines}): the last line does not end with a line break: the file looks truncated "
        "(every Big Data Bowl release ends its lines with one). If the file is complete, add a final newline."
    )


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


def _whole(spec_column: str, dtype: str) -> bool:
    """Whether a column holds whole numbers (frame ids, ids, counts): a fraction there is an error."""
    return dtype in (INT, B) or spec_column in WHOLE_NUMBER_DOUBLES


def _reader(f: DataFile) -> str:
    path = _sql_str(f.path)
    if f.path.suffix.lower() == ".parquet":
        return f"read_parquet('{path}')"
    # The dialect and every column are given, sniffing is off: a short (truncated) row or a value of the
    # wrong type then fails with DuckDB's line number instead of a guess. Whole-number columns are read as
    # DOUBLE (DuckDB would round '1.5' to 2 when casting it to an integer) and checked in load_file.
    types = {c: (D if t in (INT, B) else t) for c, t in f.spec.columns.items()}
    by_actual = {a: types[c] for c, a in _actual_columns(f).items()}
    columns = ", ".join(f"'{_sql_str(c)}': '{by_actual.get(c, 'VARCHAR')}'" for c in f.columns)
    nulls = ", ".join(f"'{n}'" for n in NULL_STRINGS)
    encoding = "" if f.encoding == "utf-8" else f", encoding = '{f.encoding}'"
    return (
        f"read_csv('{path}', header = true, delim = ',', quote = '\"', escape = '\"', "
        f"columns = {{{columns}}}, nullstr = [{nulls}], strict_mode = true, null_padding = false, "
        f"auto_detect = false{encoding})"
    )


_CSV_LINE_RE = re.compile(r"CSV Error on Line:\s*(\d+)")
_FIELDS_RE = re.compile(r"Expected Number of Columns:\s*(\d+)\s*Found:\s*(\d+)")
_CONVERT_RE = re.compile(r'converting column "(.+?)"\. Could not convert string "(.*?)" to \'?(\w+)')
_MISSING_RE = re.compile(r"NGS_MISSING\|(\d+)\|(.*?)\|")
_NOT_WHOLE_RE = re.compile(r"NGS_NOT_WHOLE\|(\d+)\|(.*?)\|(.*)")
_TYPE_WORDS = {"DOUBLE": "a number", "BIGINT": "a whole number", "INTEGER": "a whole number",
               "TIMESTAMP": "a timestamp", "BOOLEAN": "true or false"}


def _lines_in(path: Path) -> int | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def _explain(f: DataFile, exc: duckdb.Error) -> str:
    """DuckDB's error as one line naming the file, the line and the column (never the raw line's bytes)."""
    msg = str(exc)
    where = "line" if f.path.suffix.lower() != ".parquet" else "row"
    missing = _MISSING_RE.search(msg)
    if missing:
        row, column = int(missing.group(1)), missing.group(2)
        n = row + 1 if where == "line" else row
        return f"{f.path} ({where} {n}), column '{column}': no value (is the file truncated or malformed?)"
    whole = _NOT_WHOLE_RE.search(msg)
    if whole:
        row, column, value = int(whole.group(1)), whole.group(2), whole.group(3).strip()
        n = row + 1 if where == "line" else row
        return (f"{f.path} ({where} {n}), column '{column}': '{_printable(value)}' is not a whole number "
                f"({column} holds whole numbers)")
    line_m = _CSV_LINE_RE.search(msg)
    line = int(line_m.group(1)) if line_m else None
    at = f" (line {line})" if line else ""
    fields = _FIELDS_RE.search(msg)
    if fields:
        expected, found = int(fields.group(1)), int(fields.group(2))
        last = line is not None and line == _lines_in(f.path)
        why = ("it is the last line: the file looks truncated" if last and found < expected
               else "is the file truncated or malformed?")
        return (f"{f.path}{at}: the row has {found} field(s), the header has {expected} — {why}")
    if "unterminated quote" in msg:
        last = line is not None and line == _lines_in(f.path)
        why = "it is the last line: the file looks truncated" if last else "is the file truncated or malformed?"
        return f"{f.path}{at}: a quoted value is never closed — {why}"
    conv = _CONVERT_RE.search(msg)
    if conv:
        column, value, dtype = conv.group(1), conv.group(2), conv.group(3).upper()
        return (f"{f.path}{at}, column '{column}': '{_printable(value)}' is not "
                f"{_TYPE_WORDS.get(dtype, dtype)} (the column's type is {dtype})")
    if "Invalid unicode" in msg or "not utf-8" in msg.lower():
        return f"{f.path}{at}: not UTF-8 text; re-save the file as UTF-8"
    if isinstance(exc, duckdb.IOException) or "No files found" in msg:
        return f"{f.path}: cannot read the file ({_printable(_first_line(exc), 200)})"
    return f"{f.path}{at}: {_printable(_first_line(exc), 300)}"


def _actual_columns(f: DataFile) -> dict[str, str]:
    """Spec column -> the file's spelling of it (case-insensitive)."""
    by_lower = {c.lower(): c for c in f.columns}
    return {c: by_lower[c.lower()] for c in f.spec.columns if c.lower() in by_lower}


def _cast(column: str, spec_column: str, dtype: str, required_value: bool = False) -> str:
    col = _ident(column)
    tag = _sql_str(column.replace("|", "/"))
    checks = []
    if required_value:
        checks.append(f"when {col} is null then error('NGS_MISSING|' || __ngs_row || '|{tag}|')")
    if _whole(spec_column, dtype):
        # a fraction in a whole-number column stops the load, naming the row and the column
        checks.append(f"when {col} <> trunc({col}) "
                      f"then error('NGS_NOT_WHOLE|' || __ngs_row || '|{tag}|' || cast({col} as varchar))")
    cast = f"cast({col} as {dtype})"
    return f"case {' '.join(checks)} else {cast} end" if checks else cast


def _select_sql(f: DataFile, required_values: Sequence[str] = ()) -> str:
    """The file's rows in the spec's columns and types (NULL where the file lacks an optional column), in
    file order, with `__ngs_row` (1-based data row); every check raises an error _explain turns into a line."""
    actual = _actual_columns(f)
    parts = []
    for c, t in f.spec.columns.items():
        expr = _cast(actual[c], c, t, c in required_values) if c in actual else f"cast(null as {t})"
        parts.append(f"{expr} as {_ident(c)}")
    return f"select {', '.join(parts)}, __ngs_row from (select *, row_number() over () as __ngs_row from {_reader(f)})"


def read_file(f: DataFile, required_values: Sequence[str] = ()) -> pd.DataFrame:
    """One recognised file as a typed DataFrame (the spec's column names, `source_row`), in file order, with
    the checks of `load_file`; an empty value in one of `required_values` is an IngestError naming the line."""
    sql = f"select * rename (__ngs_row as source_row) from ({_select_sql(f, required_values)}) order by source_row"
    try:
        df = duckdb.connect().execute(sql).df()
    except duckdb.Error as exc:
        raise IngestError(_explain(f, exc)) from exc
    if df.empty:
        raise IngestError(f"{f.path}: no data rows")
    return df


def load_file(con: duckdb.DuckDBPyConnection, f: DataFile) -> int:
    """Insert one file into its raw table, with source_file/source_row. Returns the rows loaded."""
    cols = ", ".join(_ident(c) for c in f.spec.columns)
    sql = (
        f"insert into raw.{f.spec.table} ({cols}, source_file, source_row) "
        f"select * exclude (__ngs_row), '{_sql_str(f.path)}', __ngs_row from ({_select_sql(f)})"
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
        [str(f.path), f.spec.vintage, f.spec.entity, f"raw.{f.spec.table}", n, _size(f.path)],
    )
    return n


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


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
    order = sorted(range(len(files)), key=lambda i: -_size(files[i].path))
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


def refuse_loaded(files: list[DataFile], loaded: set[str], warehouse) -> None:
    """An append's file whose path a warehouse has loaded (`loaded`) is refused, naming it (both engines)."""
    for f in files:
        if str(f.path) in loaded:
            raise IngestError(f"{f.path}: already loaded into {warehouse} (use a new file name)")


def replayed_plays_error(path: str, game_id, play_id, n: int) -> IngestError:
    """The refusal of an append whose tracking file holds plays the warehouse has (both engines say it)."""
    return IngestError(
        f"{path}: holds tracking of {n} play(s) the warehouse already has (first: game {game_id}, "
        f"play {play_id}). An append adds new plays only; to replace loaded plays, rebuild without "
        "--append from all the folders."
    )


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
            raise replayed_plays_error(*rows[0])
