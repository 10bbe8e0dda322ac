"""Store and load a trained completion model: ``<artifacts>/completion/<version>/`` (git-ignored), kept by
the shared artefact store (ngs.artifacts: atomic write, explicit LATEST).

Layout of one version: `models.joblib` (final calibrated estimators per dataset), `metadata.json`,
`metrics.csv`, `calibration.csv`, `feature_importance.csv`, `cv_predictions.parquet`. The file
`<artifacts>/completion/LATEST` names the version most recently trained.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import pandas as pd
import sklearn

from ngs.artifacts import ArtifactStore
from ngs.completion.pipeline import TrainingOutput

FILES = ("models.joblib", "metadata.json", "metrics.csv", "calibration.csv", "feature_importance.csv",
         "cv_predictions.parquet")


def store(root: Path | None = None) -> ArtifactStore:
    """The completion store: ``root`` if given, else ``$NGS_ARTIFACTS_DIR/completion`` (read per call)."""
    return ArtifactStore("completion", FILES, root=root)


@dataclass
class StoredModel:
    version: str
    path: Path
    models: dict[str, dict[str, object]]
    metadata: dict
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    importance: pd.DataFrame
    cv_predictions: pd.DataFrame


def save(output: TrainingOutput, root: Path | None = None, update_latest: bool = True) -> Path:
    """Write the version folder atomically and point LATEST at it (``update_latest``)."""

    def write(folder: Path) -> None:
        joblib.dump(output.models, folder / "models.joblib")
        output.metrics.to_csv(folder / "metrics.csv", index=False)
        output.calibration.to_csv(folder / "calibration.csv", index=False)
        output.importance.to_csv(folder / "feature_importance.csv", index=False)
        output.cv_predictions.to_parquet(folder / "cv_predictions.parquet", index=False)
        (folder / "metadata.json").write_text(json.dumps(output.metadata, indent=2, sort_keys=True) + "\n")

    # A version is a hash of the data, code parameters and scikit-learn version, and training is
    # deterministic: an existing complete folder already holds exactly this model (the store keeps it).
    return store(root).write(output.version, write, update_latest=update_latest)


def resolve_version(version: str | None = None, root: Path | None = None) -> str:
    """The version asked for, else the one named in LATEST; ArtifactMissingError if neither exists."""
    return store(root).resolve(version).name


def load(version: str | None = None, root: Path | None = None) -> StoredModel:
    """Load a stored version (default: LATEST). Raises ArtifactMissingError saying how to train."""
    path = store(root).resolve(version)
    version = path.name
    metadata = json.loads((path / "metadata.json").read_text())
    if metadata.get("sklearn_version") != sklearn.__version__:
        warnings.warn(f"completion model {version} was trained with scikit-learn {metadata.get('sklearn_version')},"
                      f" this is {sklearn.__version__}: retrain with `ngs build --data DIR`", stacklevel=2)
    return StoredModel(
        version=version, path=path, models=joblib.load(path / "models.joblib"), metadata=metadata,
        metrics=pd.read_csv(path / "metrics.csv"),
        calibration=pd.read_csv(path / "calibration.csv"),
        importance=pd.read_csv(path / "feature_importance.csv"),
        cv_predictions=pd.read_parquet(path / "cv_predictions.parquet"),
    )
