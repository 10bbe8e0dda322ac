"""Train one model on a tiny synthetic set in this (fresh) process and print a digest of everything it
produced, and the thread count it trained with, as one JSON line. Run by tests/test_determinism.py:

    python tests/determinism_child.py completion|ghosting|ghosting_v1 [PREDICTIONS.npy]

(the thread counts come from the environment the test sets; the ghosting predictions are saved to
PREDICTIONS.npy when given)
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import pandas as pd


def _digest(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, pd.DataFrame):
            h.update(part.to_csv(index=False, float_format="%.17g").encode())
        elif isinstance(part, np.ndarray):
            h.update(str(part.dtype).encode() + str(part.shape).encode() + np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


def completion() -> dict:
    import sklearn.ensemble
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    from test_completion_model import synthetic_passes

    from ngs.completion import pipeline

    seen: set[int] = set()
    fit = sklearn.ensemble.HistGradientBoostingClassifier.fit

    def watched_fit(self, *args, **kwargs):  # the OpenMP threads each boosting fit runs with
        seen.add(_openmp_effective_n_threads())
        return fit(self, *args, **kwargs)

    sklearn.ensemble.HistGradientBoostingClassifier.fit = watched_fit
    out = pipeline.train(synthetic_passes(n_games=8, per_game=20, seed=3))
    scored = pipeline.score(synthetic_passes(n_games=3, per_game=10, seed=9, first_game=2030100100),
                            out.version, out.models, out.cv_predictions)
    return {"version": out.version, "threads": sorted(seen),
            "digest": _digest(out.version, out.metrics, out.calibration, out.importance, out.cv_predictions,
                              scored),
            "log_loss": float(out.metrics.query("metric == 'log_loss'")["value"].iloc[0])}


def ghosting() -> dict:
    import torch
    from test_ghosting import synthetic_tracks
    from test_ghosting_joint import _quick_model, _with_split

    from ngs.ghosting import data, scoring

    tracks = _with_split(data.normalise_tracks(synthetic_tracks(n_plays=36, n_frames=24)))
    m = _quick_model(tracks, max_epochs=3)
    w, _ = scoring.windows_for(data.normalise_tracks(synthetic_tracks(n_plays=6, n_frames=24, seed=9)), 3, 15)
    pred = m.predict(w, 15)
    history = [h["train_mse"] for h in m.metrics["history"]]
    if len(sys.argv) > 2:
        np.save(sys.argv[2], pred)
    return {"version": m.version, "threads": [torch.get_num_threads()],
            "digest": _digest(m.version, pred, history, m.damping), "train_mse": history[-1]}


def ghosting_v1() -> dict:
    import torch
    from test_ghosting import _tiny_train, synthetic_tracks

    from ngs.ghosting import data

    m = _tiny_train(data.normalise_tracks(synthetic_tracks()))
    w, _ = data.build_windows(data.normalise_tracks(synthetic_tracks(seed=3)), 3, 10)
    pred = m.predict(w)
    if len(sys.argv) > 2:
        np.save(sys.argv[2], pred)
    return {"version": m.version, "threads": [torch.get_num_threads()], "digest": _digest(m.version, pred)}


if __name__ == "__main__":
    which = sys.argv[1]
    print(json.dumps({"completion": completion, "ghosting": ghosting, "ghosting_v1": ghosting_v1}[which]()))
