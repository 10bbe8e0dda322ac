-- One row per game: from the releases' games files, else from the tracking alone (season and date
-- read from the game id, which NGS builds as YYYYMMDDNN; season_method says which). `dataset` is defined
-- here, once, per game: every mart that splits real from simulated data joins it.
with

from_files_ranked as (
    select
        *,
        'metadata' as season_method,
        row_number() over (
            partition by game_id
            order by
                {{ source_priority('source') }},
                cast(home_club is not null as int) desc
        ) as source_rank
    from {{ ref('int_games_unioned') }}
),

from_files as (
    select * from from_files_ranked
    where source_rank = 1
),

tracked_only as (
    select
        {{ ngs_any_value('source') }} as source,
        game_id
    from {{ ref('int_tracking_unioned') }}
    where game_id not in (select from_files.game_id from from_files)
    group by game_id
),

from_ids as (
    select
        source,
        game_id,
        -- NFL seasons start in September: January/February games belong to the previous season
        case
            when month(id_date) <= 2 then year(id_date) - 1
            else year(id_date)
        end as season,
        cast(null as integer) as week,
        id_date as game_date,
        cast(null as string) as home_club,
        cast(null as string) as visitor_club,
        'game_id' as season_method
    from (
        select
            *,
            {{ ngs_parse_date('cast(' ~ ngs_int_div('game_id', 100) ~ ' as string)', '%Y%m%d') }} as id_date
        from tracked_only
    ) as tracked
),

games as (
    select
        game_id,
        source,
        cast(season as integer) as season,
        cast(week as integer) as week,
        game_date,
        home_club,
        visitor_club,
        season_method
    from from_files
    union all
    select
        game_id,
        source,
        cast(season as integer) as season,
        week,
        game_date,
        home_club,
        visitor_club,
        season_method
    from from_ids
)

select
    game_id,
    source,
    -- the simulator writes fictional seasons >= var simulated_min_season (its game ids start with them)
    case
        when coalesce(season, {{ ngs_int_div('game_id', 1000000) }}) >= {{ var('simulated_min_season') }}
            then 'simulated'
        else 'real'
    end as dataset,
    season,
    week,
    game_date,
    home_club,
    visitor_club,
    season_method
from games
