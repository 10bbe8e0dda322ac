-- Defensive backs ranked by their mean closing score on real trajectories (negative = closes fastest),
-- with the model's ghost of the same plays for comparison: closing_vs_ghost < 0 = closed better than
-- the ghost of an average defender would have. Only defenders with enough trajectories.
with

scores as (
    select * from {{ ref('fct_closing_scores') }}
),

players as (
    select * from {{ ref('dim_players') }}
),

per_defender as (
    select
        dataset,
        nfl_id,
        count(*) filter (where condition = 'real') as trajectories,
        avg(score) filter (where condition = 'real') as mean_score,
        avg(score) filter (where condition = 'predicted') as mean_ghost_score,
        avg(effort) filter (where condition = 'real') as mean_effort
    from scores
    group by dataset, nfl_id
),

ranked as (
    select
        per_defender.*,
        per_defender.mean_score - per_defender.mean_ghost_score as closing_vs_ghost,
        rank() over (partition by per_defender.dataset order by per_defender.mean_score) as closing_rank
    from per_defender
    where per_defender.trajectories >= {{ var('min_defender_trajectories') }}
)

select
    cast(ranked.dataset as string) as dataset,
    cast(ranked.nfl_id as bigint) as nfl_id,
    cast(players.display_name as string) as display_name,
    -- a defender of BDB 2026 output-only plays has an id and no name unless an input file names him
    cast(coalesce(players.display_name, 'nfl_id ' || ranked.nfl_id) as string) as player_label,
    cast(players.position as string) as position,
    cast(ranked.trajectories as bigint) as trajectories,
    cast(ranked.mean_score as double) as mean_score,
    cast(ranked.mean_ghost_score as double) as mean_ghost_score,
    cast(ranked.closing_vs_ghost as double) as closing_vs_ghost,
    cast(ranked.mean_effort as double) as mean_effort,
    cast(ranked.closing_rank as bigint) as closing_rank
from ranked
left join players on ranked.nfl_id = players.nfl_id
