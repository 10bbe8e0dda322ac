-- The seed paper's experiment: mean closing score of defenders on real trajectories, on the model's
-- ghosts, and on ghosts where 25% of defenders start with a random orientation and velocity.
-- split 'all' = every scored play, 'test' = held-out games only.
with

scores as (
    select * from {{ ref('fct_closing_scores') }}
),

by_split as (
    select
        dataset,
        'test' as split,
        condition,
        avg(score) as mean_score,
        avg(closing) as mean_closing,
        avg(superhuman_penalty) as mean_superhuman_penalty,
        count(*) as n,
        {{ ngs_any_value('model_version') }} as model_version
    from scores
    where split = 'test'
    group by dataset, condition
),

all_plays as (
    select
        dataset,
        'all' as split,
        condition,
        avg(score) as mean_score,
        avg(closing) as mean_closing,
        avg(superhuman_penalty) as mean_superhuman_penalty,
        count(*) as n,
        {{ ngs_any_value('model_version') }} as model_version
    from scores
    group by dataset, condition
),

unioned as (
    select * from by_split
    union all
    select * from all_plays
)

select
    cast(dataset as string) as dataset,
    cast(split as string) as split,
    cast(condition as string) as condition,
    cast(mean_score as double) as mean_score,
    cast(mean_closing as double) as mean_closing,
    cast(mean_superhuman_penalty as double) as mean_superhuman_penalty,
    cast(n as bigint) as n,
    cast(model_version as string) as model_version
from unioned
