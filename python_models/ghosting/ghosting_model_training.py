"""Train the ghosting model (tag train) and return its training metrics. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    refs = {"fct_tracking": dbt.ref("fct_tracking"), "fct_pass_events": dbt.ref("fct_pass_events"),
            "fct_plays": dbt.ref("fct_plays"), "dim_games": dbt.ref("dim_games")}
    return warehouse.training_model(dbt, session, refs)
