"""Where things live. Every path is relative to the repository root unless an env var overrides it."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_DIR = REPO_ROOT / "warehouse"
DEFAULT_WAREHOUSE = Path(os.environ.get("NGS_WAREHOUSE_PATH", WAREHOUSE_DIR / "ngs.duckdb"))
DEMO_DATA_DIR = REPO_ROOT / "data" / "demo"
SEEDS_DIR = REPO_ROOT / "seeds"
