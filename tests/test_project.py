"""Static checks of the dbt project that no build would catch."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ngs.paths import REPO_ROOT

DBT_CONFIGS = {"tags", "materialized", "schema", "alias", "database", "enabled", "contract", "docs",
               "packages", "meta", "grants", "persist_docs", "full_refresh", "unique_key", "group", "access"}


def _python_model_configs():
    for yml in sorted((REPO_ROOT / "python_models").glob("*/_*.yml")):
        for node in yaml.safe_load(yml.read_text()).get("models", []):
            keys = set(node.get("config", {})) - DBT_CONFIGS
            yield yml.parent / f"{node['name']}.py", keys


def test_python_models_read_every_config_key_they_are_given():
    """dbt hands a Python model only the config keys its own file reads with dbt.config.get("key") (it scans
    the file); a key read only in the ngs package silently falls back to the default."""
    checked = 0
    for path, keys in _python_model_configs():
        read = set(re.findall(r"""dbt\.config\.get\(\s*["']([^"']+)["']""", Path(path).read_text()))
        assert keys <= read, f"{path.relative_to(REPO_ROOT)} does not read {sorted(keys - read)}"
        checked += len(keys)
    assert checked > 0
