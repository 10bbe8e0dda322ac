"""Every pass scored with the stored completion model (the one trained in this run, else LATEST)."""

from ngs.completion import warehouse


def model(dbt, session):
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefact is used
        dbt.ref("fct_completion_cv_predictions")
    except Exception:  # noqa: BLE001
        pass
    return warehouse.score(dbt, session, dbt.ref("fct_pass_features").df())
