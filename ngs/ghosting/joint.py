"""The joint ghosting model (ghost-v2): every tracked player of the play, seen from each player's local frame.

For each player i of a play (a window: his last ``history`` positions) the network reads

* his own screened features (``features.candidate_features``, chosen by the gradient-boosting screening,
  standardised, NaN -> 0 plus a missing-indicator column), and
* one token per other tracked player j of the play (the targeted receiver and the other defenders of the
  BDB 2026 ball-in-air tracks; in the warehouse the defensive backs and the target), described in i's local
  frame (origin at i's last position, +x along his last velocity): j's positions over the observed
  frames, velocity, acceleration, velocity relative to i, distance and bearing, whether j is the targeted
  receiver, and where j's damped-physics path puts him 5 and 10 frames ahead and at the ball's arrival.

A self-attention block runs over [i, j1, j2, ...] (a small transformer on the fully connected graph of the
play, every token in i's frame, missing players masked), then i's token attends over all of them (pooling);
i's token, the pooled context and his own features go through an MLP head that outputs a correction to i's
damped-physics path (``baselines.damped``, constants fitted on the training windows) for each of the next
``config.horizon`` frames, in i's local frame. The last layer starts at zero, so an untrained network is the
physics baseline. Frames past the network's horizon (rare: flights longer than ``horizon + history``
frames) continue with the damped physics from the last three predicted positions.

One network serves every horizon: it is trained on every frame until the ball arrives (masked loss: a
window's frames past the end of its track do not count; each frame weighted by the inverse of the physics
path's mean squared error there, so the first frames count as much as the last), so ``--horizon 10``, ``15``
and ``arrival`` read the first 10, 15 or all remaining frames of the same prediction.

Football is left-right symmetric: training windows are mirrored (y -> field width - y) at random, half
the time, and a prediction is the mean of the play's and its mirror image's (mirrored back).

Deterministic: fixed seeds, ``torch.use_deterministic_algorithms``, CPU only, batches formed by a seeded
generator. Artefacts as the v1 model (``model.load`` dispatches on ``config.json``'s ``kind``).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ngs.constants import dbt_vars, field_width_yd, frame_rate_hz
from ngs.ghosting import baselines, data
from ngs.ghosting.data import Windows
from ngs.ghosting.features import candidate_features, frames_basis, frames_to_arrival, to_world, vec_to_local
from ngs.ghosting.model import BestEpoch, FeatureScaler, data_fingerprint, save_artifact, set_determinism
from ngs.threads import model_threads

KIND = "joint"
VERSION_PREFIX = "ghost-v2-"
# the physics path the network corrects, and the constants used until fit_damping has run
BASE = "damped_velocity_acceleration"
# windows per forward pass when scoring: 1024 ran the network ~1.3x faster than 4096 (the attention's
# (batch, tokens, tokens, heads, 16) intermediates stay in cache; docs/benchmarks.md, round 5), same output;
# a multiple of ROW_PAD (see JointModel.residual)
SCORE_BATCH = 1024
ROW_PAD = 8
# and at least this many rows: with the trained model's sizes (hidden 256, d_model 64) a matrix of 8 rows is
# multiplied with another kernel than one of 12 or more (other float32 last bits: a game's few randomised
# defenders scored alone differed from the same windows scored with the season's; 12-1024 rows agree)
MIN_ROWS = 32
TOKEN_LOOKAHEAD = 40  # the others' physics path is looked at up to this many frames ahead
TOKEN_FEATURES = (
    [f"rel_{c}_lag{lag}_yd" for lag in (2, 1, 0) for c in ("x", "y")]
    + ["vx_yps", "vy_yps", "ax_yps2", "ay_yps2", "rel_vx_yps", "rel_vy_yps", "dist_yd", "bearing_cos",
       "bearing_sin", "is_target", "target_known", "ahead5_x_yd", "ahead5_y_yd", "ahead10_x_yd", "ahead10_y_yd",
       "at_arrival_x_yd", "at_arrival_y_yd"]
)


@dataclass
class JointConfig:
    """Defaults: the configuration measured best on the validation games (docs/ghosting.md lists the runs)."""

    history: int = 3
    horizon: int = 40           # frames the network predicts (99.9% of real flights end sooner)
    d_model: int = 64
    heads: int = 4
    blocks: int = 1             # self-attention blocks over the play's tokens before the pooling
    hidden: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    batch_size: int = 512
    max_epochs: int = field(default_factory=lambda: int(dbt_vars()["ghosting_max_epochs"]))  # the dbt var
    patience: int = 12          # epochs without a better validation score before stopping
    seed: int = 0
    min_share: float = 0.005
    stride: int = 2             # training windows start every `stride` frames along a track (the first always)
    first_weight: float = 3.0   # loss weight of a track's first window (the benchmark's) against later ones
    step_norm: float = 1.0      # frame k's loss weight ~ 1 / (physics residual MSE at k) ** step_norm
    mirror: bool = True         # train on left-right mirrored plays too, predict as the mean over both
    hide_meta: float = 0.3      # share of training plays without landing spot / down / distance / scrimmage
    hide_target: float = 0.1    # share of training plays without a known target
    schedule: str = "cosine"    # learning rate: "cosine" (to 0 over max_epochs) or "plateau" (halve on stalls)
    features: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


# ------------------------------------------------------------------------------------------ inputs
def base_params(damping: dict | None) -> dict | None:
    """The constants of the physics path the network corrects: ``damping`` is either one fit
    (``baselines.fit_damping``'s result) or fits per horizon (then the to-arrival one)."""
    damping = damping or {}
    if BASE in damping:
        return damping[BASE]
    fit = damping.get("arrival") or next(iter(damping.values()), None)
    return fit.get(BASE) if fit else None


def base_path(obs: np.ndarray, horizon: int, damping: dict | None) -> np.ndarray:
    p = base_params(damping)
    if p is None:
        return baselines.constant_acceleration(obs, horizon)
    return baselines.damped(obs, horizon, p["r"], p["g"])


def mirror_windows(w: Windows) -> Windows:
    """The same windows reflected left-right across the field (y -> width - y): football's mirror symmetry,
    so a mirrored play is as plausible as the real one (the local-frame y of every feature flips sign)."""
    W = field_width_yd()
    m = Windows(w.key, w.obs.copy(), w.fut.copy(), w.others.copy(), w.others_is_target, w.is_target, w.meta.copy(),
                w.history, w.horizon)
    for a in (m.obs, m.fut, m.others):
        a[..., 1] = W - a[..., 1]
    j = data.META_COLUMNS.index("ball_land_y")
    m.meta[:, j] = W - m.meta[:, j]
    return m


def base_coefficients(horizon: int, damping: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) of the physics path p[T+k] = p[T] + A[k] v + B[k] a (:func:`base_path`)."""
    p = base_params(damping)
    return baselines.damped_coefficients(horizon, p["r"], p["g"]) if p else baselines.damped_coefficients(horizon, 1, 1)


def token_features(w: Windows, damping: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """(tokens (n, k, len(TOKEN_FEATURES)), present (n, k)): the other players of each window in its
    player's local frame. Missing values are 0 (the token's mask or ``target_known`` says so)."""
    fps = frame_rate_hz()
    n, k = w.others.shape[:2]
    h = w.history
    origin, rot = frames_basis(w.obs)
    oth = w.others                                                # (n, k, h, 2)
    present = ~np.isnan(oth[:, :, -1, 0]) if k else np.zeros((n, 0), bool)
    if n == 0 or k == 0:
        return np.zeros((n, k, len(TOKEN_FEATURES)), np.float32), present
    flat = oth.reshape(n * k, h, 2)
    # a player seen only on the last frames: missing earlier frames repeat his first known one
    filled = flat.copy()
    for t in range(h - 2, -1, -1):
        filled[:, t] = np.where(np.isnan(filled[:, t]), filled[:, t + 1], filled[:, t])
    rel = (filled - np.repeat(origin, k, 0)[:, None]).reshape(n, k, h, 2)
    rel = vec_to_local(rel.reshape(n, k * h, 2), rot).reshape(n, k, h, 2)
    v = baselines.last_velocity(filled) * fps
    a = baselines.last_acceleration(filled) * fps * fps
    v_loc = vec_to_local(v.reshape(n, k, 2), rot)
    a_loc = vec_to_local(a.reshape(n, k, 2), rot)
    own_v = baselines.last_velocity(w.obs) * fps
    relv = v_loc - vec_to_local(own_v[:, None, :], rot)
    last = rel[:, :, -1]
    dist = np.linalg.norm(last, axis=-1)
    safe = np.where(dist > 1e-6, dist, 1.0)
    tta = frames_to_arrival(w)
    H = TOKEN_LOOKAHEAD
    A, Bc = base_coefficients(H, damping)                        # the physics path at chosen steps only
    vj = baselines.last_velocity(filled).reshape(n, k, 2)
    aj = baselines.last_acceleration(filled).reshape(n, k, 2)
    pj = filled[:, -1].reshape(n, k, 2)
    vi, ai = baselines.last_velocity(w.obs), baselines.last_acceleration(w.obs)

    def ahead(s: np.ndarray | int) -> np.ndarray:                # j's path at step s minus i's, (n, k, 2)
        s = np.broadcast_to(np.asarray(s) - 1, (n,))
        pi = origin + A[s, None] * vi + Bc[s, None] * ai
        return pj + A[s, None, None] * vj + Bc[s, None, None] * aj - pi[:, None, :]

    step_arr = np.clip(np.nan_to_num(tta, nan=10.0), 1, H).astype(int)

    def loc(p: np.ndarray) -> np.ndarray:                        # (n, k, 2) world -> i's frame
        return vec_to_local(p - origin[:, None, :], rot)

    cols = [rel[:, :, t, c] for t in range(h - 3, h) if t >= 0 for c in (0, 1)]
    while len(cols) < 6:                                         # history < 3: repeat the earliest frame
        cols = cols[:2] + cols
    is_t = w.others_is_target
    cols += [v_loc[..., 0], v_loc[..., 1], a_loc[..., 0], a_loc[..., 1], relv[..., 0], relv[..., 1], dist,
             last[..., 0] / safe, last[..., 1] / safe, np.nan_to_num(is_t, nan=0.0), (~np.isnan(is_t)).astype(float)]
    for s in (5, 10):
        q = vec_to_local(ahead(s), rot)
        cols += [q[..., 0], q[..., 1]]
    q = loc(pj + A[step_arr - 1, None, None] * vj + Bc[step_arr - 1, None, None] * aj)
    cols += [q[..., 0], q[..., 1]]
    tok = np.stack(cols, axis=-1)
    tok = np.where(present[..., None] & np.isfinite(tok), tok, 0.0)
    return np.clip(tok, -100, 100).astype(np.float32), present


class TokenScaler:
    def __init__(self, mean: list[float], std: list[float]):
        self.mean, self.std = np.asarray(mean, np.float32), np.asarray(std, np.float32)

    @classmethod
    def fit(cls, tok: np.ndarray, present: np.ndarray) -> TokenScaler:
        x = tok[present]
        if len(x) == 0:
            return cls([0.0] * tok.shape[-1], [1.0] * tok.shape[-1])
        std = x.std(axis=0)
        return cls(x.mean(axis=0).tolist(), np.where(std > 1e-6, std, 1.0).tolist())

    def transform(self, tok: np.ndarray, present: np.ndarray) -> np.ndarray:
        z = (tok - self.mean) / self.std
        return np.where(present[..., None], np.clip(z, -10, 10), 0.0).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}


# ------------------------------------------------------------------------------------------ network
class Block(nn.Module):
    """Pre-norm multi-head self-attention over the play's tokens (masked) and a feed-forward layer."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.ff = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(B, T, 3, self.heads, d // self.heads).unbind(2)  # (B, T, h, dh)
        # broadcast products, not batched matmuls: with a handful of tokens per play, CPU bmm over
        # thousands of 4 x 16 matrices is several times slower
        att = (q[:, :, None] * k[:, None, :]).sum(-1) / math.sqrt(d // self.heads)          # (B, Tq, Tk, h)
        att = att.masked_fill(~mask[:, None, :, None], float("-inf")).softmax(2)
        x = x + self.out((att[..., None] * v[:, None]).sum(2).reshape(B, T, d))
        return x + self.ff(self.ln2(x))


class Pool(nn.Module):
    """Multi-head attention of the player's own token (query) over [himself, the others] (keys, values)."""

    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, d = x.shape
        q = self.q(x[:, 0]).view(B, 1, self.heads, d // self.heads)
        k, v = self.kv(x).view(B, T, 2, self.heads, d // self.heads).unbind(2)
        att = (q * k).sum(-1) / math.sqrt(d // self.heads)                                   # (B, T, h)
        att = att.masked_fill(~mask[:, :, None], float("-inf")).softmax(1)
        return self.out((att[..., None] * v).sum(1).reshape(B, d))


class JointNet(nn.Module):
    def __init__(self, n_self: int, n_tok: int, horizon: int, d: int = 64, heads: int = 4, blocks: int = 0,
                 hidden: int = 256):
        super().__init__()
        self.horizon = horizon
        self.self_in = nn.Sequential(nn.Linear(n_self, hidden), nn.GELU(), nn.Linear(hidden, d))
        self.tok_in = nn.Sequential(nn.Linear(n_tok, hidden // 2), nn.GELU(), nn.Linear(hidden // 2, d))
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(blocks)])
        self.pool = Pool(d, heads)
        self.head = nn.Sequential(nn.Linear(2 * d + n_self, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                  nn.Linear(hidden, horizon * 2))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)  # starts as the physics path

    def forward(self, xs: torch.Tensor, xt: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.self_in(xs)[:, None], self.tok_in(xt)], dim=1)
        mask = torch.cat([torch.ones_like(present[:, :1]), present], dim=1)
        for blk in self.blocks:
            x = blk(x, mask)
        ctx = self.pool(x, mask)
        return self.head(torch.cat([x[:, 0], ctx, xs], dim=-1)).view(-1, self.horizon, 2)


# ------------------------------------------------------------------------------------------ model
@dataclass
class Inputs:
    xs: np.ndarray        # (n, n_self) float32
    xt: np.ndarray        # (n, k, n_tok) float32
    present: np.ndarray   # (n, k) bool
    n_others: np.ndarray  # (n,) present others (for batching by size)


@dataclass
class JointModel:
    config: JointConfig
    scaler: FeatureScaler
    tok_scaler: TokenScaler
    net: JointNet
    version: str
    damping: dict
    roles: pd.DataFrame | None = None
    screening: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    kind: str = KIND

    def inputs(self, w: Windows) -> Inputs:
        xs = self.scaler.transform(candidate_features(w))
        tok, present = token_features(w, self.damping)
        order = np.argsort(~present, axis=1, kind="stable")          # present tokens first
        tok = np.take_along_axis(tok, order[..., None], axis=1)
        present = np.take_along_axis(present, order, axis=1)
        return Inputs(xs, self.tok_scaler.transform(tok, present), present, present.sum(axis=1))

    def residual(self, inp: Inputs, batch: int = SCORE_BATCH) -> np.ndarray:
        """The network's output (n, horizon, 2), ``batch`` windows per forward pass. A window's output depends
        on its own inputs only, never on the windows it is run with: layers act row by row, masked tokens
        add exact zeros at the end of each sum, and every slice is padded with empty windows to a multiple of
        ROW_PAD rows (MKL multiplies the last ``rows % 4`` rows of a matrix with another kernel, whose float32
        sums differ in the last bits) and to at least MIN_ROWS (small matrices take another kernel too).
        tests/test_ghosting_inference.py checks it bit for bit, with the test network's and the trained one's
        sizes."""
        self.net.eval()
        out = []
        with torch.inference_mode():
            for i in range(0, len(inp.xs), batch):
                sl = slice(i, i + batch)
                kmax = max(int(inp.n_others[sl].max(initial=0)), 1)
                xs, xt, pr = inp.xs[sl], inp.xt[sl, :kmax], inp.present[sl, :kmax]
                n = len(xs)
                extra = max(-n % ROW_PAD, MIN_ROWS - n)
                if extra:
                    xs, xt, pr = (np.concatenate([a, np.zeros((extra, *a.shape[1:]), a.dtype)]) for a in (xs, xt, pr))
                res = self.net(torch.from_numpy(xs), torch.from_numpy(np.ascontiguousarray(xt)), torch.from_numpy(pr))
                out.append(res[:n].numpy().astype(float))
        return np.concatenate(out) if out else np.zeros((0, self.config.horizon, 2))

    def predict(self, w: Windows, horizon: int | None = None) -> np.ndarray:
        """Predicted positions (n, horizon, 2) in field coordinates; ``horizon`` defaults to the windows'."""
        H = int(horizon or w.horizon)
        if len(w) == 0:
            return np.zeros((0, H, 2))
        Hn = self.config.horizon
        pred = self._predict_net(w)
        if self.config.mirror:  # the mean of the prediction and the mirrored play's prediction, mirrored back
            back = self._predict_net(mirror_windows(w))
            back[..., 1] = field_width_yd() - back[..., 1]
            pred = 0.5 * (pred + back)
        if H <= Hn:
            return pred[:, :H]
        tail = base_path(pred[:, -max(self.config.history, 3):], H - Hn, self.damping)
        return np.concatenate([pred, tail], axis=1)

    def _predict_net(self, w: Windows) -> np.ndarray:
        res = self.residual(self.inputs(w))
        _, rot = frames_basis(w.obs)
        return base_path(w.obs, self.config.horizon, self.damping) + to_world(res, np.zeros((len(w), 2)), rot)

    def save(self, root: Path | None = None) -> Path:
        """Store the artefact (``root``: the ghosting folder, default ``$NGS_ARTIFACTS_DIR/ghosting``)."""
        cfg = {"kind": KIND, "version": self.version, "config": asdict(self.config),
               "scaler": self.scaler.to_dict(), "token_scaler": self.tok_scaler.to_dict(),
               "n_inputs": int(self.net.self_in[0].in_features), "damping": self.damping, "metrics": self.metrics,
               "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        return save_artifact(self, cfg, root)


def from_artifact(d: Path, cfg: dict) -> JointModel:
    """Load a joint model from its artefact folder ``d`` (``cfg``: its parsed config.json)."""
    c = JointConfig(**cfg["config"])
    net = JointNet(cfg["n_inputs"], len(TOKEN_FEATURES), c.horizon, c.d_model, c.heads, c.blocks, c.hidden)
    net.load_state_dict(torch.load(d / "model.pt", weights_only=True))
    roles = pd.read_csv(d / "roles.csv") if (d / "roles.csv").exists() else None
    scr = pd.read_csv(d / "screening.csv") if (d / "screening.csv").exists() else None
    return JointModel(c, FeatureScaler(**cfg["scaler"]), TokenScaler(**cfg["token_scaler"]), net, cfg["version"],
                      cfg["damping"], roles, scr, cfg.get("metrics", {}), d)


# ------------------------------------------------------------------------------------------ training
def _batches(n_others: np.ndarray, batch: int, gen: torch.Generator) -> list[np.ndarray]:
    """Shuffled mini-batches of similar token counts (fewer padded tokens), all drawn from ``gen``."""
    perm = torch.randperm(len(n_others), generator=gen).numpy()
    out = []
    chunk = batch * 16
    for i in range(0, len(perm), chunk):
        c = perm[i:i + chunk]
        c = c[np.argsort(n_others[c], kind="stable")]
        out += [c[j:j + batch] for j in range(0, len(c), batch)]
    order = torch.randperm(len(out), generator=gen).numpy()
    return [out[i] for i in order]


def _tensors(inp: Inputs, target: np.ndarray, weight: np.ndarray, idx: np.ndarray,
             mirror: tuple[Inputs, np.ndarray] | None = None, flip: np.ndarray | None = None):
    """Batch ``idx`` as tensors; with ``mirror`` (the mirrored windows' inputs and targets), the rows where
    ``flip`` is true come from the mirrored play (tokens are in the same order: same presence)."""
    kmax = max(int(inp.n_others[idx].max(initial=0)), 1)
    xs, xt, y = inp.xs[idx], inp.xt[idx, :kmax], target[idx]
    if mirror is not None and flip is not None and flip.any():
        mi, my = mirror
        xs = np.where(flip[:, None], mi.xs[idx], xs)
        xt = np.where(flip[:, None, None], mi.xt[idx, :kmax], xt)
        y = np.where(flip[:, None, None], my[idx], y)
    known = np.isfinite(y).all(-1)
    return (torch.from_numpy(np.ascontiguousarray(xs)), torch.from_numpy(np.ascontiguousarray(xt)),
            torch.from_numpy(inp.present[idx, :kmax]), torch.from_numpy(np.nan_to_num(y).astype(np.float32)),
            torch.from_numpy((known * weight[idx, None]).astype(np.float32)))


def _masked_mse(pred, y, m, sw):
    return (((pred - y) ** 2).sum(-1) * m * sw).sum() / (2 * m.sum()).clamp_min(1.0)


def step_weights(y: np.ndarray, power: float) -> np.ndarray:
    """Per-frame loss weights (mean 1 over the frames): 1 / (mean squared residual at that frame) ** power.
    power 0: plain MSE (late frames, with errors of yards, dominate); 1: every frame counts alike."""
    if power == 0:
        return np.ones(y.shape[1], np.float32)
    e2 = (y**2).sum(-1)
    known = np.isfinite(e2)
    cnt = known.sum(axis=0)
    ms = np.where(known, e2, 0.0).sum(axis=0) / np.maximum(cnt, 1)
    ok = (cnt > 0) & (ms > 1e-6)
    ms = np.where(ok, ms, ms[ok].max() if ok.any() else 1.0)  # no truth there: any weight
    w = ms ** -power
    return (w / w.mean()).astype(np.float32)


def residual_target(w: Windows, damping: dict, horizon: int) -> np.ndarray:
    """Truth minus the physics path, in the local frame: (n, horizon, 2), NaN where there is no truth."""
    fut = w.fut[:, :horizon]
    if fut.shape[1] < horizon:
        fut = np.concatenate([fut, np.full((len(w), horizon - fut.shape[1], 2), np.nan)], axis=1)
    _, rot = frames_basis(w.obs)
    return vec_to_local(fut - base_path(w.obs, horizon, damping), rot)


def train(train_w: Windows, val_w: Windows, config: JointConfig, damping: dict,
          screening: pd.DataFrame | None = None, roles: pd.DataFrame | None = None, log=print) -> JointModel:
    """Fit with AdamW on the masked MSE of the residual; early stopping on the validation windows'
    masked MSE (best epoch kept)."""
    set_determinism(config.seed)
    # one thread unless NGS_MODEL_THREADS says otherwise (ngs.threads): on a busy 2-core machine two
    # spin-waiting threads ran these small batches ~10x slower than one (measured)
    torch.set_num_threads(model_threads())
    t0 = time.time()
    if not config.features:
        config.features = (screening.loc[screening["selected"], "feature"].tolist() if screening is not None
                           else list(candidate_features(train_w).columns))
    scaler = FeatureScaler.fit(candidate_features(train_w), config.features)
    tok, present = token_features(train_w, damping)
    tok_scaler = TokenScaler.fit(tok, present)
    del tok, present
    shell = JointModel(config, scaler, tok_scaler, None, "", damping)  # type: ignore[arg-type]
    Htr = config.horizon
    tr_in, va_in = shell.inputs(train_w), shell.inputs(val_w)
    ytr = residual_target(train_w, damping, Htr).astype(np.float32)
    yva = residual_target(val_w, damping, Htr).astype(np.float32)
    tr_m = va_m = None
    if config.mirror:
        mtr, mva = mirror_windows(train_w), mirror_windows(val_w)
        tr_m = (shell.inputs(mtr), residual_target(mtr, damping, Htr).astype(np.float32))
        va_m = shell.inputs(mva)
        del mtr, mva
    first = (train_w.key["start_frame"].to_numpy() == 1)
    wtr = np.where(first, config.first_weight, 1.0).astype(np.float32)
    wva = np.ones(len(val_w), np.float32)
    sw = torch.from_numpy(step_weights(ytr, config.step_norm))
    k10 = min(10, Htr)
    net = JointNet(tr_in.xs.shape[1], len(TOKEN_FEATURES), Htr, config.d_model, config.heads, config.blocks,
                   config.hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    n_batches = -(-len(train_w) // config.batch_size)
    if config.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(config.max_epochs * n_batches, 1))
    else:
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
    gen = torch.Generator().manual_seed(config.seed)
    keeper = BestEpoch(config.patience)
    history = []
    va_batches = [np.arange(i, min(i + 4096, len(val_w))) for i in range(0, len(val_w), 4096)]
    flip_y = torch.tensor([1.0, -1.0])
    for epoch in range(config.max_epochs):
        net.train()
        tot, cnt = 0.0, 0
        for b in _batches(tr_in.n_others, config.batch_size, gen):
            flip = (torch.rand(len(b), generator=gen) < 0.5).numpy() if tr_m is not None else None
            xs, xt, pr, y, m = _tensors(tr_in, ytr, wtr, b, tr_m, flip)
            opt.zero_grad()
            loss = _masked_mse(net(xs, xt, pr), y, m, sw)
            loss.backward()
            opt.step()
            if config.schedule == "cosine":
                sched.step()
            tot += float(loss.detach()) * len(b)
            cnt += len(b)
        net.eval()
        se, den, se10, den10 = 0.0, 0.0, 0.0, 0.0
        with torch.no_grad():
            for b in va_batches:
                xs, xt, pr, y, m = _tensors(va_in, yva, wva, b)
                out = net(xs, xt, pr)
                if va_m is not None:  # as predict: the mean with the mirrored play's (local y flipped back)
                    xs2, xt2, pr2, _, _ = _tensors(va_m, yva, wva, b)
                    out = 0.5 * (out + net(xs2, xt2, pr2) * flip_y)
                e2 = ((out - y) ** 2).sum(-1) * m
                se += float((e2 * sw).sum())
                den += float(2 * m.sum())
                full = m[:, :k10].min(dim=1).values > 0          # windows with all of the first 10 frames
                se10 += float(e2[full, :k10].sum())
                den10 += float(2 * m[full, :k10].sum())
        val = se / den if den else tot / max(cnt, 1)
        rmse10 = math.sqrt(se10 / den10) if den10 else float("nan")
        if config.schedule != "cosine":
            sched.step(val)
        history.append({"epoch": epoch, "train_mse": tot / max(cnt, 1), "val_mse": val, "val_rmse_10": rmse10,
                        "seconds": round(time.time() - t0, 1)})
        if log:
            log(f"epoch {epoch:3d}  train mse {tot / max(cnt, 1):.4f}  val mse {val:.4f}  "
                f"val rmse 10 frames {rmse10:.4f}  ({time.time() - t0:.0f} s)")
        if keeper.stop_after(epoch, val, net):
            break
    keeper.restore(net)
    best, best_epoch = keeper.best, keeper.best_epoch
    fp = data_fingerprint(train_w)
    version = VERSION_PREFIX + hashlib.sha1((config.to_json() + json.dumps(damping, sort_keys=True) + fp)
                                            .encode()).hexdigest()[:10]
    metrics = {"train_seconds": round(time.time() - t0, 1), "best_epoch": best_epoch, "epochs": len(history),
               "val_mse_residual": best, "n_train_windows": len(train_w), "n_val_windows": len(val_w),
               "data_fingerprint": fp, "history": history}
    return JointModel(config, scaler, tok_scaler, net, version, damping, roles, screening, metrics)


__all__ = ["JointConfig", "JointModel", "JointNet", "TOKEN_FEATURES", "train", "token_features"]
