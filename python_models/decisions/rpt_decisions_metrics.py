"""Counterfactual consistency on the real targets, flight-time fit, scoring figures (shared metrics shape).
Logic: ngs.decisions.warehouse (options_at_real_arrival: game by game on Spark's executors; then
decisions_metrics over one row per pass)."""

from ngs import dbt_glue
from ngs.decisions import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as ghosting:  # the training models: built first when this run trains
        ghosting.relation = dbt.ref("ghosting_model_training")
    with dbt_glue.optional_ref() as completion:
        completion.relation = dbt.ref("fct_completion_cv_predictions")
    trained = warehouse.Trained(completion.relation, ghosting.relation)
    passes = dbt.ref("int_decision_passes")
    at_real = dbt_glue.run(warehouse.options_at_real_arrival, session,
                           {"int_decision_passes": passes, "fct_tracking": dbt.ref("fct_tracking")},
                           trained, settings=dbt.config.get("settings"))
    options, measured = dbt_glue.Rows(dbt.ref("fct_target_options")), dbt_glue.Rows(dbt.ref("fct_pass_features"))
    return dbt_glue.run(warehouse.decisions_metrics, {"int_decision_passes": passes}, options, measured,
                        dbt_glue.Rows(at_real), trained, settings=dbt.config.get("settings"))
