"""Per-defender closing scores: real, predicted and 25%-randomised trajectories. Logic: ngs.ghosting.warehouse."""

from ngs import dbt_glue
from ngs.ghosting import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("ghosting_model_training")
    tracks = warehouse.inputs(dbt.ref("int_ball_in_air_tracks"), dbt.ref("int_pass_play_tracks"), dbt.ref("dim_games"))
    return dbt_glue.run(warehouse.closing_scores, tracks, trained.relation, settings=dbt.config.get("settings"))
