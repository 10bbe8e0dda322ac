-- One row per game: from the releases' games files, else from the tracking alone (season and date
-- read from the game id, which NGS builds as YYYYMMDDNN; season_method says which). `dataset` is defined
-- here, once, per game: every mart that splits real from simulated data joins it.
with

from_files as (
    select
        *,
        'metadata' as season_method
    from {{ ref('int_games_unioned') }}
    qualify
        row_number() over (
            partition by game_id
            order by
                {{ source_priority('source') }},
                (home_club is not null)::int desc
        ) = 1
),

tracked_only as (
    select
        any_value(source) as source,
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
            when try_strptime(cast(game_id // 100 as varchar), '%Y%m%d') is null then null
            when month(strptime(cast(game_id // 100 as varchar), '%Y%m%d')) <= 2
                then year(strptime(cast(game_id // 100 as varchar), '%Y%m%d')) - 1
            else year(strptime(cast(game_id // 100 as varchar), '%Y%m%d'))
        end as season,
        cast(null as integer) as week,
        cast(try_strptime(cast(game_id // 100 as varchar), '%Y%m%d') as date) as game_date,
        cast(null as varchar) as home_club,
        cast(null as varchar) as visitor_club,
        'game_id' as season_method
    from tracked_only
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
        when coalesce(season, game_id // 1000000) >= {{ var('simulated_min_season') }} then 'simulated'
        else 'real'
    end as dataset,
    season,
    week,
    game_date,
    home_club,
    visitor_club,
    season_method
from games
