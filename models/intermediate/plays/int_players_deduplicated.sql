-- One row per player: a release's players file wins over attributes read off tracking rows, and within
-- those the most complete row wins.
with

ranked as (
    select
        *,
        row_number() over (
            partition by nfl_id
            order by
                {{ source_priority('source') }},
                cast(height_in is not null as int) + cast(weight_lb is not null as int)
                + cast(position is not null as int) desc
        ) as source_rank
    from {{ ref('int_players_unioned') }}
    where nfl_id is not null
)

select
    ranked.nfl_id,
    ranked.display_name,
    ranked.position,
    position_groups.position_group,
    ranked.height_in,
    ranked.weight_lb,
    ranked.source
from ranked
left join {{ ref('position_groups') }} as position_groups
    on ranked.position = position_groups.position
where ranked.source_rank = 1
