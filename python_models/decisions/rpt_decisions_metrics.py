"""Counterfactual consistency on the real targets, flight-time fit, scoring figures (shared metrics shape).
Logic: ngs.decisions.warehouse."""

from ngs import dbt_glue
from ngs.decisions import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as ghosting:  # the training models: built first when this run trains
        ghosting.relation = dbt.ref("ghosting_model_training")
    with dbt_glue.optional_ref() as completion:
        completion.relation = dbt.ref("fct_completion_cv_predictions")
    refs = {"int_decision_passes": dbt.ref("int_decision_passes"), "fct_tracking": dbt.ref("fct_tracking")}
    options, measured = dbt_glue.Rows(dbt.ref("fct_target_options")), dbt_glue.Rows(dbt.ref("fct_pass_features"))
    return dbt_glue.run(warehouse.decisions_metrics, session, refs, options, measured,
                        warehouse.Trained(completion.relation, ghosting.relation), settings=dbt.config.get("settings"))
