"""Store and load a trained completion model: artifacts/completion/<version>/ (git-ignored).

Layout of one version: `models.joblib` (final calibrated estimators per dataset), `metadata.json`,
`metrics.csv`, `calibration.csv`, `feature_importance.csv`, `cv_predictions.parquet`. The file
`artifacts/completion/LATEST` names the version most recently trained.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import pandas as pd
import sklearn

from ngs.completion.pipeline import TrainingOutput
from ngs.errors import ArtifactMissingError
from ngs.paths import ARTIFACTS_DIR

DEFAULT_ROOT = ARTIFACTS_DIR / "completion"
LATEST = "LATEST"
HOW_TO_TRAIN = (
    "train one with `ngs build --data DIR` (or `dbt build` including the model tagged 'train'); "
    "`ngs build --no-train` and `dbt build --exclude tag:train` only score with a stored model"
)


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


def save(output: TrainingOutput, root: Path = DEFAULT_ROOT, update_latest: bool = True) -> Path:
    """Write the version folder atomically (temp folder, then rename) and point LATEST at it."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / output.version
    # A version is a hash of the data, code parameters and scikit-learn version, and training is
    # deterministic: an existing complete folder already holds exactly this model. Keep it.
    if not (target / "metadata.json").is_file():
        tmp = Path(tempfile.mkdtemp(prefix=f".{output.version}.", dir=root))
        try:
            joblib.dump(output.models, tmp / "models.joblib")
            output.metrics.to_csv(tmp / "metrics.csv", index=False)
            output.calibration.to_csv(tmp / "calibration.csv", index=False)
            output.importance.to_csv(tmp / "feature_importance.csv", index=False)
            output.cv_predictions.to_parquet(tmp / "cv_predictions.parquet", index=False)
            (tmp / "metadata.json").write_text(json.dumps(output.metadata, indent=2, sort_keys=True) + "\n")
            if target.exists():  # an incomplete folder left by a crash
                shutil.rmtree(target)
            try:
                os.replace(tmp, target)
            except OSError:
                if not (target / "metadata.json").is_file():  # not a concurrent writer of the same version
                    raise
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    if update_latest:
        latest_tmp = root / f".{LATEST}.{os.getpid()}.tmp"
        latest_tmp.write_text(output.version + "\n")
        os.replace(latest_tmp, root / LATEST)
    return target


def resolve_version(version: str | None = None, root: Path = DEFAULT_ROOT) -> str:
    """The version asked for, else the one named in LATEST; ArtifactMissingError if neither exists."""
    root = Path(root)
    if version:
        if not (root / version / "models.joblib").is_file():
            raise ArtifactMissingError(f"completion model version {version!r} is not stored in {root}; {HOW_TO_TRAIN}")
        return version
    latest = root / LATEST
    if not latest.is_file():
        raise ArtifactMissingError(f"no trained completion model in {root}; {HOW_TO_TRAIN}")
    found = latest.read_text().strip()
    if not (root / found / "models.joblib").is_file():
        raise ArtifactMissingError(
            f"{latest} names version {found!r}, but {root / found} holds no models.joblib; {HOW_TO_TRAIN}")
    return found


def load(version: str | None = None, root: Path = DEFAULT_ROOT) -> StoredModel:
    """Load a stored version (default: LATEST). Raises ArtifactMissingError saying how to train."""
    version = resolve_version(version, root)
    path = Path(root) / version
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
