"""Feature screening table of the stored ghosting model. Logic: ngs.ghosting.warehouse."""

from ngs.ghosting import warehouse


def model(dbt, session):
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefact is used
        dbt.ref("ghosting_model_training")
    except Exception:  # noqa: BLE001
        pass
    return warehouse.feature_screening(dbt)
