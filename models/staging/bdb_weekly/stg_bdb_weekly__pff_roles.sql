with

source as (
    select * from {{ source('bdb_weekly', 'pff_scouting') }}
),

renamed as (
    select
        "gameId" as game_id,
        "playId" as play_id,
        cast("nflId" as bigint) as nfl_id,
        pff_role,
        "pff_positionLinedUp" as position_lined_up
    from source
)

select * from renamed
