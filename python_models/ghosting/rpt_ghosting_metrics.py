"""Ghosting model vs constant velocity / acceleration, per horizon step. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    # dbt hands a Python model only the config keys its own file reads; ngs.ghosting reads them again
    dbt.config.get("ghosting_test_from_week")
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefact is used
        dbt.ref("ghosting_model_training")
    except Exception:  # noqa: BLE001
        pass
    refs = {"int_ball_in_air_tracks": dbt.ref("int_ball_in_air_tracks"),
            "int_pass_play_tracks": dbt.ref("int_pass_play_tracks"), "dim_games": dbt.ref("dim_games")}
    return warehouse.ghosting_metrics(dbt, session, refs)
