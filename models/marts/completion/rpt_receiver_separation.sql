-- Per targeted receiver: separation from the nearest defender when the ball arrives, and catch rate over
-- expected (same out-of-sample probability as rpt_qb_cpoe). One row per receiver, season and team;
-- real and simulated targets separately.
with

scored as (
    select *
    from {{ ref('fct_pass_attempts_scored') }}
),

receivers as (
    select
        dataset,
        season,
        club,
        target_nfl_id,
        {{ ngs_any_value('target_name') }} as target_name,
        count(*) as targets,
        count(*) filter (where is_complete) as catches,
        sum(expected_completion_probability) as expected_catches,
        avg(receiver_separation_arrival_yd) as mean_separation_arrival_yd,
        max(model_version) as model_version
    from scored
    group by dataset, season, club, target_nfl_id
    having count(*) >= {{ var('min_receiver_targets') }}
)

select
    receivers.dataset::string as dataset,
    receivers.season::integer as season,
    receivers.club::string as club,
    receivers.target_nfl_id::bigint as receiver_nfl_id,
    receivers.target_name::string as receiver_name,
    players.position::string as position,
    receivers.targets::bigint as targets,
    receivers.catches::bigint as catches,
    (receivers.catches / receivers.targets)::double as catch_rate,
    (receivers.expected_catches / receivers.targets)::double as expected_catch_rate,
    (100.0 * (receivers.catches - receivers.expected_catches) / receivers.targets)::double
        as catch_rate_over_expected_pct,
    receivers.mean_separation_arrival_yd::double as mean_separation_arrival_yd,
    receivers.model_version::string as model_version
from receivers
left join {{ ref('dim_players') }} as players
    on receivers.target_nfl_id = players.nfl_id
