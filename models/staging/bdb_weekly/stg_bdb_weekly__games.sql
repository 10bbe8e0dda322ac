with

source as (
    select * from {{ source('bdb_weekly', 'games') }}
),

renamed as (
    select
        'bdb_weekly' as source,
        "gameId" as game_id,
        season,
        week,
        {{ ngs_parse_date('"gameDate"', '%m/%d/%Y') }} as game_date,
        "homeTeamAbbr" as home_club,
        "visitorTeamAbbr" as visitor_club
    from source
)

select * from renamed
