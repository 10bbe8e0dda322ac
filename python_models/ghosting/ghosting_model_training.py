"""Train the ghosting model (tag train) and return its training metrics. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    # dbt hands a Python model only the config keys its own file reads; ngs.ghosting reads them again
    dbt.config.get("ghosting_test_from_week")
    dbt.config.get("ghosting_max_epochs")
    refs = {"int_ball_in_air_tracks": dbt.ref("int_ball_in_air_tracks"),
            "int_pass_play_tracks": dbt.ref("int_pass_play_tracks"), "dim_games": dbt.ref("dim_games")}
    return warehouse.training_model(dbt, session, refs)
