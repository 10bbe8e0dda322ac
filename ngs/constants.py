"""Physical constants shared by the package's pure functions (frame rate, field size, speed cap).

The dbt project defines them once: `frame_rate_hz`, `field_length_yd`, `field_width_yd` are vars in
dbt_project.yml, the speed cap is the `implied_speed` threshold in seeds/quality_rules.csv. The package
carries their values here so that it imports and runs from an installed wheel, without the checkout;
tests/test_constants.py fails when a value here and the dbt project's disagree.

Model settings (held-out weeks, epochs, thresholds) are not constants: they come from the dbt model's
config (`dbt_vars(project_dir)` reads them from a dbt project, on request, never at import).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

FRAME_RATE_HZ = 10.0          # dbt var frame_rate_hz
FIELD_LENGTH_YD = 120.0       # dbt var field_length_yd
FIELD_WIDTH_YD = 53.3         # dbt var field_width_yd
MAX_PLAYER_SPEED_YPS = 12.5   # seeds/quality_rules.csv: implied_speed threshold

# the dbt var behind each constant above (tests/test_constants.py compares them)
DBT_VAR_CONSTANTS = {"frame_rate_hz": FRAME_RATE_HZ, "field_length_yd": FIELD_LENGTH_YD,
                     "field_width_yd": FIELD_WIDTH_YD}


def max_player_speed_yps() -> float:
    return MAX_PLAYER_SPEED_YPS


def frame_rate_hz() -> float:
    return FRAME_RATE_HZ


def field_length_yd() -> float:
    return FIELD_LENGTH_YD


def field_width_yd() -> float:
    return FIELD_WIDTH_YD


# ------------------------------------------------------------------- read from a dbt project, on request
def _project_dir(project_dir: str | Path | None) -> Path:
    if project_dir is not None:
        return Path(project_dir)
    from ngs.paths import REPO_ROOT

    return REPO_ROOT


@dataclass(frozen=True)
class QualityRule:
    rule: str
    priority: int
    threshold: float | None
    min_threshold: float | None
    unit: str
    applies_to: str
    action: str
    description: str


@cache
def quality_rules(project_dir: str | Path | None = None) -> dict[str, QualityRule]:
    """The dbt project's seeds/quality_rules.csv (the checkout's unless `project_dir` is given)."""
    path = _project_dir(project_dir) / "seeds" / "quality_rules.csv"
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: quality_rules() reads a dbt project's seeds; "
                                "pass the project directory") from None
    return {
        r["rule"]: QualityRule(
            rule=r["rule"],
            priority=int(r["priority"]),
            threshold=float(r["threshold"]) if r["threshold"] else None,
            min_threshold=float(r["min_threshold"]) if r.get("min_threshold") else None,
            unit=r["unit"],
            applies_to=r["applies_to"],
            action=r["action"],
            description=r["description"],
        )
        for r in rows
    }


@cache
def dbt_vars(project_dir: str | Path | None = None) -> dict:
    """The vars of a dbt project's dbt_project.yml (the checkout's unless `project_dir` is given)."""
    path = _project_dir(project_dir) / "dbt_project.yml"
    try:
        with open(path) as fh:
            return dict(yaml.safe_load(fh).get("vars", {}))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: dbt_vars() reads a dbt project; pass the project "
                                "directory, or give the value in the model's config") from None
