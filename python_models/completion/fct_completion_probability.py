"""Every pass scored with the stored completion model (the one trained in this run, else LATEST).
Incremental (ngs.incremental): an append scores only new passes and passes whose inputs or model changed."""

from ngs import dbt_glue, incremental
from ngs.completion import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("fct_completion_cv_predictions")
    # the marker of scored passes (ngs.incremental) where the model is incremental (a table on Spark: none)
    marker = dbt.this if dbt.config.get("materialized") == "incremental" else None
    inc = incremental.Increment(dbt.this if dbt.is_incremental else None, session, "fct_completion_probability", marker)
    return dbt_glue.run(warehouse.score, dbt.ref("fct_pass_features"), trained.relation, inc)
