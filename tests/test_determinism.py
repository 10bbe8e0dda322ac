"""Training is reproducible across processes and thread counts: each model trains on a tiny synthetic set
in fresh interpreters (spawned, never forked from this one, which may hold torch/OpenMP threads), with 1 and
2 threads, and what they produce (version, metrics, predictions) is compared.

Measured on this machine: the completion model (HistGradientBoosting) and both ghosting models are bitwise
identical across processes at one thread count; the completion model also across 1 and 2 threads; the joint
ghosting model's predictions differ by at most 6e-8 yd between 1 and 2 torch threads (float32 sums in
another order), so across thread counts it is compared with a 1e-6 yd tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CHILD = Path(__file__).with_name("determinism_child.py")
pytestmark = pytest.mark.slow


def _train(which: str, threads: int, tmp_path: Path, run: str) -> tuple[dict, Path]:
    preds = tmp_path / f"{which}-{threads}-{run}.npy"
    env = {**os.environ, "NGS_ARTIFACTS_DIR": str(tmp_path / "artifacts"),
           # the one thread cap every model reads (ngs.threads: torch and OpenMP/BLAS)
           "NGS_MODEL_THREADS": str(threads),
           # idle OpenMP threads sleep instead of spinning: 2 spinning threads on a busy 2-core machine made
           # one completion fit 10x slower (679 s against 46 s, measured)
           "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run([sys.executable, str(CHILD), which, str(preds)], env=env, cwd=CHILD.parent,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1]), preds


@pytest.mark.timeout(1200)
def test_completion_model_is_identical_across_processes_and_thread_counts(tmp_path):
    one, _ = _train("completion", 1, tmp_path, "a")
    two, _ = _train("completion", 2, tmp_path, "b")
    assert one["threads"] == [1] and two["threads"] == [2], "the thread cap did not reach the boosting fits"
    assert one["version"] == two["version"] and one["version"].startswith("cp-v1-")
    assert one["digest"] == two["digest"], "metrics, CV predictions, importance or scores differ"


@pytest.mark.timeout(900)
def test_joint_ghosting_model_is_identical_across_processes_and_close_across_thread_counts(tmp_path):
    a, pa = _train("ghosting", 1, tmp_path, "a")
    b, pb = _train("ghosting", 1, tmp_path, "b")
    c, pc = _train("ghosting", 2, tmp_path, "c")
    assert a["threads"] == b["threads"] == [1] and c["threads"] == [2], "NGS_MODEL_THREADS was not applied"
    assert a["version"] == b["version"] == c["version"] and a["version"].startswith("ghost-v2-")
    assert a["digest"] == b["digest"], "two processes with one thread trained different models"
    p1, p2 = np.load(pa), np.load(pc)
    assert p1.shape == (24, 15, 2) and np.isfinite(p1).all()
    np.testing.assert_array_equal(p1, np.load(pb))
    np.testing.assert_allclose(p2, p1, rtol=0, atol=1e-6)


@pytest.mark.timeout(600)
def test_ghosting_v1_model_is_identical_across_processes(tmp_path):
    """The v1 network pins its own thread count (2, ngs.ghosting.model.set_determinism)."""
    a, pa = _train("ghosting_v1", 1, tmp_path, "a")
    b, pb = _train("ghosting_v1", 1, tmp_path, "b")
    assert a["version"] == b["version"] and a["version"].startswith("ghost-v1-")
    assert a["digest"] == b["digest"]
    np.testing.assert_array_equal(np.load(pa), np.load(pb))
