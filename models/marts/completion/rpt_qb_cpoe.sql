-- Completion percentage over expected per passer. Expected = the out-of-sample completion probability
-- (held-out CV probability for passes the model trained on, the final model's otherwise), so a passer's
-- own passes never inflate his expectation. One row per passer, season and team (so dashboards can filter
-- by season and team); real and simulated passes are ranked separately. A passer is his id where the
-- tracking or a release knows it, else the name the play descriptions give him (BDB 2026 output-only
-- plays do not track the passer).
with

scored as (
    select *
    from {{ ref('fct_pass_attempts_scored') }}
    where passer_nfl_id is not null or passer_name is not null
),

passers as (
    select
        dataset,
        season,
        club,
        passer_nfl_id,
        {{ ngs_any_value('passer_name') }} as passer_name,
        count(*) as attempts,
        count(*) filter (where is_complete) as completions,
        sum(expected_completion_probability) as expected_completions,
        max(model_version) as model_version
    from scored
    group by dataset, season, club, passer_nfl_id, if(passer_nfl_id is null, passer_name, null)
    having count(*) >= {{ var('min_qb_attempts') }}
)

select
    dataset::string as dataset,
    season::integer as season,
    club::string as club,
    passer_nfl_id::bigint as passer_nfl_id,
    passer_name::string as passer_name,
    attempts::bigint as attempts,
    completions::bigint as completions,
    (completions / attempts)::double as completion_rate,
    expected_completions::double as expected_completions,
    (expected_completions / attempts)::double as expected_completion_rate,
    (100.0 * (completions - expected_completions) / attempts)::double as cpoe_pct,
    model_version::string as model_version
from passers
