"""Compare the toy project's tables built on two engines: same keys, same columns, values within a tolerance
(lists and structs compared element by element)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _missing(value) -> bool:
    """None, NaN, NaT, pd.NA (scalars only)."""
    try:
        return bool(pd.isna(value)) if not isinstance(value, list | tuple | dict) else False
    except (TypeError, ValueError):
        return False


def _close(a, b, tol: float) -> bool:
    if isinstance(a, np.ndarray):
        a = a.tolist()
    if isinstance(b, np.ndarray):
        b = b.tolist()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b, strict=True))
    a_missing = _missing(a)
    b_missing = _missing(b)
    if a_missing or b_missing:
        return a_missing and b_missing
    if isinstance(a, bool | np.bool_) or isinstance(b, bool | np.bool_):
        return bool(a) == bool(b)
    if isinstance(a, int | float | np.number) and isinstance(b, int | float | np.number):
        return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(a)))
    return a == b


def differences(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame], tol: float = 1e-6,
                limit: int = 5) -> list[str]:
    """Human-readable differences between two {table: frame} builds; [] when they agree."""
    out = []
    for table in sorted(set(left) | set(right)):
        if table not in left or table not in right:
            out.append(f"{table}: only in {'left' if table in left else 'right'}")
            continue
        a, b = left[table], right[table]
        if sorted(a.columns) != sorted(b.columns):
            out.append(f"{table}: columns differ: {sorted(a.columns)} vs {sorted(b.columns)}")
            continue
        if len(a) != len(b):
            out.append(f"{table}: {len(a)} rows vs {len(b)}")
            continue
        bad = 0
        for column in a.columns:
            for i, (x, y) in enumerate(zip(a[column].tolist(), b[column].tolist(), strict=True)):
                if not _close(x, y, tol):
                    bad += 1
                    if bad <= limit:
                        out.append(f"{table}.{column} row {i}: {x!r} vs {y!r}")
        if bad > limit:
            out.append(f"{table}: {bad - limit} more differing values")
    return out
