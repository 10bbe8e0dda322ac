"""Completion model metrics measured on held-out grouped-CV folds, as recorded when the stored model was
trained (this run's training, else the LATEST artefact). Logic: ngs.completion.warehouse."""

from ngs.completion import warehouse


def model(dbt, session):
    try:  # run after training when it is in the run; with --exclude tag:train the stored artefact is used
        dbt.ref("fct_completion_cv_predictions")
    except Exception:  # noqa: BLE001
        pass
    return warehouse.report(dbt, session, "metrics")
