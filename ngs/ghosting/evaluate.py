"""``ngs ghost-eval``: score the stored ghosting model and both physics baselines on BDB 2026 output-format
tracks. Each track's first ``observed`` frames are observed, the next ``horizon`` frames are the truth;
shorter tracks are skipped and counted. Every track long enough is scored (teleports included). With no
track long enough the metrics are null (JSON ``null``, never NaN) and the text output says so.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ngs.ghosting import data
from ngs.ghosting.baselines import constant_acceleration, constant_velocity, errors
from ngs.ghosting.model import GhostModel, load


def evaluate_tracks(tracks, model: GhostModel, observed: int, horizon: int) -> dict:
    tracks = data.apply_roles(tracks, model.roles) if model.roles is not None else tracks
    w, skipped = data.build_windows(tracks, observed, horizon, starts="first")
    preds = {
        "model": model.predict(w) if len(w) else np.zeros((0, horizon, 2)),
        "constant_velocity": constant_velocity(w.obs, horizon),
        "constant_acceleration": constant_acceleration(w.obs, horizon),
    }
    out: dict = {"tracks": len(w), "skipped": int(skipped), "observed": observed, "horizon": horizon,
                 "model_version": model.version}
    per_step = {}
    for name, p in preds.items():
        e = errors(p, w.fut)
        out[name] = {"rmse": e["rmse"], "ade": e["ade"], "fde": e["fde"]}
        per_step[name] = {"rmse": e["rmse_by_step"], "ade": e["ade_by_step"]}
    out["per_horizon"] = per_step
    out["teleport_tracks"] = int(w.key["teleport"].sum()) if len(w) else 0
    return _no_nan(out)


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
    model = load(history=args.observed, horizon=args.horizon)
    res = evaluate_tracks(tracks, model, args.observed, args.horizon)
    if args.json:
        print(json.dumps(res, allow_nan=False))
    else:
        print(f"{res['tracks']} tracks scored, {res['skipped']} skipped (fewer than "
              f"{args.observed + args.horizon} frames); model {res['model_version']}")
        if not res["tracks"]:
            print("  nothing to score: no track is long enough")
            return 0
        for name in ("model", "constant_velocity", "constant_acceleration"):
            r = res[name]
            print(f"  {name:22s} RMSE {r['rmse']:.4f}  ADE {r['ade']:.4f}  FDE {r['fde']:.4f} yd")
    return 0
