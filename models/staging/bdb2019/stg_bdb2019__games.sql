with

source as (
    select * from {{ source('bdb2019', 'games') }}
),

renamed as (
    select
        'bdb2019' as source,
        "gameId" as game_id,
        season,
        week,
        {{ ngs_parse_date('"gameDate"', '%m/%d/%Y') }} as game_date,
        "homeTeamAbbr" as home_club,
        "visitorTeamAbbr" as visitor_club
    from source
)

select * from renamed
