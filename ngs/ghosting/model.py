"""The ghosting network: an MLP that predicts the next ``horizon`` positions of a player as a residual on
top of the constant-acceleration extrapolation, in the player's local frame (features.frames_basis).

Inputs: the screened features (standardised; NaN -> 0 plus a missing-indicator column where the training
data had gaps). Output: (horizon, 2) local residuals, added to the constant-acceleration path and rotated
back to field coordinates. Deterministic (fixed seeds, deterministic algorithms, CPU only).

Artefacts: ``<artifacts>/ghosting/<version>/`` with ``model.pt`` (state dict), ``config.json`` (config,
features, scaler, data fingerprint, metrics), ``screening.csv`` and ``roles.csv``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ngs.artifacts import ArtifactStore
from ngs.errors import ArtifactMissingError
from ngs.ghosting.baselines import constant_acceleration, constant_velocity
from ngs.ghosting.data import Windows
from ngs.ghosting.features import candidate_features, frames_basis, residual_target, to_world, vec_to_local

TRAIN_HINT = ("train it with `ngs build --data DIR` (trains the dbt models tagged 'train') or "
              "`python -m ngs.ghosting.joint_train --warehouse PATH` (a built warehouse's BDB 2026 weeks 1-10 "
              "and pass plays)")


FILES = ("config.json", "model.pt")


def store(root: Path | None = None) -> ArtifactStore:
    """The ghosting store: ``root`` if given, else ``$NGS_ARTIFACTS_DIR/ghosting`` (read per call)."""
    return ArtifactStore("ghosting", FILES, root=root, how_to_train=TRAIN_HINT)


def artifacts_root() -> Path:
    """The ghosting artefacts' folder (``$NGS_ARTIFACTS_DIR/ghosting``, read per call)."""
    return store().root


def save_artifact(model, cfg: dict, root: Path | None = None) -> Path:
    """Store ``model`` (a GhostModel or a JointModel: ``net``, ``version``, ``screening``, ``roles``) with its
    ``config.json`` atomically and point LATEST at it (ngs.artifacts)."""

    def write(folder: Path) -> None:
        torch.save(model.net.state_dict(), folder / "model.pt")
        (folder / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True))
        if model.screening is not None:
            model.screening.to_csv(folder / "screening.csv", index=False)
        if model.roles is not None:
            model.roles.to_csv(folder / "roles.csv", index=False)

    model.path = store(root).write(model.version, write)
    return model.path


@dataclass
class GhostConfig:
    history: int = 3
    horizon: int = 10
    hidden: int = 256
    layers: int = 3
    dropout: float = 0.0
    lr: float = 2e-3
    weight_decay: float = 1e-5
    batch_size: int = 512
    max_epochs: int = 60
    patience: int = 6
    seed: int = 0
    min_share: float = 0.005
    features: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


class ResidualMLP(nn.Module):
    def __init__(self, n_in: int, horizon: int, hidden: int, layers: int, dropout: float = 0.0):
        super().__init__()
        mods: list[nn.Module] = []
        d = n_in
        for _ in range(layers):
            mods += [nn.Linear(d, hidden), nn.GELU()]
            if dropout:
                mods.append(nn.Dropout(dropout))
            d = hidden
        mods.append(nn.Linear(d, horizon * 2))
        self.net = nn.Sequential(*mods)
        self.horizon = horizon
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)  # starts as the constant-acceleration baseline

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1, self.horizon, 2)


def set_determinism(seed: int) -> None:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(min(2, os.cpu_count() or 1))


class FeatureScaler:
    def __init__(self, features: list[str], mean: list[float], std: list[float], missing: list[str]):
        self.features, self.mean, self.std, self.missing = features, np.asarray(mean), np.asarray(std), missing

    @classmethod
    def fit(cls, X: pd.DataFrame, features: list[str]) -> FeatureScaler:
        sub = X[features]
        mean = sub.mean().fillna(0.0).to_numpy()
        std = sub.std().fillna(1.0).replace(0.0, 1.0).to_numpy()
        missing = [c for c in features if sub[c].isna().any()]
        return cls(features, mean.tolist(), std.tolist(), missing)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        sub = X.reindex(columns=self.features).to_numpy(dtype=float)
        z = (sub - self.mean) / self.std
        flags = X.reindex(columns=self.missing).isna().to_numpy(dtype=float) if self.missing else np.zeros((len(X), 0))
        z = np.nan_to_num(z, nan=0.0, posinf=0.0, neginf=0.0)
        return np.clip(np.concatenate([z, flags], axis=1), -10, 10).astype(np.float32)

    def to_dict(self) -> dict:
        return {"features": self.features, "mean": list(map(float, self.mean)), "std": list(map(float, self.std)),
                "missing": self.missing}


