-- QB decision-making per passer: how often he threw to his best available option (highest counterfactual
-- completion probability among the eligible receivers at the throw, fct_target_options) and how much
-- completion probability he gave up when he did not, next to how closely the defenders closed on the
-- receivers he chose (fct_closing_scores, condition 'real'). Only passers with var('min_qb_attempts')
-- scored attempts; an attempt counts when the real target is one of the scored options.
with

options as (
    select
        game_id,
        play_id,
        dataset,
        passer_nfl_id,
        receiver_nfl_id,
        is_actual_target,
        is_best_option,
        n_options,
        completion_probability,
        best_completion_probability,
        cp_below_best,
        predicted_separation_yd,
        completion_model_version,
        ghosting_model_version
    from {{ ref('fct_target_options') }}
),

chosen as (
    select *
    from options
    where is_actual_target
        and completion_probability is not null
        and passer_nfl_id is not null
),

best_separation as (
    select
        game_id,
        play_id,
        max(predicted_separation_yd) filter (where is_best_option) as best_option_separation_yd
    from options
    group by game_id, play_id
),

closing as (
    -- by play: a play's closing scores carry the dataset of its game (dim_games), as its options do
    select
        game_id,
        play_id,
        avg(score) as mean_closing_score,
        count(*) as defenders
    from {{ ref('fct_closing_scores') }}
    where condition = 'real'
    group by game_id, play_id
),

players as (
    select
        nfl_id,
        display_name,
        position
    from {{ ref('dim_players') }}
),

per_passer as (
    select
        chosen.dataset,
        chosen.passer_nfl_id,
        count(*) as attempts,
        -- a double mean on both engines (Spark averages 1.0 / 0.0 as a DECIMAL: 5 decimals; docs/scale-out.md)
        avg(cast(case when chosen.is_best_option then 1 else 0 end as double)) as best_option_share,
        avg(chosen.completion_probability) as mean_chosen_cp,
        avg(chosen.best_completion_probability) as mean_best_cp,
        avg(chosen.cp_below_best) as cp_given_up,
        avg(chosen.n_options) as mean_options,
        avg(chosen.predicted_separation_yd) as mean_chosen_separation_yd,
        avg(best_separation.best_option_separation_yd) as mean_best_separation_yd,
        avg(closing.mean_closing_score) as mean_defender_closing_score,
        coalesce(sum(closing.defenders), 0) as closing_scored_defenders,
        max(chosen.completion_model_version) as completion_model_version,
        max(chosen.ghosting_model_version) as ghosting_model_version
    from chosen
    left join best_separation
        on chosen.game_id = best_separation.game_id
        and chosen.play_id = best_separation.play_id
    left join closing
        on chosen.game_id = closing.game_id
        and chosen.play_id = closing.play_id
    group by chosen.dataset, chosen.passer_nfl_id
)

select
    per_passer.dataset::string as dataset,
    per_passer.passer_nfl_id::bigint as passer_nfl_id,
    players.display_name::string as display_name,
    players.position::string as position,
    per_passer.attempts::bigint as attempts,
    per_passer.best_option_share::double as best_option_share,
    per_passer.mean_chosen_cp::double as mean_chosen_cp,
    per_passer.mean_best_cp::double as mean_best_cp,
    per_passer.cp_given_up::double as cp_given_up,
    per_passer.mean_options::double as mean_options,
    per_passer.mean_chosen_separation_yd::double as mean_chosen_separation_yd,
    per_passer.mean_best_separation_yd::double as mean_best_separation_yd,
    per_passer.mean_defender_closing_score::double as mean_defender_closing_score,
    per_passer.closing_scored_defenders::bigint as closing_scored_defenders,
    per_passer.completion_model_version::string as completion_model_version,
    per_passer.ghosting_model_version::string as ghosting_model_version
from per_passer
left join players
    on per_passer.passer_nfl_id = players.nfl_id
where per_passer.attempts >= {{ var('min_qb_attempts') }}
