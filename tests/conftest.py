"""Shared fixtures: the real Big Data Bowl samples (../shared/data) and small simulated warehouses.

Tests never touch the user's model artefacts or warehouse: NGS_ARTIFACTS_DIR points at a session temp
folder, and model training runs with quick settings (few ghosting epochs, one real training week and one
real test week), so the whole pipeline is exercised in minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="ngs-tests-"))
os.environ["NGS_ARTIFACTS_DIR"] = str(_SESSION_TMP / "artifacts")
os.environ.setdefault("NGS_GHOSTING_MAX_EPOCHS", "3")
os.environ.setdefault("DO_NOT_TRACK", "1")

from ngs.paths import SHARED_DATA  # noqa: E402  (after the environment above)

os.environ.setdefault("NGS_GHOSTING_REAL_TRACKS",
                      str(SHARED_DATA / "bdb2026" / "output_2023_w[01]1.csv"))  # weeks 1 (train) and 11 (test)


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
def full_sim_warehouse(tmp_path_factory, dbt_isolation) -> Path:
    """Two simulated games through the whole pipeline, every model trained (quick settings): what
    `make demo` builds, small. Read-only for the tests that use it."""
    from ngs.build import build

    root = tmp_path_factory.mktemp("full_sim")
    release = root / "release"
    subprocess.run(
        [sys.executable, "-m", "ngs.cli", "simulate", "--games", "2", "--seed", "3", "--out", str(release),
         "--plays-per-game", "50"],
        check=True, capture_output=True,
    )
    warehouse = root / "full.duckdb"
    build([release], warehouse, quiet=True)
    return warehouse
