with

source as (
    select * from {{ source('bdb2019', 'plays') }}
),

renamed as (
    select
        'bdb2019' as source,
        "gameId" as game_id,
        "playId" as play_id,
        quarter,
        down,
        "yardsToGo" as yards_to_go,
        "possessionTeam" as possession_club,
        cast(null as string) as defensive_club,
        "yardlineSide" as yardline_side,
        "yardlineNumber" as yardline_number,
        cast(null as double) as absolute_yardline_number,
        "playDescription" as play_description,
        upper("PassResult") as pass_result,
        "PlayResult" as yards_gained,
        "offenseFormation" as offense_formation,
        cast(null as string) as pass_coverage,
        upper("isSTPlay") = 'TRUE' as is_special_teams
    from source
)

select * from renamed
