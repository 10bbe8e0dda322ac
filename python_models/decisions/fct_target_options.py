"""Every eligible receiver of every pass as a hypothetical target, scored. Logic: ngs.decisions.warehouse."""

from ngs.decisions import warehouse


def model(dbt, session):
    # dbt hands a Python model only the config keys its own file reads; ngs.decisions reads them again
    dbt.config.get("completion_defender_radius_yd")
    dbt.config.get("decisions_max_flight_frames")
    dbt.config.get("decisions_ghost_step_frames")
    dbt.config.get("decisions_lineman_radius_yd")
    dbt.config.get("ghosting_model_version")
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefacts are used
        dbt.ref("ghosting_model_training")
    except Exception:  # noqa: BLE001
        pass
    try:
        dbt.ref("fct_completion_cv_predictions")
    except Exception:  # noqa: BLE001
        pass
    refs = {"int_decision_passes": dbt.ref("int_decision_passes"), "fct_tracking": dbt.ref("fct_tracking")}
    return warehouse.target_options(dbt, session, refs)
