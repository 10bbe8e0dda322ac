"""The Big Data Bowl file formats we accept, one spec per (vintage, entity).

A file's vintage and entity are recognised from its columns (and, where columns are ambiguous, its
name). Each spec lists required columns (an error names the file and the missing column) and optional
ones (NULL when absent, never invented), with the DuckDB type every value must cast to. Ids are read as
DOUBLE because some releases write them as "33131.0"; staging casts them to BIGINT.

Raw tables keep the files' own column names (matched case-insensitively, as DuckDB does: 2025's
`dropbackType` lands in `dropBackType`): renaming is staging's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# DuckDB types
D, B, V, INT, T, BOOL = "DOUBLE", "BIGINT", "VARCHAR", "INTEGER", "TIMESTAMP", "BOOLEAN"

# DOUBLE columns that hold whole numbers (ids written "33131.0" by some releases): like the INTEGER and
# BIGINT columns, a fraction there stops the load with the file, line and column
WHOLE_NUMBER_DOUBLES = frozenset({"nflId", "nfl_id", "jerseyNumber"})


@dataclass(frozen=True)
class FormatSpec:
    vintage: str
    entity: str
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    # decides, from the lower-cased file name and the set of column names, whether a file is this format
    matches: Callable[[str, set[str]], bool] = lambda name, cols: False
    description: str = ""

    @property
    def table(self) -> str:
        return f"{self.vintage}_{self.entity}"

    @property
    def columns(self) -> dict[str, str]:
        return {**self.required, **self.optional}


SPECS: list[FormatSpec] = [
    # ---- Big Data Bowl 2019 (2017 season) -------------------------------------------------------
    FormatSpec(
        "bdb2019", "tracking",
        required={"gameId": B, "playId": B, "frame.id": INT, "x": D, "y": D, "team": V},
        optional={"time": V, "s": D, "dis": D, "dir": D, "event": V, "nflId": D, "displayName": V,
                  "jerseyNumber": D},
        matches=lambda n, c: "frame.id" in c,
        description="tracking_gameId_*.csv: frame.id, team home/away/ball, no a/o",
    ),
    FormatSpec(
        "bdb2019", "plays",
        required={"gameId": B, "playId": B},
        optional={"quarter": INT, "GameClock": V, "down": INT, "yardsToGo": INT, "possessionTeam": V,
                  "yardlineSide": V, "yardlineNumber": INT, "offenseFormation": V, "personnel.offense": V,
                  "defendersInTheBox": INT, "numberOfPassRushers": INT, "personnel.defense": V,
                  "isPenalty": V, "isSTPlay": V, "SpecialTeamsPlayType": V, "PassLength": D,
                  "PassResult": V, "YardsAfterCatch": D, "PlayResult": D, "playDescription": V},
        matches=lambda n, c: "PassResult" in c or ("isSTPlay" in c and "playId" in c),
        description="plays.csv with PassResult",
    ),
    FormatSpec(
        "bdb2019", "games",
        required={"gameId": B, "season": INT, "week": INT, "homeTeamAbbr": V, "visitorTeamAbbr": V},
        optional={"gameDate": V, "gameTimeEastern": V, "HomeScore": INT, "VisitorScore": INT, "Stadium": V},
        matches=lambda n, c: "HomeScore" in c or "homeDisplayName" in c,
        description="games.csv with HomeScore/homeDisplayName",
    ),
    FormatSpec(
        "bdb2019", "players",
        required={"nflId": D},
        optional={"FirstName": V, "LastName": V, "PositionAbbr": V, "Height": V, "Weight": D, "College": V},
        matches=lambda n, c: "PositionAbbr" in c,
        description="players.csv with PositionAbbr",
    ),
    # ---- Big Data Bowl 2021-2025 (week*.csv / tracking_week_*.csv) -------------------------------
    FormatSpec(
        "bdb_weekly", "tracking",
        required={"gameId": B, "playId": B, "frameId": INT, "x": D, "y": D},
        optional={"nflId": D, "time": V, "jerseyNumber": D, "team": V, "club": V, "playDirection": V,
                  "s": D, "a": D, "dis": D, "o": D, "dir": D, "event": V, "displayName": V,
                  "position": V, "frameType": V},
        matches=lambda n, c: "frameId" in c and "x" in c,
        description="week*.csv / tracking_week_*.csv: frameId, team or club, playDirection, a, o",
    ),
    FormatSpec(
        "bdb_weekly", "plays",
        required={"gameId": B, "playId": B},
        optional={"playDescription": V, "quarter": INT, "down": INT, "yardsToGo": INT, "possessionTeam": V,
                  "defensiveTeam": V, "yardlineSide": V, "yardlineNumber": INT, "gameClock": V,
                  "passResult": V, "playResult": D, "yardsGained": D, "absoluteYardlineNumber": D,
                  "offenseFormation": V, "personnelO": V, "defendersInBox": D, "personnelD": V,
                  "dropBackType": V, "pff_passCoverage": V, "pff_passCoverageType": V,
                  "pff_manZone": V, "passLength": D, "targetX": D, "targetY": D},
        matches=lambda n, c: "playId" in c and "playDescription" in c and "gameId" in c
        and not c & {"frameId", "frame", "PassResult", "isSTPlay"},
        description="plays.csv (passResult, absoluteYardlineNumber, pff coverage)",
    ),
    FormatSpec(
        "bdb_weekly", "games",
        required={"gameId": B, "season": INT, "week": INT, "homeTeamAbbr": V, "visitorTeamAbbr": V},
        optional={"gameDate": V, "gameTimeEastern": V, "homeFinalScore": INT, "visitorFinalScore": INT},
        matches=lambda n, c: "homeTeamAbbr" in c and "playId" not in c
        and not c & {"HomeScore", "homeDisplayName"},
        description="games.csv",
    ),
    FormatSpec(
        "bdb_weekly", "players",
        required={"nflId": D},
        optional={"height": V, "weight": D, "birthDate": V, "collegeName": V, "officialPosition": V,
                  "position": V, "displayName": V},
        matches=lambda n, c: "nflId" in c and ("officialPosition" in c or "birthDate" in c)
        and "frameId" not in c and "playId" not in c,
        description="players.csv (officialPosition or position)",
    ),
    FormatSpec(
        "bdb_weekly", "pff_scouting",
        required={"gameId": B, "playId": B, "nflId": D, "pff_role": V},
        optional={"pff_positionLinedUp": V},
        matches=lambda n, c: "pff_role" in c,
        description="pffScoutingData.csv (2023): pff_role Pass / Pass Route / Pass Rush / Coverage",
    ),
    FormatSpec(
        "bdb_weekly", "player_play",
        required={"gameId": B, "playId": B, "nflId": D},
        optional={"teamAbbr": V, "hadPassReception": D, "wasTargettedReceiver": D},
        matches=lambda n, c: "wasTargettedReceiver" in c,
        description="player_play.csv (2025): wasTargettedReceiver",
    ),
    # ---- Big Data Bowl 2026 prediction track ---------------------------------------------------
    FormatSpec(
        "bdb2026", "tracking_input",
        required={"game_id": B, "play_id": B, "nfl_id": D, "frame_id": INT, "x": D, "y": D},
        optional={"player_to_predict": V, "play_direction": V, "absolute_yardline_number": D,
                  "player_name": V, "player_height": V, "player_weight": D, "player_birth_date": V,
                  "player_position": V, "player_side": V, "player_role": V, "s": D, "a": D, "dir": D,
                  "o": D, "num_frames_output": INT, "ball_land_x": D, "ball_land_y": D},
        matches=lambda n, c: "game_id" in c and ("player_role" in c or "ball_land_x" in c),
        description="input_2023_w*.csv: pre-throw tracking, roles, ball landing spot",
    ),
    FormatSpec(
        "bdb2026", "tracking_output",
        required={"game_id": B, "play_id": B, "nfl_id": D, "frame_id": INT, "x": D, "y": D},
        matches=lambda n, c: c == {"game_id", "play_id", "nfl_id", "frame_id", "x", "y"},
        description="output_2023_w*.csv: ball-in-air positions (frame_id restarts at 1 at the throw)",
    ),
    FormatSpec(
        "bdb2026", "supplementary",
        required={"game_id": B, "play_id": B},
        optional={"season": INT, "week": INT, "game_date": V, "home_team_abbr": V, "visitor_team_abbr": V,
                  "play_description": V, "quarter": INT, "down": INT, "yards_to_go": INT,
                  "possession_team": V, "defensive_team": V, "pass_result": V, "pass_length": D,
                  "yards_gained": D, "team_coverage_type": V, "team_coverage_man_zone": V,
                  "game_clock": V, "yardline_side": V, "yardline_number": INT, "play_nullified_by_penalty": V,
                  "offense_formation": V, "receiver_alignment": V, "route_of_targeted_receiver": V,
                  "play_action": V, "dropback_type": V, "dropback_distance": D, "pass_location_type": V,
                  "defenders_in_the_box": D},
        matches=lambda n, c: "game_id" in c and "play_description" in c,
        description="supplementary_data.csv: play and game metadata",
    ),
    # ---- NGS highlights (2017-2019), one parquet ----------------------------------------------
    FormatSpec(
        "ngs_highlights", "tracking",
        required={"gameId": B, "playId": B, "frame": INT, "x": D, "y": D},
        optional={"playType": V, "season": INT, "seasonType": V, "week": INT, "playDirection": V,
                  "quarter": INT, "down": INT, "yardsToGo": INT, "absoluteYardlineNumber": D,
                  "possessionFlag": D, "homeTeamFlag": D, "teamAbbr": V, "displayName": V,
                  "jerseyNumber": D, "nflId": D, "position": V, "positionGroup": V, "time": T,
                  "s": D, "o": D, "dir": D, "event": V, "playDescription": V},
        matches=lambda n, c: "possessionFlag" in c and "frame" in c,
        description="highlights.parquet: NGS highlight plays, all 22 players and the ball",
    ),
]

VINTAGES = sorted({s.vintage for s in SPECS})


def spec_for(vintage: str, entity: str) -> FormatSpec:
    for s in SPECS:
        if s.vintage == vintage and s.entity == entity:
            return s
    raise KeyError((vintage, entity))
