with

source as (
    select * from {{ source('bdb_weekly', 'plays') }}
),

renamed as (
    select
        'bdb_weekly' as source,
        "gameId" as game_id,
        "playId" as play_id,
        quarter,
        down,
        "yardsToGo" as yards_to_go,
        "possessionTeam" as possession_club,
        "defensiveTeam" as defensive_club,
        "yardlineSide" as yardline_side,
        "yardlineNumber" as yardline_number,
        "absoluteYardlineNumber" as absolute_yardline_number,
        "playDescription" as play_description,
        upper("passResult") as pass_result,
        coalesce("playResult", "yardsGained") as yards_gained,
        "offenseFormation" as offense_formation,
        coalesce("pff_passCoverage", "pff_passCoverageType") as pass_coverage,
        cast(null as boolean) as is_special_teams
    from source
)

select * from renamed
