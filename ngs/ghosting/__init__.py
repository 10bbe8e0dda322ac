"""Defender ghosting: predict where each player in coverage goes while the ball is in the air.

Modules: `baselines` (constant velocity, both constant-acceleration forms, damped forms fitted on training
windows), `data` (tracks -> windows), `features` (candidate features + gradient-boosting screening), `joint`
(the production network, ghost-v2: every player of the play, attention in each player's local frame, every
frame to the arrival), `joint_train` (its training pipeline), `model` (artefacts; the v1 per-player residual
MLP), `scoring` (model vs baselines per horizon), `closing` (closing score + the seed paper's experiment),
`evaluate` (`ngs ghost-eval`), `train` (`python -m ngs.ghosting.train`, v1).
"""

MODEL_NAME = "ghosting_joint"
V1_MODEL_NAME = "ghosting_mlp"


def model_name(model) -> str:
    """The metrics' name of a loaded ghosting model: MODEL_NAME for the joint model, V1_MODEL_NAME for a
    v1 artefact (still loadable)."""
    return MODEL_NAME if getattr(model, "kind", None) == "joint" else V1_MODEL_NAME
