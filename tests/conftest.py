"""Shared fixtures: the real Big Data Bowl samples (../shared/data) and small simulated warehouses.

Tests never touch the user's model artefacts or warehouse: NGS_ARTIFACTS_DIR points at a session temp
folder, and model training runs with quick settings (few ghosting epochs), so the whole pipeline is
exercised in minutes. Real tracks reach the models only as they reach a user's: through `ngs build --data`
(real_ghosting_warehouse loads two BDB 2026 weeks: 1 trains, 11 is held out).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from filelock import FileLock

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="ngs-tests-"))
os.environ["NGS_ARTIFACTS_DIR"] = str(_SESSION_TMP / "artifacts")
os.environ.setdefault("NGS_GHOSTING_MAX_EPOCHS", "3")
os.environ.setdefault("DO_NOT_TRACK", "1")

from ngs.paths import REPO_ROOT  # noqa: E402  (after the environment above)

# The real samples live beside the checkout, never in it; only tests and command-line arguments name them.
SHARED_DATA = Path(os.environ.get("NGS_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
# the two BDB 2026 weeks the quick ghosting build loads: one to train on, one held out (>= ghosting_test_from_week)
REAL_GHOSTING_FILES = ("output_2023_w01.csv", "output_2023_w11.csv", "supplementary_data.csv")


def require_shared_data(*parts: str) -> Path:
    """Path under ../shared/data; in CI a missing file fails the test, elsewhere it skips."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        msg = f"real NFL data not found at {path} (see ../shared/data/README.md)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def dbt_isolation(tmp_path_factory) -> Path:
    """dbt writes target/ and logs/ under a temp folder during tests, never into the checkout."""
    root = tmp_path_factory.mktemp("dbt")
    os.environ["NGS_DBT_TARGET_PATH"] = str(root / "target")
    os.environ["DBT_LOG_PATH"] = str(root / "logs")
    os.environ["NGS_DUCKDB_TMP"] = str(root / "duckdb_tmp")
    return root


@pytest.fixture(scope="session")
def full_sim_warehouse(tmp_path_factory, dbt_isolation, worker_id) -> Path:
    """Two simulated games through the whole pipeline, every model trained (quick settings): what
    `make demo` builds, small. Read-only for the tests that use it. Under pytest-xdist it is built once per
    run, by the first worker that asks, in the run's shared temp folder (the others wait on the lock); a
    finished build is the file itself (a build writes its warehouse last, verified)."""
    if worker_id == "master":
        return _build_full_sim(tmp_path_factory.mktemp("full_sim"))
    root = tmp_path_factory.getbasetemp().parent / "full_sim"
    with FileLock(f"{root}.lock", timeout=1500):
        if not (root / "full.duckdb").exists():
            shutil.rmtree(root, ignore_errors=True)  # a worker that died half-way
            root.mkdir()
            _build_full_sim(root)
    return root / "full.duckdb"


def _build_full_sim(root: Path) -> Path:
    from ngs.build import build

    release = root / "release"
    subprocess.run(
        [sys.executable, "-m", "ngs.cli", "simulate", "--games", "2", "--seed", "3", "--out", str(release),
         "--plays-per-game", "50"],
        check=True, capture_output=True,
    )
    warehouse = root / "full.duckdb"
    build([release], warehouse, quiet=True)
    return warehouse


class EnvVars:
    """Set environment variables for a fixture and restore them afterwards."""

    def __init__(self, **values: str) -> None:
        self.values, self.saved = values, {k: os.environ.get(k) for k in values}

    def __enter__(self) -> None:
        os.environ.update(self.values)

    def __exit__(self, *exc) -> None:
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="session")
def real_ghosting_artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("real_ghosting_artifacts")


@pytest.fixture(scope="session")
def real_ghosting_warehouse(tmp_path_factory, dbt_isolation, real_ghosting_artifacts) -> Path:
    """BDB 2026 weeks 1 and 11 (symlinks to ../shared/data) through `ngs build --data`, the ghosting models
    trained with quick settings into their own artefact folder: the ghosting models see real tracks only as
    warehouse tables. Read-only for the tests that use it."""
    from ngs.build import build

    folder = tmp_path_factory.mktemp("bdb2026_two_weeks")
    for name in REAL_GHOSTING_FILES:
        src = require_shared_data("bdb2026", name)
        (folder / name).symlink_to(src)
    warehouse = tmp_path_factory.mktemp("real_ghosting") / "real.duckdb"
    with EnvVars(NGS_ARTIFACTS_DIR=str(real_ghosting_artifacts)):
        # the ghosting models and what they read; tests whose parents are all built (cautious selection)
        build([folder], warehouse, quiet=True, select="+path:python_models/ghosting +path:models/marts/ghosting",
              dbt_args=["--indirect-selection", "cautious"])
    return warehouse


def pytest_configure(config) -> None:
    # registered here, not in pyproject.toml, while the Spark engine is groundwork (docs/scale-out.md)
    config.addinivalue_line("markers", "spark: starts a local Spark cluster (needs requirements-spark.txt and Java 17+)")


# The slowest modules first (measured in CI: `--durations`), so that `make test`'s workers (pytest-xdist,
# one module per worker at a time: `--dist loadfile --no-loadscope-reorder`) do not end on a long tail.
SLOWEST_FIRST = ("test_spark.py", "test_append.py", "test_bdb2026.py", "test_bench.py", "test_completion_warehouse.py",
                 "test_dashboards_browser.py", "test_ghosting.py", "test_build.py", "test_completion_model.py",
                 "test_decisions_warehouse.py", "test_determinism.py", "test_faults_build.py")


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order within a module kept
