"""Train the ghosting model (tag train) and return its training metrics. Logic: ngs.ghosting.warehouse."""

from ngs import dbt_glue
from ngs.ghosting import warehouse


def model(dbt, session):
    tracks = warehouse.inputs(dbt.ref("int_ball_in_air_tracks"), dbt.ref("int_pass_play_tracks"), dbt.ref("dim_games"))
    return dbt_glue.run(warehouse.training_model, tracks, settings=dbt.config.get("settings"))
