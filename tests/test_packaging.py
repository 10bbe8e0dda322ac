"""pyproject.toml declares what the package imports, as ranges the lock (constraints.txt) satisfies."""

from __future__ import annotations

import ast
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ngs.paths import REPO_ROOT

PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
# import name -> distribution name, where they differ
DISTRIBUTION = {"sklearn": "scikit-learn", "yaml": "PyYAML", "dbt": "dbt-core", "superset": "apache-superset",
                "flask": "apache-superset", "sqlalchemy": "apache-superset", "flask_migrate": "apache-superset",
                "pyhive": "PyHive"}


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _declared(extra: str | None = None) -> list[Requirement]:
    reqs = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    return [Requirement(r) for r in reqs]


def test_every_declared_dependency_is_satisfied_by_the_lock():
    lock = _lock()
    for extra in (None, *PROJECT["optional-dependencies"]):
        for req in _declared(extra):
            name = canonicalize_name(req.name)
            assert name in lock, f"{req} ({extra or 'dependencies'}) is not pinned in constraints.txt"
            assert req.specifier.contains(lock[name], prereleases=True), (
                f"pyproject.toml {req} ({extra or 'dependencies'}) excludes the locked {name}=={lock[name]}")


def test_requirements_txt_pins_are_the_locks():
    lock = _lock()
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert str(req.specifier) == f"=={lock[canonicalize_name(req.name)]}", line


def _third_party_imports(folder: str) -> set[str]:
    found = set()
    for path in (REPO_ROOT / "ngs" / folder).rglob("*.py") if folder else (REPO_ROOT / "ngs").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "ngs" and top not in sys.stdlib_module_names:
                    found.add((path.relative_to(REPO_ROOT).as_posix(), top))
    return found


def test_every_import_of_the_package_is_declared():
    """A module that imports a distribution pyproject.toml does not declare works in the lock and fails
    in a plain `pip install` of the package. Superset's modules may use the `superset` extra."""
    core = {canonicalize_name(r.name) for r in _declared()}
    superset = core | {canonicalize_name(r.name) for r in _declared("superset")}
    # the optional Spark engine (requirements-spark.txt, `make venv-spark`): ngs/spark/ and ngs/superset/spark.py
    spark = superset | {canonicalize_name(Requirement(line).name)
                        for line in (REPO_ROOT / "requirements-spark.txt").read_text().splitlines()
                        if line.strip() and not line.startswith("#")}
    missing = []
    for path, top in sorted(_third_party_imports("")):
        allowed = superset if path.startswith("ngs/superset/") else core
        if path.startswith("ngs/spark/") or path == "ngs/superset/spark.py":
            allowed = spark
        if canonicalize_name(DISTRIBUTION.get(top, top)) not in allowed:
            missing.append(f"{path}: import {top}")
    assert not missing, "not declared in pyproject.toml:\n" + "\n".join(missing)


def test_the_import_scan_sees_the_core_dependencies():
    tops = {top for _, top in _third_party_imports("")}
    assert {"duckdb", "pandas", "numpy", "sklearn", "torch", "pyarrow", "yaml", "joblib", "threadpoolctl"} <= tops
