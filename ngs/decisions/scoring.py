"""Adapter over ngs.completion: score feature frames with the stored completion model, rank the options.

Each row is scored by the final model of its own dataset ('real' | 'simulated'), as ngs.completion does.
Where the stored version has no model for that dataset (grouped CV needs >= 2 games, so a one-game real
warehouse trains none), the other dataset's model scores it and ``completion_model_dataset`` says so;
with no model at all the probability is NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ngs.completion import model as cm
from ngs.completion.features import FEATURE_COLUMNS
from ngs.threads import limited_threads


@dataclass
class CompletionScorer:
    version: str | None
    models: dict[str, dict[str, object]] = field(default_factory=dict)

    @classmethod
    def stored(cls, version: str | None = None) -> CompletionScorer:
        """The stored artefact (default LATEST); ArtifactMissingError says how to train one."""
        from ngs.completion import artifacts

        stored = artifacts.load(version)
        return cls(stored.version, stored.models)

    def model_dataset(self, dataset: str) -> str | None:
        if dataset in self.models:
            return dataset
        return next(iter(sorted(self.models)), None)

    def score(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(completion probability, dataset of the model that scored the row) per row of ``frame``."""
        p = np.full(len(frame), np.nan)
        used = np.full(len(frame), None, dtype=object)
        if frame.empty:
            return p, used
        datasets = frame["dataset"].astype(str).to_numpy()
        X = frame.reindex(columns=list(FEATURE_COLUMNS))  # a feature the options lack is missing (NaN)
        with limited_threads():
            for dataset in pd.unique(datasets):
                chosen = self.model_dataset(dataset)
                if chosen is None:
                    continue
                mask = datasets == dataset
                p[mask] = cm.predict_proba(self.models[chosen][cm.MODEL_NAME], cm.MODEL_SPEC, X.loc[mask])
                used[mask] = chosen
        return p, used


def rank_options(options: pd.DataFrame) -> pd.DataFrame:
    """Per pass: option_rank (1 = highest completion probability; ties by receiver id), is_best_option,
    n_options, best_completion_probability and cp_below_best (best minus this option, >= 0)."""
    out = options.copy()
    keys = ["game_id", "play_id"]
    out["_p"] = out["completion_probability"].fillna(-1.0)
    out = out.sort_values([*keys, "_p", "receiver_nfl_id"], ascending=[True, True, False, True], kind="mergesort")
    out["option_rank"] = out.groupby(keys).cumcount() + 1
    out["n_options"] = out.groupby(keys)["receiver_nfl_id"].transform("size")
    out["best_completion_probability"] = out.groupby(keys)["completion_probability"].transform("max")
    out["is_best_option"] = (out["option_rank"] == 1) & out["completion_probability"].notna()
    out["cp_below_best"] = out["best_completion_probability"] - out["completion_probability"]
    return out.drop(columns="_p").reset_index(drop=True)
