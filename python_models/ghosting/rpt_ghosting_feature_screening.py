"""Feature screening table of the stored ghosting model. Logic: ngs.ghosting.warehouse."""

from ngs import dbt_glue
from ngs.ghosting import warehouse


def model(dbt, session):
    with dbt_glue.optional_ref() as trained:  # built first when this run trains (tag train), else absent
        trained.relation = dbt.ref("ghosting_model_training")
    return dbt_glue.run(warehouse.feature_screening, trained.relation)
