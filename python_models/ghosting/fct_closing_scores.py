"""Per-defender closing scores: real, predicted and 25%-randomised trajectories. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    # dbt hands a Python model only the config keys its own file reads; ngs.ghosting reads them again
    dbt.config.get("ghosting_test_from_week")
    dbt.config.get("ghosting_closing_seed")
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefact is used
        dbt.ref("ghosting_model_training")
    except Exception:  # noqa: BLE001
        pass
    refs = {"int_ball_in_air_tracks": dbt.ref("int_ball_in_air_tracks"),
            "int_pass_play_tracks": dbt.ref("int_pass_play_tracks"), "dim_games": dbt.ref("dim_games")}
    return warehouse.closing_scores(dbt, session, refs)
