"""Anomaly injection and CSV writing (the release files, in the real files' column order)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ANOMALY_KINDS = ("duplicate", "off_field", "teleport", "speed_spike", "missing_frame")
ANOMALY_RATE = 0.0003  # share of tracking rows

PLAYS_COLUMNS = [
    "gameId", "playId", "playDescription", "quarter", "down", "yardsToGo", "possessionTeam", "defensiveTeam",
    "yardlineSide", "yardlineNumber", "gameClock", "preSnapHomeScore", "preSnapVisitorScore", "passResult",
    "penaltyYards", "prePenaltyPlayResult", "playResult", "foulName1", "foulNFLId1", "foulName2", "foulNFLId2",
    "foulName3", "foulNFLId3", "absoluteYardlineNumber", "offenseFormation", "personnelO", "defendersInBox",
    "personnelD", "dropBackType", "pff_playAction", "pff_passCoverage", "pff_passCoverageType",
]
GAMES_COLUMNS = ["gameId", "season", "week", "gameDate", "gameTimeEastern", "homeTeamAbbr", "visitorTeamAbbr"]
PLAYERS_COLUMNS = ["nflId", "height", "weight", "birthDate", "collegeName", "officialPosition", "displayName"]
SCOUTING_COLUMNS = ["gameId", "playId", "nflId", "pff_role", "pff_positionLinedUp"]
TRACKING_COLUMNS = ["gameId", "playId", "nflId", "frameId", "time", "jerseyNumber", "team", "playDirection",
                    "x", "y", "s", "a", "dis", "o", "dir", "event"]


def inject_anomalies(track: dict, rng: np.random.Generator, game_id: int) -> tuple[dict, list[dict]]:
    """Corrupt a known, small set of player rows; return the new columns and the truth list."""
    n_rows = len(track["playId"])
    n = max(len(ANOMALY_KINDS), int(round(ANOMALY_RATE * n_rows)))
    frame = track["frameId"]
    nfl = track["nflId"]
    # candidates: player rows without an event, not first/last two frames of their track
    key_prev = np.r_[-1, nfl[:-1]]
    key_next = np.r_[nfl[1:], -1]
    key_prev2 = np.r_[-1, -1, nfl[:-2]]
    key_next2 = np.r_[nfl[2:], -1, -1]
    inner = (key_prev == nfl) & (key_next == nfl) & (key_prev2 == nfl) & (key_next2 == nfl)
    cand = np.flatnonzero((nfl > 0) & (track["event"] == "") & inner & (frame > 2))
    pick = np.sort(rng.choice(cand, size=min(n, len(cand)), replace=False))
    # one anomaly per (play, player) track
    keys = track["playId"][pick] * 10**6 + nfl[pick]
    _, first = np.unique(keys, return_index=True)
    pick = np.sort(pick[first])
    kinds = [ANOMALY_KINDS[i % len(ANOMALY_KINDS)] for i in range(len(pick))]
    rng.shuffle(kinds)
    truth = []
    x, y, s = track["x"].copy(), track["y"].copy(), track["s"].copy()
    keep = np.ones(n_rows, dtype=bool)
    dup = np.zeros(n_rows, dtype=bool)
    for i, kind in zip(pick, kinds, strict=True):
        detail = ""
        if kind == "duplicate":
            dup[i] = True
        elif kind == "off_field":
            if rng.random() < 0.5:
                x[i] = round(float(rng.choice([-1, 1]) * rng.uniform(7, 10) + (0 if x[i] < 60 else 120)), 2)
                x[i] = min(x[i], -7.0) if x[i] < 60 else max(x[i], 127.0)
            else:
                y[i] = round(float(-rng.uniform(7, 10) if y[i] < 26.65 else 53.3 + rng.uniform(7, 10)), 2)
            detail = f"x={x[i]:.2f} y={y[i]:.2f}"
        elif kind == "teleport":
            jump = rng.uniform(4.0, 7.0)
            sx = -1.0 if x[i] > 60 else 1.0
            x[i] = round(float(x[i] + sx * jump), 2)
            detail = f"jump={jump:.2f}"
        elif kind == "speed_spike":
            s[i] = round(float(rng.uniform(13.0, 20.0)), 2)
            detail = f"s={s[i]:.2f}"
        elif kind == "missing_frame":
            keep[i] = False
        truth.append({"gameId": game_id, "playId": int(track["playId"][i]), "nflId": int(nfl[i]),
                      "frameId": int(frame[i]), "kind": kind, "detail": detail})
    out = dict(track)
    out["x"], out["y"], out["s"] = x, y, s
    order = np.repeat(np.arange(n_rows), np.where(dup, 2, 1))
    order = order[keep[order]]
    return {k: v[order] for k, v in out.items()}, truth


def table_csv_bytes(table: pa.Table, header: bool) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, quoting_style="none"))
    return buf.getvalue()


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v == "NA":
        return "NA"
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    if isinstance(v, float | np.floating):
        return repr(float(v))
    return str(int(v))


def write_rfc_csv(path, columns: list[str], rows: list[dict] | list[tuple]) -> None:
    """The metadata files as the real release prints them: quoted strings, bare numbers, NA for missing."""
    with open(path, "w", newline="") as fh:
        fh.write(",".join(f'"{c}"' for c in columns) + "\n")
        for r in rows:
            vals = [r[c] for c in columns] if isinstance(r, dict) else list(r)
            fh.write(",".join(_fmt(v) for v in vals) + "\n")


def write_plain_csv(path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
