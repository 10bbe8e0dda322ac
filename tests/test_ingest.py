"""Ingestion: every vintage is recognised from its columns; bad files fail with the file, line and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import require_shared_data

from ngs.errors import IngestError
from ngs.ingest import create_raw_tables, detect, discover, load_file, load_files

TRACKING_2019 = ("bdb2019", "tracking_gameId_2017090700.csv")


@pytest.mark.real_data
@pytest.mark.parametrize(
    ("parts", "table"),
    [
        (("bdb2019", "tracking_gameId_2017090700.csv"), "bdb2019_tracking"),
        (("bdb2019", "plays.csv"), "bdb2019_plays"),
        (("bdb2019", "games.csv"), "bdb2019_games"),
        (("bdb2019", "players.csv"), "bdb2019_players"),
        (("bdb2023", "tracking_sample_7plays.csv"), "bdb_weekly_tracking"),
        (("bdb2023", "plays.csv"), "bdb_weekly_plays"),
        (("bdb2023", "games.csv"), "bdb_weekly_games"),
        (("bdb2023", "players.csv"), "bdb_weekly_players"),
        (("bdb2026", "output_2023_w01.csv"), "bdb2026_tracking_output"),
        (("ngs_highlights", "highlights.parquet"), "ngs_highlights_tracking"),
    ],
)
def test_real_files_are_recognised(parts, table):
    assert detect(require_shared_data(*parts)).spec.table == table


def _sample(tmp_path: Path, name: str, lines: int = 60) -> Path:
    src = require_shared_data(*TRACKING_2019)
    out = tmp_path / name
    with open(src) as fh, open(out, "w") as dst:
        for _ in range(lines):
            dst.write(fh.readline())
    return out


def _load(path: Path) -> int:
    con = duckdb.connect()
    create_raw_tables(con)
    return load_file(con, detect(path))


@pytest.mark.real_data
def test_good_sample_loads_with_row_identity(tmp_path):
    path = _sample(tmp_path, "tracking_gameId_1.csv")
    con = duckdb.connect()
    create_raw_tables(con)
    assert load_file(con, detect(path)) == 59
    rows = con.execute("select min(source_row), max(source_row), count(distinct source_file) "
                       "from raw.bdb2019_tracking").fetchone()
    assert rows == (1, 59, 1)
    # 'NA' in the file is NULL, never the string
    assert con.execute("select count(*) from raw.bdb2019_tracking where event = 'NA'").fetchone()[0] == 0


@pytest.mark.real_data
def test_truncated_file_names_file_and_line(tmp_path):
    path = _sample(tmp_path, "truncated.csv")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])  # cut the last row in the middle
    with pytest.raises(IngestError) as exc:
        _load(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 60" in msg and "truncated" in msg


@pytest.mark.real_data
def test_wrong_type_names_line_and_column(tmp_path):
    path = _sample(tmp_path, "wrongtype.csv")
    lines = path.read_text().splitlines()
    fields = lines[9].split(",")
    fields[1] = "not-a-number"  # column x
    lines[9] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError) as exc:
        _load(path)
    msg = str(exc.value)
    assert str(path) in msg and "line 10" in msg and "'x'" in msg


@pytest.mark.real_data
@pytest.mark.parametrize("workers", [1, 3])
def test_files_load_side_by_side_and_the_first_bad_one_is_named(tmp_path, workers):
    good = [_sample(tmp_path, f"tracking_gameId_{i}.csv", lines=20 + 10 * i) for i in range(1, 4)]
    con = duckdb.connect()
    create_raw_tables(con)
    assert load_files(con, [detect(p) for p in good], workers=workers) == 29 + 39 + 49
    # each file keeps its own line order: source_row 1..n, whatever ran beside it
    rows = con.execute("select source_file, min(source_row), max(source_row), count(distinct source_row) "
                       "from raw.bdb2019_tracking group by 1 order by 1").fetchall()
    assert rows == [(str(p), 1, n, n) for p, n in zip(good, (29, 39, 49), strict=True)]

    bad = _sample(tmp_path, "tracking_gameId_9.csv")
    bad.write_bytes(bad.read_bytes()[:-40] + b"\n")  # a short last row (without the line break detect refuses)
    con = duckdb.connect()
    create_raw_tables(con)
    files = [detect(good[0]), detect(bad), detect(good[1])]
    with pytest.raises(IngestError) as exc:
        load_files(con, files, workers=workers)
    assert str(bad) in str(exc.value) and "line 60" in str(exc.value)


@pytest.mark.real_data
def test_missing_required_column_is_named(tmp_path):
    path = _sample(tmp_path, "nocol.csv")
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace(",y,", ",why,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError, match=r"lacks required column\(s\) 'y'"):
        detect(path)


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(IngestError, match="empty"):
        detect(empty)
    header = tmp_path / "header.csv"
    header.write_text("gameId,playId,frameId,x,y\n")
    with pytest.raises(IngestError, match="no data rows"):
        detect(header)


def test_unknown_vintage_lists_columns(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("foo,bar\n1,2\n")
    with pytest.raises(IngestError, match=r"unknown format.*foo, bar"):
        detect(path)


def test_discover_skips_underscore_folders_and_rejects_empty_folders(tmp_path):
    (tmp_path / "_truth").mkdir()
    (tmp_path / "_truth" / "passes.csv").write_text("a,b\n1,2\n")
    with pytest.raises(IngestError, match="no .csv or .parquet"):
        discover([tmp_path])
    with pytest.raises(IngestError, match="no such file or folder"):
        discover([tmp_path / "missing"])


@pytest.mark.real_data
def test_same_file_twice_is_refused(tmp_path):
    src = require_shared_data("bdb2019", "games.csv")
    shutil.copy(src, tmp_path / "games.csv")
    with pytest.raises(IngestError, match="given twice"):
        discover([tmp_path, tmp_path / "games.csv"])
