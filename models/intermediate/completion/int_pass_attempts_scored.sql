-- Labelled pass attempts with their out-of-sample completion probability, season and team: what the
-- completion leaderboards (rpt_qb_cpoe, rpt_receiver_separation) aggregate.
select
    features.game_id,
    features.play_id,
    features.dataset,
    plays.season,
    plays.possession_club as club,
    features.passer_nfl_id,
    features.target_nfl_id,
    features.is_complete,
    features.receiver_separation_arrival_yd,
    probability.expected_completion_probability,
    probability.model_version
from {{ ref('fct_pass_features') }} as features
inner join {{ ref('fct_completion_probability') }} as probability
    on features.game_id = probability.game_id
    and features.play_id = probability.play_id
left join {{ ref('fct_plays') }} as plays
    on features.game_id = plays.game_id
    and features.play_id = plays.play_id
where features.is_complete is not null
    and probability.expected_completion_probability is not null
