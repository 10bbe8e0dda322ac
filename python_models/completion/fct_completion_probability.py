"""Every pass scored with the stored completion model (the one trained in this run, else LATEST)."""

from ngs import dbt_glue
from ngs.completion import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("fct_completion_cv_predictions")
    return dbt_glue.run(warehouse.score, dbt.ref("fct_pass_features").df(), trained.relation)
