"""The package's physical constants equal the dbt project's (vars and the quality-rule seed), and the
package imports without reading the checkout (what an installed wheel needs)."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
import yaml

from ngs import constants
from ngs.paths import REPO_ROOT


def test_constants_equal_the_dbt_project_vars():
    vars_ = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    for name, value in constants.DBT_VAR_CONSTANTS.items():
        assert float(vars_[name]) == value, f"ngs/constants.py {name} = {value}, dbt_project.yml says {vars_[name]}"
    assert constants.frame_rate_hz() == float(vars_["frame_rate_hz"])
    assert constants.field_length_yd() == float(vars_["field_length_yd"])
    assert constants.field_width_yd() == float(vars_["field_width_yd"])
    assert constants.dbt_vars() == vars_


def test_speed_cap_equals_the_quality_rule_seed():
    with open(REPO_ROOT / "seeds" / "quality_rules.csv", newline="") as fh:
        rules = {r["rule"]: r for r in csv.DictReader(fh)}
    assert float(rules["implied_speed"]["threshold"]) == constants.max_player_speed_yps() == 12.5
    assert constants.quality_rules()["implied_speed"].threshold == constants.MAX_PLAYER_SPEED_YPS


def test_reading_a_project_that_is_not_there_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}/dbt_project.yml not found"):
        constants.dbt_vars(tmp_path)
    with pytest.raises(FileNotFoundError, match="quality_rules.csv not found"):
        constants.quality_rules(tmp_path)


@pytest.mark.timeout(120)
def test_package_imports_and_computes_without_opening_project_files(tmp_path):
    """Import every module of the package and use the constants with `open` watched: nothing under the
    checkout's dbt project (dbt_project.yml, seeds/, models/) is read."""
    code = f"""
import builtins, io, pkgutil, importlib, sys
root = {str(REPO_ROOT)!r}
opened = []
real_open, real_io_open = builtins.open, io.open
def watch(file, *a, **k):
    opened.append(str(file))
    return real_open(file, *a, **k)
builtins.open = io.open = watch
import ngs
for m in pkgutil.walk_packages(ngs.__path__, "ngs."):
    if m.name.startswith("ngs.superset"):
        continue  # Superset is an optional extra
    importlib.import_module(m.name)
from ngs import constants
from ngs.ghosting import closing
assert constants.frame_rate_hz() == 10.0 and constants.field_width_yd() == 53.3
bad = [p for p in opened if p.startswith(root) and any(s in p for s in ("dbt_project.yml", "/seeds/", "/models/"))]
print("OPENED", bad)
assert not bad, bad
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=110)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "OPENED []" in out.stdout


def test_build_without_the_dbt_project_says_where_it_looked(tmp_path, monkeypatch):
    """An installed wheel has the package but not the dbt project: `ngs build` says so before touching
    anything (no warehouse folder is created)."""
    from ngs import build as build_module
    from ngs.errors import BuildError

    monkeypatch.setattr(build_module, "REPO_ROOT", tmp_path / "site-packages")
    with pytest.raises(BuildError, match=r"no dbt project at .*site-packages \(dbt_project.yml is missing\)"):
        build_module.build([tmp_path / "data"], tmp_path / "wh" / "x.duckdb")
    assert not (tmp_path / "wh").exists()
    build_module.check_dbt_project(REPO_ROOT)  # the checkout has one
