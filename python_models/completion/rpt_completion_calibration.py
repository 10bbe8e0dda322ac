"""Completion model calibration measured on held-out grouped-CV folds, as recorded when the stored model was
trained (this run's training, else the LATEST artefact). Logic: ngs.completion.warehouse."""

from ngs import dbt_glue
from ngs.completion import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("fct_completion_cv_predictions")
    return dbt_glue.run(warehouse.report, trained.relation, "calibration")
