-- Completion percentage over expected per passer. Expected = the out-of-sample completion probability
-- (held-out CV probability for passes the model trained on, the final model's otherwise), so a passer's
-- own passes never inflate his expectation. One row per passer, season and team (so dashboards can filter
-- by season and team); real and simulated passes are ranked separately.
with

scored as (
    select *
    from {{ ref('int_pass_attempts_scored') }}
    where passer_nfl_id is not null
),

passers as (
    select
        dataset,
        season,
        club,
        passer_nfl_id,
        count(*) as attempts,
        count(*) filter (where is_complete) as completions,
        sum(expected_completion_probability) as expected_completions,
        max(model_version) as model_version,
    from scored
    group by dataset, season, club, passer_nfl_id
    having count(*) >= {{ var('min_qb_attempts') }}
)

select
    passers.dataset::varchar as dataset,
    passers.season::integer as season,
    passers.club::varchar as club,
    passers.passer_nfl_id::bigint as passer_nfl_id,
    players.display_name::varchar as passer_name,
    passers.attempts::bigint as attempts,
    passers.completions::bigint as completions,
    (passers.completions / passers.attempts)::double as completion_rate,
    passers.expected_completions::double as expected_completions,
    (passers.expected_completions / passers.attempts)::double as expected_completion_rate,
    (100.0 * (passers.completions - passers.expected_completions) / passers.attempts)::double as cpoe_pct,
    passers.model_version::varchar as model_version,
from passers
left join {{ ref('dim_players') }} as players
    on passers.passer_nfl_id = players.nfl_id
