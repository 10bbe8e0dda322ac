"""Shared fixtures: the real Big Data Bowl samples (../shared/data) and small simulated releases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ngs.paths import SHARED_DATA


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
