"""Train the completion model (tag train): grouped CV by game per dataset, final fit, artefact stored.
Returns the held-out CV prediction of every training pass. Logic: ngs.completion."""

from ngs import dbt_glue
from ngs.completion import warehouse


def model(dbt, session):
    return dbt_glue.run(warehouse.train, dbt_glue.Rows(dbt.ref("fct_pass_features")))
