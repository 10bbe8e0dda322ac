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


# a path into the real samples beside the checkout: ../shared, shared/data, the tests' SHARED_DATA name, or
# a "shared" path component
_SHARED_PATH = re.compile(r"""\.\./shared|shared[/\\]data|SHARED_DATA|["']shared["']""")


def test_no_model_or_package_file_reaches_into_shared_data():
    """One pipe: every model, SQL or Python, reads only the warehouse tables `ngs build --data` loaded; no
    var, default, macro or package code names the real samples beside the checkout (only tests and
    command-line arguments do)."""
    paths = [REPO_ROOT / "dbt_project.yml"]
    for folder in ("models", "python_models", "macros", "ngs"):
        paths += [p for p in sorted((REPO_ROOT / folder).rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    assert len(paths) > 50
    hits = []
    for path in paths:
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        hits += [f"{path.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
                 for n, line in enumerate(text.splitlines(), start=1) if _SHARED_PATH.search(line)]
    assert not hits, "\n".join(hits)
    # the ghosting and decisions models are dbt Python models that read refs only
    for path in sorted((REPO_ROOT / "python_models").glob("*/*.py")):
        text = path.read_text()
        assert not re.search(r"read_csv|glob|open\(|Path\(", text), path
    vars_ = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text())["vars"]
    assert not [k for k, v in vars_.items() if isinstance(v, str) and re.search(r"[*/\\]|\.csv", v)], vars_
