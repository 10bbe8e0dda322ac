"""``ngs ghost-eval``: score the stored ghosting model and every physics baseline on BDB 2026 output-format
tracks. Each track's first ``observed`` frames are observed, the next ``horizon`` frames are the truth
(``--horizon arrival``: every remaining frame until the ball arrives); shorter tracks are skipped and
counted. Every track long enough is scored (teleports included); the scoring is ``scoring.score_tracks``.
With no track long enough the metrics are null (JSON ``null``, never NaN) and the text output says so.
"""

from __future__ import annotations

import json
import math

from ngs.ghosting import data
from ngs.ghosting.model import GhostModel, load
from ngs.ghosting.scoring import score_tracks


def evaluate_tracks(tracks, model: GhostModel, observed: int, horizon: int | str) -> dict:
    return _no_nan(score_tracks(tracks, model, observed, horizon))


def _no_nan(value):
    """NaN (a metric over no tracks) as None, so the JSON is valid (``null``)."""
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_nan(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def cli_main(args) -> int:
    tracks = data.read_output_tracks(args.tracks)  # a bad file fails here, before torch is loaded
    import torch

    torch.set_num_threads(2)
    horizon = args.horizon
    model = load(history=args.observed, horizon=None if horizon == "arrival" else horizon)
    res = evaluate_tracks(tracks, model, args.observed, horizon)
    if args.json:
        print(json.dumps(res, allow_nan=False))
    else:
        need = args.observed + (1 if horizon == "arrival" else horizon)
        print(f"{res['tracks']} tracks scored, {res['skipped']} skipped (fewer than {need} frames); "
              f"horizon {horizon}; model {res['model_version']}")
        if not res["tracks"]:
            print("  nothing to score: no track is long enough")
            return 0
        names = ["model"] + [k for k in res["per_horizon"] if k not in ("model", "n_tracks")]
        for name in names:
            r = res[name]
            best = "  (best baseline)" if name == res["best_baseline"] else ""
            print(f"  {name:30s} RMSE {r['rmse']:.4f}  ADE {r['ade']:.4f}  FDE {r['fde']:.4f} yd{best}")
    return 0
