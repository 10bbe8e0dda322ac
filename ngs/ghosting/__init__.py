"""Defender ghosting: predict where each player in coverage goes while the ball is in the air.

Modules: `baselines` (constant velocity / acceleration), `data` (tracks -> windows), `features`
(candidate features + gradient-boosting screening), `model` (PyTorch residual MLP, artefacts),
`closing` (closing score + the seed paper's experiment), `evaluate` (`ngs ghost-eval`), `train`
(`python -m ngs.ghosting.train`).
"""

MODEL_NAME = "ghosting_mlp"
