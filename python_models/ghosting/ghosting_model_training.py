"""Train the ghosting model (tag train) and return its training metrics. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    # dbt hands a Python model only the config keys its own file reads; ngs.ghosting reads them again
    dbt.config.get("ghosting_real_tracks")
    dbt.config.get("ghosting_max_epochs")
    refs = {"fct_tracking": dbt.ref("fct_tracking"), "fct_pass_events": dbt.ref("fct_pass_events"),
            "fct_plays": dbt.ref("fct_plays"), "dim_games": dbt.ref("dim_games")}
    return warehouse.training_model(dbt, session, refs)
