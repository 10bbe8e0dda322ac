"""Every eligible receiver of every pass as a hypothetical target, scored. Logic: ngs.decisions.warehouse.
Incremental (ngs.incremental): an append scores only new passes and passes whose inputs or models changed."""

from ngs import dbt_glue, incremental
from ngs.decisions import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as ghosting:  # the training models: built first when this run trains
        ghosting.relation = dbt.ref("ghosting_model_training")
    with dbt_glue.optional_ref() as completion:
        completion.relation = dbt.ref("fct_completion_cv_predictions")
    # the marker of scored passes (ngs.incremental) where the model is incremental (a table on Spark: none)
    marker = dbt.this if dbt.config.get("materialized") == "incremental" else None
    inc = incremental.Increment(dbt.this if dbt.is_incremental else None, session, "fct_target_options", marker)
    return dbt_glue.run(warehouse.target_options, session,
                        {"int_decision_passes": dbt.ref("int_decision_passes"), "fct_tracking": dbt.ref("fct_tracking")},
                        warehouse.Trained(completion.relation, ghosting.relation), settings=dbt.config.get("settings"),
                        inc=inc)