def data_fingerprint(w: Windows) -> str:
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(np.round(w.obs, 3)).tobytes())
    h.update(np.ascontiguousarray(np.round(np.nan_to_num(w.fut), 3)).tobytes())
    return h.hexdigest()[:12]


@dataclass
class GhostModel:
    config: GhostConfig
    scaler: FeatureScaler
    net: ResidualMLP
    version: str
    roles: pd.DataFrame | None = None
    screening: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    path: Path | None = None

    def predict(self, w: Windows, horizon: int | None = None, batch: int = 8192) -> np.ndarray:
        """Predicted positions (n, horizon, 2) in field coordinates (default: the network's horizon; frames
        past it continue at the velocity of its last two predicted positions)."""
        if horizon is not None and horizon != self.config.horizon:
            pred = self.predict(w, batch=batch)
            if horizon <= self.config.horizon:
                return pred[:, :horizon]
            # past the network's horizon: constant velocity from its last two predicted positions
            return np.concatenate([pred, constant_velocity(pred[:, -2:], horizon - self.config.horizon)], axis=1)
        if len(w) == 0:
            return np.zeros((0, self.config.horizon, 2))
        X = self.scaler.transform(candidate_features(w))
        self.net.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(X), batch):
                out.append(self.net(torch.from_numpy(X[i:i + batch])).numpy().astype(float))
        res = np.concatenate(out)
        origin, rot = frames_basis(w.obs)
        ca = constant_acceleration(w.obs, self.config.horizon)
        return ca + to_world(res, np.zeros_like(origin), rot)

    def save(self, root: Path | None = None) -> Path:
        """Store the artefact (``root``: the ghosting folder, default ``$NGS_ARTIFACTS_DIR/ghosting``)."""
        cfg = {"version": self.version, "config": asdict(self.config), "scaler": self.scaler.to_dict(),
               "n_inputs": int(self.net.net[0].in_features), "metrics": self.metrics,
               "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        return save_artifact(self, cfg, root)


def find_by_input_key(key: str, kind: str | None = None):
    """The stored artefact trained on exactly these inputs (its config.json records ``metrics.input_key``;
    ``kind``: "joint" or None for v1), made LATEST; None when there is none."""
    st = store()
    for version in st.versions():
        try:
            cfg = json.loads((st.root / version / "config.json").read_text())
        except (OSError, ValueError):
            continue
        if cfg.get("kind") == kind and cfg.get("metrics", {}).get("input_key") == key:
            model = load(version=version)
            st.set_latest(version)
            return model
    return None



class BestEpoch:
    """Early stopping: keeps the weights of the epoch with the lowest validation loss and says when
    `patience` epochs in a row have not improved it by more than 1e-6."""

    def __init__(self, patience: int):
        self.patience, self.best, self.best_epoch, self.bad, self.state = patience, float("inf"), -1, 0, None

    def stop_after(self, epoch: int, val: float, net: nn.Module) -> bool:
        if val < self.best - 1e-6:
            self.best, self.best_epoch, self.bad = val, epoch, 0
            self.state = {k: v.clone() for k, v in net.state_dict().items()}
            return False
        self.bad += 1
        return self.bad >= self.patience

    def restore(self, net: nn.Module) -> None:
        if self.state is not None:
            net.load_state_dict(self.state)

def _loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((pred - target) ** 2).mean()


def train(train_w: Windows, val_w: Windows, config: GhostConfig, screening: pd.DataFrame | None = None,
          roles: pd.DataFrame | None = None, log=print) -> GhostModel:
    """Fit the residual MLP with Adam; early stopping on the validation MSE (best epoch kept)."""
    set_determinism(config.seed)
    t0 = time.time()
    if not config.features:
        config.features = (screening.loc[screening["selected"], "feature"].tolist() if screening is not None
                           else list(candidate_features(train_w).columns))
    Xtr_df = candidate_features(train_w)
    scaler = FeatureScaler.fit(Xtr_df, config.features)
    Xtr = torch.from_numpy(scaler.transform(Xtr_df))
    Ytr = torch.from_numpy(residual_target(train_w).astype(np.float32))
    Xva = torch.from_numpy(scaler.transform(candidate_features(val_w)))
    Yva = torch.from_numpy(residual_target(val_w).astype(np.float32))
    net = ResidualMLP(Xtr.shape[1], config.horizon, config.hidden, config.layers, config.dropout)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    gen = torch.Generator().manual_seed(config.seed)
    keeper = BestEpoch(config.patience)
    history = []
    for epoch in range(config.max_epochs):
        net.train()
        perm = torch.randperm(len(Xtr), generator=gen)
        tot = 0.0
        for i in range(0, len(perm), config.batch_size):
            b = perm[i:i + config.batch_size]
            opt.zero_grad()
            loss = _loss(net(Xtr[b]), Ytr[b])
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(b)
        net.eval()
        with torch.no_grad():
            val = float(_loss(net(Xva), Yva)) if len(Xva) else tot / len(Xtr)
        sched.step(val)
        history.append({"epoch": epoch, "train_mse": tot / len(Xtr), "val_mse": val})
        if log:
            log(f"epoch {epoch:3d}  train mse {tot / len(Xtr):.4f}  val mse {val:.4f}")
        if keeper.stop_after(epoch, val, net):
            break
    keeper.restore(net)
    best, best_epoch = keeper.best, keeper.best_epoch
    fp = data_fingerprint(train_w)
    version = "ghost-v1-" + hashlib.sha1((config.to_json() + fp).encode()).hexdigest()[:10]
    metrics = {"train_seconds": round(time.time() - t0, 1), "best_epoch": best_epoch, "epochs": len(history),
               "val_mse_residual": best, "n_train_windows": len(train_w), "n_val_windows": len(val_w),
               "data_fingerprint": fp, "history": history}
    return GhostModel(config, scaler, net, version, roles, screening, metrics)


def load(version: str | None = None, history: int | None = None, horizon: int | None = None,
         root: Path | None = None) -> GhostModel:
    """Load an artefact: ``version`` exactly, else the one LATEST names (never a guess). ``history`` /
    ``horizon``: what the caller needs; a stored model that does not match is an ArtifactMissingError naming
    it. Raises ArtifactMissingError (with the train command) when there is none."""
    d = store(root).resolve(version)
    cfg = json.loads((d / "config.json").read_text())
    if cfg.get("kind") == "joint":  # the joint model (ghost-v2) predicts any horizon
        mismatch = history is not None and cfg["config"]["history"] != history
    else:
        c = cfg["config"]
        mismatch = (history is not None and c["history"] != history) or (horizon is not None
                                                                          and c["horizon"] != horizon)
    if mismatch:
        raise ArtifactMissingError(
            f"ghosting model {d.name} in {d.parent} observes {cfg['config']['history']} frames and predicts "
            f"{cfg['config']['horizon']}, not history={history}, horizon={horizon}: {TRAIN_HINT}"
            f" with --history {history} --horizon {horizon}")
    if cfg.get("kind") == "joint":
        from ngs.ghosting.joint import from_artifact

        return from_artifact(d, cfg)
    c = GhostConfig(**cfg["config"])
    scaler = FeatureScaler(**cfg["scaler"])
    net = ResidualMLP(cfg["n_inputs"], c.horizon, c.hidden, c.layers, c.dropout)
    net.load_state_dict(torch.load(d / "model.pt", weights_only=True))
    roles = pd.read_csv(d / "roles.csv") if (d / "roles.csv").exists() else None
    scr = pd.read_csv(d / "screening.csv") if (d / "screening.csv").exists() else None
    return GhostModel(c, scaler, net, cfg["version"], roles, scr, cfg.get("metrics", {}), d)


__all__ = ["GhostConfig", "GhostModel", "train", "load", "store", "artifacts_root", "save_artifact",
           "vec_to_local"]
