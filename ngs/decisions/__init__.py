"""QB decision-making: counterfactual targets from ghosted defenders.

For every pass with tracking, every eligible receiver on the field at the throw is made the hypothetical
target: the ball lands on his route (his real route where the play's tracking has it) at a flight time
from a fitted flight-time model, the defenders are ghosted towards him with the stored ghosting model
(ngs.ghosting), the completion features are measured at that arrival (same definitions as
marts.fct_pass_features) and scored with the stored completion model (ngs.completion).

Modules: `flight` (flight-time model, earliest catchable frame), `features` (completion features at an
arrival, the Python twin of fct_pass_features.sql), `ghost` (adapter: roll the ghosting model forward
towards a chosen target), `options` (plays -> one row per hypothetical target), `scoring` (adapter: the
stored completion model, ranking of the options), `consistency` (counterfactual vs measured on the real
target), `warehouse` (glue for the dbt Python models in python_models/decisions/).
"""

MODEL_NAME = "qb_decisions_counterfactual"
