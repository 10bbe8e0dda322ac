"""The fictional league: 32 clubs, their rosters (players.csv) and the schedule (games.csv).

Everything here depends on the base seed only, never on the number of games asked for, so a run of
N games is a prefix of a run of N + k games.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

SEASON = 2030  # fictional: never collides with real Big Data Bowl seasons
GAMES_PER_WEEK = 16
N_WEEKS = 18
FIRST_SUNDAY = dt.date(2030, 9, 8)
NFL_ID_BASE = 90000  # real nflIds stay far below this

CLUBS = [
    "ARI", "ATL", "BAL", "BUF", "CAR", "CHI", "CIN", "CLE", "DAL", "DEN", "DET", "GB", "HOU", "IND",
    "JAX", "KC", "LA", "LAC", "LV", "MIA", "MIN", "NE", "NO", "NYG", "NYJ", "PHI", "PIT", "SEA", "SF",
    "TB", "TEN", "WAS",
]

# (officialPosition, count, height range in, weight range lb, jersey numbers)
ROSTER_SPEC = [
    ("QB", 2, (73, 78), (210, 240), range(1, 20)),
    ("RB", 3, (68, 73), (195, 230), range(20, 40)),
    ("FB", 1, (71, 74), (235, 255), range(40, 50)),
    ("WR", 6, (69, 77), (175, 225), range(10, 20)),
    ("TE", 3, (75, 79), (240, 265), range(80, 90)),
    ("T", 3, (76, 80), (305, 335), range(60, 80)),
    ("G", 3, (75, 78), (305, 335), range(60, 80)),
    ("C", 2, (74, 77), (295, 320), range(50, 80)),
    ("DE", 3, (75, 79), (255, 285), range(90, 100)),
    ("DT", 3, (74, 78), (295, 330), range(90, 100)),
    ("NT", 1, (73, 76), (320, 345), range(90, 100)),
    ("OLB", 3, (74, 77), (240, 260), range(40, 60)),
    ("ILB", 2, (72, 76), (230, 250), range(40, 60)),
    ("MLB", 1, (72, 75), (235, 250), range(40, 60)),
    ("CB", 6, (69, 74), (180, 200), range(20, 40)),
    ("FS", 2, (70, 74), (195, 210), range(20, 40)),
    ("SS", 2, (70, 74), (200, 215), range(20, 40)),
]

FIRST = ["A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "T", "W"]
FIRST_NAMES = ["Aaron", "Blake", "Cole", "Devin", "Eli", "Frank", "Grant", "Hunter", "Jalen", "Kyle",
               "Logan", "Marcus", "Nate", "Parker", "Reed", "Sam", "Trent", "Wade"]
LAST_NAMES = ["Adler", "Barrow", "Castro", "Dunmore", "Ellery", "Fairchild", "Garvey", "Holloway",
              "Ingram", "Jessup", "Kessler", "Lomax", "Marlow", "Norcross", "Ortega", "Pruitt",
              "Quinlan", "Redding", "Sterling", "Thackery", "Upton", "Vance", "Whitlock", "Yardley"]
COLLEGES = ["Alabama", "Ohio State", "Georgia", "LSU", "Clemson", "Oregon", "Michigan", "Texas",
            "USC", "Florida", "Penn State", "Iowa", "Utah", "Stanford", "Wisconsin", "Miami"]


@dataclass(frozen=True)
class Roster:
    """A club's players as plain arrays (fast to sample from in the per-play set-up)."""
    nflId: np.ndarray
    officialPosition: np.ndarray
    skill: np.ndarray
    by_pos: dict

    @classmethod
    def of(cls, df: pd.DataFrame) -> Roster:
        pos = df.officialPosition.to_numpy()
        return cls(df.nflId.to_numpy(), pos, df.skill.to_numpy(),
                   {p: np.flatnonzero(pos == p) for p in np.unique(pos)})

    def rows(self, positions) -> np.ndarray:
        return np.concatenate([self.by_pos.get(p, np.empty(0, dtype=int)) for p in positions])


@dataclass(frozen=True)
class League:
    players: pd.DataFrame           # players.csv columns plus club, jersey, speed
    rosters: dict[str, Roster]      # club -> its players


def make_league(seed: int) -> League:
    rng = np.random.default_rng([seed, 7_000_001])
    rows = []
    for ci, club in enumerate(CLUBS):
        k = 0
        used: set[int] = set()
        for pos, n, (h0, h1), (w0, w1), numbers in ROSTER_SPEC:
            for _ in range(n):
                free = [j for j in numbers if j not in used]
                jersey = int(rng.choice(free))
                used.add(jersey)
                first = FIRST_NAMES[rng.integers(len(FIRST_NAMES))]
                last = LAST_NAMES[rng.integers(len(LAST_NAMES))]
                birth = dt.date(2000, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 9)))
                rows.append({
                    "nflId": NFL_ID_BASE + ci * 100 + k,
                    "height": f"{(h := int(rng.integers(h0, h1 + 1))) // 12}-{h % 12}",
                    "weight": int(rng.integers(w0, w1 + 1)),
                    "birthDate": birth.isoformat(),
                    "collegeName": COLLEGES[rng.integers(len(COLLEGES))],
                    "officialPosition": pos,
                    "displayName": f"{first} {last}",
                    "club": club,
                    "jersey": jersey,
                    # individual athletic quality: scales top speed and acceleration (+-6 %)
                    "skill": float(np.clip(rng.normal(1.0, 0.03), 0.92, 1.08)),
                })
                k += 1
    players = pd.DataFrame(rows)
    return League(players=players, rosters={c: Roster.of(g.reset_index(drop=True)) for c, g in players.groupby("club")})


def short_name(display_name: str) -> str:
    first, last = display_name.split(" ", 1)
    return f"{first[0]}.{last}"


def game_slot(seed: int, index: int) -> dict:
    """Game number `index` (0-based) of the schedule: week, date, time, clubs, gameId."""
    week = min(index // GAMES_PER_WEEK + 1, N_WEEKS)
    k = index - (week - 1) * GAMES_PER_WEEK
    rng = np.random.default_rng([seed, 8_000_000 + week])
    order = rng.permutation(len(CLUBS))
    pair = k % (len(CLUBS) // 2)
    home, visitor = CLUBS[order[2 * pair]], CLUBS[order[2 * pair + 1]]
    sunday = FIRST_SUNDAY + dt.timedelta(weeks=week - 1)
    if k == 0:
        day, kick, same_day = sunday - dt.timedelta(days=3), "20:20:00", 0
    elif k == GAMES_PER_WEEK - 1:
        day, kick, same_day = sunday + dt.timedelta(days=1), "20:15:00", 0
    else:
        day = sunday
        kick = "13:00:00" if k <= 9 else ("16:25:00" if k <= 13 else "20:20:00")
        same_day = k - 1
    game_id = int(day.strftime("%Y%m%d")) * 100 + same_day
    return {
        "gameId": game_id, "season": SEASON, "week": week, "gameDate": day.strftime("%m/%d/%Y"),
        "gameTimeEastern": kick, "homeTeamAbbr": home, "visitorTeamAbbr": visitor, "index": index,
    }
