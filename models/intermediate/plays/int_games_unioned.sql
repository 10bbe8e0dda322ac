with

unioned as (
    select source, game_id, season, week, game_date, home_club, visitor_club
    from {{ ref('stg_bdb2019__games') }}
    union all
    select source, game_id, season, week, game_date, home_club, visitor_club
    from {{ ref('stg_bdb_weekly__games') }}
    union all
    select
        'ngs_highlights' as source,
        game_id,
        {{ ngs_any_value('season') }} as season,
        {{ ngs_any_value('week') }} as week,
        cast(null as date) as game_date,
        max(home_club) as home_club,
        max(visitor_club) as visitor_club
    from {{ ref('int_highlight_plays_extracted') }}
    group by game_id
    union all
    select
        'bdb2026' as source,
        game_id,
        {{ ngs_any_value('season') }} as season,
        {{ ngs_any_value('week') }} as week,
        {{ ngs_any_value('game_date') }} as game_date,
        {{ ngs_any_value('home_club') }} as home_club,
        {{ ngs_any_value('visitor_club') }} as visitor_club
    from {{ ref('stg_bdb2026__supplementary') }}
    group by game_id
)

select * from unioned
