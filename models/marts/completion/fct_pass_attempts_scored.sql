-- One row per labelled pass attempt with its out-of-sample completion probability, the passer and the
-- targeted receiver (ids where known, names always where anything names them), season, week and team:
-- what the completion leaderboards aggregate, and what a dashboard filters by week.
with

features as (
    select * from {{ ref('fct_pass_features') }}
    where is_complete is not null
),

probability as (
    select * from {{ ref('fct_completion_probability') }}
    where expected_completion_probability is not null
),

events as (
    select game_id, play_id, possession_club, passer_described_name, target_described_name
    from {{ ref('fct_pass_events') }}
),

players as (
    select nfl_id, display_name
    from {{ ref('dim_players') }}
)

select
    features.game_id::bigint as game_id,
    features.play_id::bigint as play_id,
    features.dataset::string as dataset,
    features.season::integer as season,
    features.week::integer as week,
    events.possession_club::string as club,
    features.passer_nfl_id::bigint as passer_nfl_id,
    coalesce(passers.display_name, events.passer_described_name)::string as passer_name,
    events.passer_described_name::string as passer_described_name,
    features.target_nfl_id::bigint as target_nfl_id,
    coalesce(targets.display_name, events.target_described_name)::string as target_name,
    features.is_complete::boolean as is_complete,
    features.receiver_separation_arrival_yd::double as receiver_separation_arrival_yd,
    probability.expected_completion_probability::double as expected_completion_probability,
    (features.is_complete::int - probability.expected_completion_probability)::double
        as completion_over_expected,
    probability.in_training::boolean as in_training,
    probability.model_version::string as model_version
from features
inner join probability
    on features.game_id = probability.game_id
    and features.play_id = probability.play_id
left join events
    on features.game_id = events.game_id
    and features.play_id = events.play_id
left join players as passers
    on features.passer_nfl_id = passers.nfl_id
left join players as targets
    on features.target_nfl_id = targets.nfl_id
