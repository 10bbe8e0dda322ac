"""Fault injection, input side (issue 12): every bad input gives a clear error naming the file, line and
column, or a named quarantine row; a refused build leaves the warehouse as it was; the simulator cannot
hang on a dead worker nor overwrite somebody's folder; `ghost-eval` never prints invalid JSON.

Small inputs are built in tmp_path (the real samples through require_shared_data where they help).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import require_shared_data

from ngs.errors import IngestError, NgsError
from ngs.ingest import create_raw_tables, detect, load_file
from ngs.ingest import load as ingest_load

# every test here, with its module fixture (one small build, ~40 s), ends well within this
pytestmark = pytest.mark.timeout(600)

WEEKLY_HEADER = ["gameId", "playId", "nflId", "frameId", "time", "jerseyNumber", "team", "playDirection",
                 "x", "y", "s", "a", "dis", "o", "dir", "event"]


def _weekly_rows(n: int = 12) -> list[list[str]]:
    rows = []
    for i in range(n):
        rows.append(["2030091000", "75", "1001", str(i + 1), f"2030-09-10T20:20:{i:02d}.000", "12", "KC", "left",
                     f"{40 + 0.1 * i:.2f}", "20.00", "1.00", "0.10", "0.10", "90.00", "90.00", ""])
    return rows


def _write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    path.write_bytes(text.encode(encoding))
    return path


def _load(path: Path) -> tuple[int, duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    create_raw_tables(con)
    return load_file(con, detect(path)), con


def _clean_message(msg: str) -> None:
    """One readable line or a few: no raw NUL or control bytes, no traceback."""
    assert "Traceback" not in msg
    assert not any(ord(c) < 32 and c not in "\n\t" for c in msg), repr(msg)


# ------------------------------------------------------------------------------------- ingest errors
@pytest.mark.parametrize(("dropped", "vintage"), [("x", "bdb_weekly tracking"), ("frameId", "bdb_weekly tracking")])
def test_missing_x_or_frame_id_names_the_column_and_the_closest_format(tmp_path, dropped, vintage):
    i = WEEKLY_HEADER.index(dropped)
    rows = [r[:i] + r[i + 1:] for r in _weekly_rows()]
    path = _write_csv(tmp_path / "tracking_week_1.csv", WEEKLY_HEADER[:i] + WEEKLY_HEADER[i + 1:], rows)
    with pytest.raises(IngestError) as exc:
        detect(path)
    msg = str(exc.value)
    assert str(path) in msg and f"looks closest to {vintage}" in msg and f"'{dropped}'" in msg


def test_missing_frame_id_of_a_2019_file_names_both_candidates(tmp_path):
    header = ["time", "x", "y", "s", "dis", "dir", "event", "nflId", "displayName", "jerseyNumber", "team",
              "gameId", "playId"]
    row = ["2017-09-08T00:41:59.000", "41.56", "16.54", "3.91", "0.41", "78.9", "NA", "2495340", "A B", "42",
           "away", "2017090700", "44"]
    path = _write_csv(tmp_path / "tracking_gameId_2017090700.csv", header, [row])
    with pytest.raises(IngestError, match=r"bdb2019 tracking .*lacks required column\(s\) 'frame\.id'") as exc:
        detect(path)
    assert "'frameId'" in str(exc.value)  # the weekly format is as close: both are named


def test_utf8_bom_is_skipped(tmp_path):
    plain = _write_csv(tmp_path / "plain" / "tracking_week_1.csv", WEEKLY_HEADER, _weekly_rows()) \
        if (tmp_path / "plain").mkdir() is None else None
    bom = tmp_path / "tracking_week_1.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert detect(bom).spec.table == "bdb_weekly_tracking"
    n, con = _load(bom)
    m, con2 = _load(plain)
    cols = "\"gameId\", \"frameId\", x, y, team, source_row"
    assert n == m == 12
    assert (con.execute(f"select {cols} from raw.bdb_weekly_tracking order by source_row").fetchall()
            == con2.execute(f"select {cols} from raw.bdb_weekly_tracking order by source_row").fetchall())


def test_utf16_with_byte_order_mark_is_read_and_other_utf16_is_named(tmp_path):
    rows = _weekly_rows()
    le = _write_csv(tmp_path / "le.csv", WEEKLY_HEADER, rows, encoding="utf-16")  # little-endian + BOM
    n, con = _load(le)
    assert n == 12
    assert con.execute("select max(\"frameId\"), sum(x) from raw.bdb_weekly_tracking").fetchone()[0] == 12
    be = tmp_path / "be.csv"
    be.write_bytes(b"\xfe\xff" + "\n".join(",".join(r) for r in [WEEKLY_HEADER, *rows]).encode("utf-16-be"))
    nobom = _write_csv(tmp_path / "nobom.csv", WEEKLY_HEADER, rows, encoding="utf-16-le")
    for path, what in ((be, "UTF-16 big-endian"), (nobom, "UTF-16 text without a byte-order mark")):
        with pytest.raises(IngestError, match=what) as exc:
            detect(path)
        assert str(path) in str(exc.value)
        _clean_message(str(exc.value))


def test_binary_and_compressed_files_are_named_without_printing_their_bytes(tmp_path):
    binary = tmp_path / "tracking_week_1.csv"
    binary.write_bytes(bytes(range(256)) * 8)
    gz = tmp_path / "tracking_week_2.csv"
    gz.write_bytes(gzip.compress(b"gameId,playId,frameId,x,y\n1,1,1,1.0,1.0\n"))
    latin = tmp_path / "players.csv"
    latin.write_bytes("nflId,officialPosition,displayName\n1,QB,Jos\xe9\n".encode("latin-1"))
    cases = [(binary, "not CSV text"), (gz, "gzip"), (latin, r"\(line 2\): not UTF-8")]
    for path, what in cases:
        with pytest.raises(IngestError, match=what) as exc:
            detect(path)
        assert str(path) in str(exc.value)
        _clean_message(str(exc.value))


def test_unreadable_file_is_a_clear_error(tmp_path, monkeypatch):
    path = _write_csv(tmp_path / "tracking_week_1.csv", WEEKLY_HEADER, _weekly_rows())

    def refuse(file, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(file))

    # as root, chmod 000 does not stop reading: make open() refuse, as it does for another user
    monkeypatch.setattr(ingest_load, "open", refuse, raising=False)
    with pytest.raises(IngestError, match=r"cannot read the file \(Permission denied\)") as exc:
        detect(path)
    assert str(path) in str(exc.value)


def test_unreadable_file_through_the_cli_gives_one_line_and_no_traceback(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # a file that exists and cannot be read: /proc/self/mem answers every read at offset 0 with EIO
    (data / "tracking_week_1.csv").symlink_to("/proc/self/mem")
    warehouse = tmp_path / "wh" / "w.duckdb"
    proc = subprocess.run([sys.executable, "-m", "ngs.cli", "build", "--data", str(data), "--warehouse",
                           str(warehouse)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot read the file" in proc.stderr and "tracking_week_1.csv" in proc.stderr
    assert "Traceback" not in proc.stderr and not warehouse.exists()


def test_a_folder_named_like_a_csv_is_not_read_as_a_file(tmp_path):
    folder = tmp_path / "tracking_week_1.csv"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a folder"):
        detect(folder)


@pytest.mark.parametrize(("cut", "what"), [
    ("inside_a_value", "the last line does not end with a line break: the file looks truncated"),
    ("short_row", "the row has 9 field(s), the header has 16 — it is the last line: the file looks truncated"),
    ("open_quote", "a quoted value is never closed — it is the last line: the file looks truncated"),
])
def test_truncated_last_line_names_file_and_line(tmp_path, cut, what):
    path = _write_csv(tmp_path / "tracking_week_1.csv", WEEKLY_HEADER, _weekly_rows())
    data = path.read_bytes()
    if cut == "inside_a_value":  # the last row keeps all its fields: only the missing line break tells
        data, line = data[:-3], 13
    elif cut == "short_row":
        data, line = data[: len(data) - 40] + b"\n", 13
    else:
        data, line = data + b'2030091000,75,"1001\n', 14
    path.write_bytes(data)
    with pytest.raises(IngestError) as exc:
        _load(path)
    msg = str(exc.value)
    assert f"{path} (line {line}): {what}" in msg, msg
    _clean_message(msg)


@pytest.mark.parametrize(("column", "value", "what"), [
    ("frameId", "2.5", "is not a whole number"),
    ("gameId", "2030091000.5", "is not a whole number"),
    ("nflId", "1001.5", "is not a whole number"),
    ("x", "abc", "is not a number"),
    ("s", "1\x01", "is not a number"),
])
def test_a_wrong_value_names_file_line_and_column(tmp_path, column, value, what):
    rows = _weekly_rows()
    rows[6][WEEKLY_HEADER.index(column)] = value  # data row 7 = line 8
    path = _write_csv(tmp_path / "tracking_week_1.csv", WEEKLY_HEADER, rows)
    with pytest.raises(IngestError) as exc:
        _load(path)
    msg = str(exc.value)
    assert f"{path} (line 8), column '{column}': " in msg and what in msg, msg
    _clean_message(msg)


def test_a_fraction_in_a_parquet_whole_number_column_names_the_row(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"gameId": [1, 1, 1], "playId": [2, 2, 2], "frame": [1.0, 2.5, 3.0], "x": [1.0, 2.0, 3.0],
                      "y": [1.0, 1.0, 1.0], "possessionFlag": [1.0, 1.0, 1.0], "nflId": [7.0, 7.0, 7.0]})
    path = tmp_path / "highlights.parquet"
    pq.write_table(table, path)
    with pytest.raises(IngestError, match=r"\(row 2\), column 'frame': '2.5' is not a whole number") as exc:
        _load(path)
    assert str(path) in str(exc.value)


# -------------------------------------------------- the warehouse: quarantine rows and refused builds
GAME_2019 = 2017090700
MUTATED_2019 = 2017090701  # the same plays again, with bad values, under another game id
PLAYS_2019 = (68, 94, 160)


def _subset_2019(src: Path, out: Path) -> dict[str, int]:
    """Three pass plays of the real 2019 game, once as released and once (game MUTATED_2019) with a frame id
    of -3 at a first frame, a team 'HOME' and a team 'xyz'. Returns the mutated rows' source_row."""
    out.mkdir()
    with open(src / "tracking_gameId_2017090700.csv", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for r in reader if int(r[header.index("playId")]) in PLAYS_2019]
    c = {name: header.index(name) for name in ("frame.id", "team", "playId", "gameId", "nflId")}
    mutated = [list(r) for r in rows]
    for r in mutated:
        r[c["gameId"]] = str(MUTATED_2019)
    marks = {}

    def first(play: int, frame: int, team: str) -> int:
        return next(i for i, r in enumerate(mutated) if int(r[c["playId"]]) == play
                    and int(r[c["frame.id"]]) == frame and r[c["team"]] == team)

    i = first(68, 1, "home")
    mutated[i][c["frame.id"]] = "-3"
    marks["invalid_frame_id"] = i + 1
    i = first(94, 20, "away")
    mutated[i][c["team"]] = "HOME"
    marks["unexpected_team_HOME"] = i + 1
    i = first(160, 20, "home")
    mutated[i][c["team"]] = "xyz"
    marks["unexpected_team_xyz"] = i + 1
    for name, body in (("tracking_gameId_2017090700.csv", rows), ("tracking_gameId_2017090701.csv", mutated)):
        with open(out / name, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(body)
    plays = pd.read_csv(src / "plays.csv", keep_default_na=False, dtype=str)
    plays = plays[plays.gameId.astype(int).eq(GAME_2019) & plays.playId.astype(int).isin(PLAYS_2019)]
    pd.concat([plays, plays.assign(gameId=str(MUTATED_2019))]).to_csv(out / "plays.csv", index=False)
    games = pd.read_csv(src / "games.csv", keep_default_na=False, dtype=str)
    games = games[games.gameId.astype(int).eq(GAME_2019)]
    pd.concat([games, games.assign(gameId=str(MUTATED_2019))]).to_csv(out / "games.csv", index=False)
    (out / "players.csv").write_bytes((src / "players.csv").read_bytes())
    return marks


def _sim_with_bad_values(out: Path) -> dict[str, tuple[int, str]]:
    """A one-game simulated release whose tracking holds one row per bad value; returns rule -> (source_row,
    what was written). The players file gets an impossible weight."""
    from ngs.simulate import simulate_release

    simulate_release(1, 5, out, plays_per_game=12, workers=1, anomalies=False)
    path = out / "tracking_week_1.csv"
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    col = {name: header.index(name) for name in header}
    games = pd.read_csv(out / "games.csv")
    clubs = {games.homeTeamAbbr[0], games.visitorTeamAbbr[0]}
    other = next(c for c in ("DAL", "NYG", "SEA", "KC") if c not in clubs)
    edits = {
        "invalid_frame_id": ("frameId", "0"),
        "unexpected_team": ("team", "xyz"),
        "unexpected_team_club": ("team", other),
        "unexpected_play_direction": ("playDirection", "up"),
        "impossible_motion_s": ("s", "-1.5"),
        "impossible_motion_dir": ("dir", "400.0"),
    }
    marks = {}
    row = 200
    for name, (column, value) in edits.items():
        while lines[row].split(",")[col["nflId"]] in ("", "NA"):  # a player's row, not the ball's
            row += 1
        fields = lines[row].split(",")
        fields[col[column]] = value
        lines[row] = ",".join(fields)
        marks[name] = (row, value)  # line `row` + 1 = data row `row`
        row += 300
    path.write_text("\n".join(lines) + "\n")
    players = pd.read_csv(out / "players.csv", dtype=str, keep_default_na=False)
    players.loc[0, "weight"] = "5000"
    players.to_csv(out / "players.csv", index=False)
    marks["implausible_weight"] = (int(players.nflId[0]), "5000")
    return marks


def _bdb2026_with_bad_values(src: Path, out: Path) -> dict[str, int]:
    out.mkdir()
    lines = (src / "input_2023_w11.csv").read_text().splitlines()[:120]
    header = lines[0].split(",")
    col = {name: header.index(name) for name in header}
    marks = {}
    for row, (column, value, rule) in zip((10, 30, 50), [("player_side", "Offence", "unexpected_player_side"),
                                                          ("player_role", "Kicker", "unexpected_player_role"),
                                                          ("play_direction", "north", "unexpected_play_direction")],
                                          strict=True):
        fields = lines[row].split(",")
        fields[col[column]] = value
        lines[row] = ",".join(fields)
        marks[rule] = row
    (out / "input_2023_w11.csv").write_text("\n".join(lines) + "\n")
    return marks


@pytest.fixture(scope="module")
def faulty_build(tmp_path_factory, dbt_isolation):
    """One warehouse from three releases holding bad values: the real 2019 plays (clean and mutated), a
    simulated game and a slice of BDB 2026 inputs. The foundation marts and fct_pass_features only."""
    from ngs.build import build

    root = tmp_path_factory.mktemp("faults")
    marks_2019 = _subset_2019(require_shared_data("bdb2019"), root / "bdb2019")
    marks_sim = _sim_with_bad_values(root / "sim")
    marks_2026 = _bdb2026_with_bad_values(require_shared_data("bdb2026"), root / "bdb2026")
    warehouse = root / "faults.duckdb"
    build([root / "bdb2019", root / "sim", root / "bdb2026"], warehouse,
          select="+path:models/marts/core +fct_pass_features", quiet=True)
    return {"warehouse": warehouse, "root": root, "2019": marks_2019, "sim": marks_sim, "2026": marks_2026}


def _q(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.real_data
@pytest.mark.slow
def test_2019_bad_values_are_quarantined_by_name_and_the_passes_keep_their_figures(faulty_build):
    wh, marks = faulty_build["warehouse"], faulty_build["2019"]
    mutated_file = str(faulty_build["root"] / "bdb2019" / "tracking_gameId_2017090701.csv")
    got = dict(_q(wh, "select source_row, rule from marts.fct_tracking_quarantine where source_file = ?",
                  [mutated_file]))
    assert got[marks["invalid_frame_id"]] == "invalid_frame_id"
    assert got[marks["unexpected_team_HOME"]] == "unexpected_team"
    assert got[marks["unexpected_team_xyz"]] == "unexpected_team"
    assert _q(wh, "select measured_value from marts.fct_tracking_quarantine where source_file = ? "
                  "and source_row = ?", [mutated_file, marks["invalid_frame_id"]]) == [(-3.0,)]
    # nothing else of the mutated game is lost compared with the same plays as released
    acc = {r[0]: r[1:] for r in _q(wh, "select source_file, raw_rows, clean_rows, quarantined_rows, "
                                       "invalid_value_rows, is_balanced from marts.rpt_row_accounting")}
    clean_file = mutated_file.replace("0701", "0700")
    assert acc[mutated_file][0] == acc[clean_file][0]
    assert acc[mutated_file][2] == acc[clean_file][2] + 3 and acc[mutated_file][3] == 3
    assert acc[mutated_file][4] and acc[clean_file][4]
    # the direction is still inferred from the line-up, so the passes are not turned around
    dirs = _q(wh, "select game_id, play_id, play_direction, direction_method "
                  "from intermediate.int_plays_direction_inferred where source = 'bdb2019' order by 1, 2")
    by_game = {g: [(p, d, m) for gg, p, d, m in dirs if gg == g] for g in (GAME_2019, MUTATED_2019)}
    assert by_game[GAME_2019] == by_game[MUTATED_2019] and len(by_game[GAME_2019]) == len(PLAYS_2019)
    assert all(m == "inferred_lineup" for _, _, m in by_game[GAME_2019])
    feats = pd.DataFrame(
        _q(wh, "select game_id, play_id, pass_depth_yd, air_distance_yd, receiver_separation_throw_yd, "
               "receiver_separation_arrival_yd from marts.fct_pass_features where source = 'bdb2019'"),
        columns=["game_id", "play_id", "depth", "air", "sep_throw", "sep_arrival"])
    clean = feats[feats.game_id == GAME_2019].set_index("play_id").drop(columns="game_id").sort_index()
    bad = feats[feats.game_id == MUTATED_2019].set_index("play_id").drop(columns="game_id").sort_index()
    assert list(clean.index) == list(bad.index) == list(PLAYS_2019)
    assert bad.notna().all().all()
    # one player's row less in a frame moves nothing by more than a yard; no pass changes direction
    np.testing.assert_allclose(bad.to_numpy(), clean.to_numpy(), atol=1.0)
    assert (np.sign(bad.depth) == np.sign(clean.depth)).all()


@pytest.mark.real_data
@pytest.mark.slow
def test_weekly_and_2026_bad_values_are_quarantined_by_name(faulty_build):
    wh = faulty_build["warehouse"]
    sim_file = str(faulty_build["root"] / "sim" / "tracking_week_1.csv")
    got = dict(_q(wh, "select source_row, rule from marts.fct_tracking_quarantine where source_file = ?",
                  [sim_file]))
    expected = {"invalid_frame_id": "invalid_frame_id", "unexpected_team": "unexpected_team",
                "unexpected_team_club": "unexpected_team", "unexpected_play_direction": "unexpected_play_direction",
                "impossible_motion_s": "impossible_motion", "impossible_motion_dir": "impossible_motion"}
    for mark, rule in expected.items():
        row, _value = faulty_build["sim"][mark]
        assert got.get(row) == rule, (mark, row, got.get(row))
    file_2026 = str(faulty_build["root"] / "bdb2026" / "input_2023_w11.csv")
    got = dict(_q(wh, "select source_row, rule from marts.fct_tracking_quarantine where source_file = ?",
                  [file_2026]))
    for rule, row in faulty_build["2026"].items():
        assert got.get(row) == rule, (rule, row, got.get(row))
    # every file balances: raw = clean + quarantined
    assert _q(wh, "select bool_and(is_balanced), count(*) from marts.rpt_row_accounting")[0] == (True, 4)
    nfl_id, value = faulty_build["sim"]["implausible_weight"]
    assert _q(wh, "select rule, measured_value from marts.fct_player_quarantine where nfl_id = ?",
              [nfl_id]) == [("implausible_weight", float(value))]
    assert _q(wh, "select weight_lb from marts.dim_players where nfl_id = ?", [nfl_id]) == [(None,)]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.real_data
@pytest.mark.slow
@pytest.mark.parametrize("fault", ["binary", "missing_column", "truncated", "fraction", "utf16_be"])
def test_a_refused_build_leaves_the_warehouse_as_it_was(faulty_build, tmp_path, fault):
    wh = faulty_build["warehouse"]
    before, listing = _digest(wh), sorted(p.name for p in wh.parent.iterdir())
    data = tmp_path / "data"
    data.mkdir()
    good = (faulty_build["root"] / "sim" / "tracking_week_1.csv").read_bytes()
    bad = data / "tracking_week_9.csv"
    if fault == "binary":
        bad.write_bytes(b"\x00\x01\x02garbage\xff" * 100)
    elif fault == "missing_column":
        lines = good.decode().splitlines()[:50]
        bad.write_text("\n".join(",".join(f for j, f in enumerate(line.split(",")) if j != 8) for line in lines))
    elif fault == "truncated":
        bad.write_bytes(good[:5000])
    elif fault == "fraction":
        lines = good.decode().splitlines()[:50]
        fields = lines[30].split(",")
        fields[3] = "7.5"
        lines[30] = ",".join(fields)
        bad.write_text("\n".join(lines) + "\n")
    else:
        bad.write_bytes(b"\xfe\xff" + good[:3000].decode().encode("utf-16-be"))
    proc = subprocess.run([sys.executable, "-m", "ngs.cli", "build", "--data", str(data), "--warehouse", str(wh),
                           "--append"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("ngs build: error: ") and str(bad) in err, err
    _clean_message(err)
    if fault in ("truncated", "fraction"):
        assert "line " in err
    assert _digest(wh) == before and sorted(p.name for p in wh.parent.iterdir()) == listing



@pytest.mark.real_data
@pytest.mark.slow
def test_appending_a_loaded_file_again_is_refused_and_leaves_the_warehouse(faulty_build):
    """The same folder appended again: the first of its files already loaded is named (same path), before
    anything is written."""
    wh = faulty_build["warehouse"]
    before, listing = _digest(wh), sorted(p.name for p in wh.parent.iterdir())
    sim = faulty_build["root"] / "sim"
    proc = subprocess.run([sys.executable, "-m", "ngs.cli", "build", "--data", str(sim), "--warehouse", str(wh),
                           "--append"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("ngs build: error: ") and f": already loaded into {wh} (use a new file name)" in err, err
    assert str(sim) in err
    _clean_message(err)
    assert _digest(wh) == before and sorted(p.name for p in wh.parent.iterdir()) == listing

# ---------------------------------------------------------------------------------------- simulator
@pytest.mark.parametrize(("args", "message"), [
    (["--plays-per-game", "-5"], "argument --plays-per-game: must be between 1 and 400, got -5"),
    (["--plays-per-game", "0"], "argument --plays-per-game: must be between 1 and 400, got 0"),
    (["--games", "0"], "argument --games: must be between 1 and 288, got 0"),
    (["--games", "two"], "argument --games: 'two' is not a whole number"),
    (["--seed", "-1"], "argument --seed: must be >= 0, got -1"),
])
def test_simulate_arguments_are_checked(tmp_path, capsys, args, message):
    from ngs.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--out", str(tmp_path / "out"), *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_simulate_bounds_in_the_cli_are_the_simulators():
    from ngs.simulate import MAX_GAMES, MAX_PLAYS_PER_GAME, simulate_release

    assert (MAX_GAMES, MAX_PLAYS_PER_GAME) == (288, 400)  # the literals of ngs/cli.py's _add_simulate
    with pytest.raises(NgsError, match="--plays-per-game must be between 1 and 400, got 0"):
        simulate_release(1, 1, "/nonexistent/never-written", plays_per_game=0)


def test_simulate_refuses_a_folder_holding_other_data(tmp_path):
    from ngs.simulate import MARKER, simulate_release

    out = tmp_path / "mine"
    out.mkdir()
    (out / "games.csv").write_text("my,own\n1,2\n")
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(NgsError, match=r"already holds files the simulator did not write \(games.csv, notes.txt\)"):
        simulate_release(1, 3, out, plays_per_game=5, workers=1)
    assert (out / "games.csv").read_text() == "my,own\n1,2\n" and sorted(p.name for p in out.iterdir()) == [
        "games.csv", "notes.txt"]
    # an earlier simulator output (its marker) is overwritten; --force writes beside other files
    again = tmp_path / "again"
    simulate_release(1, 3, again, plays_per_game=5, workers=1)
    first = (again / "tracking_week_1.csv").read_bytes()
    simulate_release(1, 4, again, plays_per_game=5, workers=1)
    assert (again / MARKER).exists() and (again / "tracking_week_1.csv").read_bytes() != first
    simulate_release(1, 3, out, plays_per_game=5, workers=1, force=True)
    assert (out / "notes.txt").read_text() == "keep me" and (out / "games.csv").read_text() != "my,own\n1,2\n"


def test_simulate_cli_refusal_is_one_line(tmp_path):
    out = tmp_path / "data"
    out.mkdir()
    (out / "week1.csv").write_text("a,b\n")
    proc = subprocess.run([sys.executable, "-m", "ngs.cli", "simulate", "--games", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "already holds files" in proc.stderr and "Traceback" not in proc.stderr
    assert (out / "week1.csv").read_text() == "a,b\n"


def test_simulate_on_a_full_disk_is_one_error_and_leaves_no_partial_release(tmp_path, monkeypatch):
    import errno

    import ngs.simulate as sim

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sim, "write_rfc_csv", full)
    out = tmp_path / "sim"
    with pytest.raises(NgsError, match=r"writing failed \(No space left on device\); the partial output was removed"):
        sim.simulate_release(1, 3, out, plays_per_game=5, workers=1)
    assert sorted(p.name for p in out.iterdir()) == [sim.MARKER]


def _segfault(job):
    os.kill(os.getpid(), signal.SIGSEGV)


@pytest.mark.timeout(120)
def test_a_worker_that_dies_is_an_error_not_a_hang():
    from ngs.simulate import _games

    jobs = [(1, i, 5, False) for i in range(4)]
    t0 = time.monotonic()
    with pytest.raises(NgsError, match="worker process died unexpectedly"):
        list(_games(jobs, workers=2, job_fn=_segfault))
    assert time.monotonic() - t0 < 60


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        out += [int(c) for c in children]
    return out


@pytest.mark.timeout(180)
def test_kill_segv_of_a_simulate_worker_fails_the_command_with_a_message(tmp_path):
    """The hang of issue 12: `kill -SEGV` of one worker of `ngs simulate` (Pool.imap waited forever)."""
    out = tmp_path / "sim"
    proc = subprocess.Popen([sys.executable, "-m", "ngs.cli", "simulate", "--games", "16", "--plays-per-game",
                             "60", "--seed", "9", "--out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        victim, deadline = None, time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and proc.poll() is None:
            for child in _children(proc.pid):
                cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                if b"spawn_main" in cmd:  # a worker, not the resource tracker
                    victim = child
                    break
            time.sleep(0.05)
        assert victim is not None, "no simulator worker seen"
        time.sleep(0.5)
        os.kill(victim, signal.SIGSEGV)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 2, stdout + stderr
    assert "worker process died unexpectedly" in stderr and "Traceback" not in stderr
    assert not list(out.glob("tracking_week_*.csv")) and not (out / "games.csv").exists()


# ---------------------------------------------------------------------------------------- ghost-eval
def _ghost_eval(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ngs.cli", "ghost-eval", *args], capture_output=True, text=True,
                          timeout=300)


def _output_file(tmp_path: Path, name: str = "output_2023_w99.csv", frames: int = 14) -> Path:
    rows = [[str(2023090700), "56", str(n), str(f), f"{30 + 0.5 * f:.2f}", f"{10 + n:.2f}"]
            for n in (1, 2) for f in range(1, frames + 1)]
    return _write_csv(tmp_path / name, ["game_id", "play_id", "nfl_id", "frame_id", "x", "y"], rows)


def test_ghost_eval_header_only_truncated_and_bad_value_are_clear(tmp_path):
    header_only = tmp_path / "output_2023_w90.csv"
    header_only.write_text("game_id,play_id,nfl_id,frame_id,x,y\n")
    truncated = _output_file(tmp_path, "output_2023_w91.csv")
    truncated.write_bytes(truncated.read_bytes()[:-12])
    bad_x = _output_file(tmp_path, "output_2023_w92.csv")
    lines = bad_x.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0] + ",abc," + lines[5].rsplit(",", 1)[1]
    bad_x.write_text("\n".join(lines) + "\n")
    cases = [(header_only, "has a header but no data rows"),
             (truncated, "(line 29): the last line does not end with a line break"),
             (bad_x, "(line 6), column 'x': 'abc' is not a number")]
    for path, what in cases:
        proc = _ghost_eval(["--tracks", str(path), "--json"])
        assert proc.returncode == 2 and proc.stdout == "", proc.stdout
        assert what in proc.stderr and str(path) in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_ghost_eval_with_no_long_enough_track_prints_valid_json(tmp_path, monkeypatch, capsys):
    from test_ghosting import _tiny_train, synthetic_tracks

    from ngs.cli import main
    from ngs.ghosting import data

    monkeypatch.setenv("NGS_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    _tiny_train(data.normalise_tracks(synthetic_tracks())).save()
    short = _output_file(tmp_path, frames=5)
    assert main(["ghost-eval", "--tracks", str(short), "--json"]) == 0
    text = capsys.readouterr().out

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    out = json.loads(text, parse_constant=refuse)  # NaN / Infinity are not JSON
    assert out["tracks"] == 0 and out["skipped"] == 2
    assert out["model"] == {"rmse": None, "ade": None, "fde": None}
    assert main(["ghost-eval", "--tracks", str(short)]) == 0
    assert "nothing to score" in capsys.readouterr().out
