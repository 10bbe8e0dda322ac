with

source as (
    select * from {{ source('bdb_weekly', 'player_play') }}
),

renamed as (
    select
        "gameId" as game_id,
        "playId" as play_id,
        cast("nflId" as bigint) as nfl_id,
        "wasTargettedReceiver" = 1 as was_targeted,
        "hadPassReception" = 1 as had_reception
    from source
)

select * from renamed
