with

source as (
    select * from {{ source('bdb2026', 'supplementary') }}
),

renamed as (
    select
        game_id,
        play_id,
        season,
        week,
        try_cast(game_date as date) as game_date,
        home_team_abbr as home_club,
        visitor_team_abbr as visitor_club,
        play_description,
        quarter,
        down,
        yards_to_go,
        possession_team as possession_club,
        defensive_team as defensive_club,
        upper(pass_result) as pass_result,
        yards_gained,
        team_coverage_type as pass_coverage
    from source
)

select * from renamed
