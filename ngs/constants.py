"""Constants shared by Python code, read from the same files dbt uses (never repeated as literals)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ngs.paths import REPO_ROOT, SEEDS_DIR


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
def quality_rules() -> dict[str, QualityRule]:
    with open(SEEDS_DIR / "quality_rules.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
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
def dbt_vars() -> dict:
    with open(Path(REPO_ROOT) / "dbt_project.yml") as fh:
        return dict(yaml.safe_load(fh).get("vars", {}))


def max_player_speed_yps() -> float:
    return float(quality_rules()["implied_speed"].threshold)


def frame_rate_hz() -> float:
    return float(dbt_vars()["frame_rate_hz"])


def field_length_yd() -> float:
    return float(dbt_vars()["field_length_yd"])


def field_width_yd() -> float:
    return float(dbt_vars()["field_width_yd"])
