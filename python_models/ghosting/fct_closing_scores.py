"""Per-defender closing scores: real, predicted and 25%-randomised trajectories. Logic: ngs.ghosting.warehouse.
Incremental (ngs.incremental): an append scores only new passes and passes whose inputs or model changed."""

from ngs import dbt_glue, incremental
from ngs.ghosting import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("ghosting_model_training")
    tracks = warehouse.inputs(dbt.ref("int_ball_in_air_tracks"), dbt.ref("int_pass_play_tracks"), dbt.ref("dim_games"))
    # the marker of scored passes (ngs.incremental) where the model is incremental (a table on Spark: none)
    marker = dbt.this if dbt.config.get("materialized") == "incremental" else None
    inc = incremental.Increment(dbt.this if dbt.is_incremental else None, session, "fct_closing_scores", marker)
    return dbt_glue.run(warehouse.closing_scores, tracks, trained.relation, settings=dbt.config.get("settings"),
                        inc=inc)
