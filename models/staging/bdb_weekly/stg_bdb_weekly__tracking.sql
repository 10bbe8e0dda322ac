with

source as (
    select * from {{ source('bdb_weekly', 'tracking') }}
),

renamed as (
    select
        'bdb_weekly' as source,
        source_file,
        source_row,
        "gameId" as game_id,
        "playId" as play_id,
        cast("nflId" as bigint) as nfl_id,
        "frameId" as frame_id,
        lower("frameType") as frame_phase,
        try_cast("time" as timestamp) as time,
        "displayName" as display_name,
        cast("jerseyNumber" as integer) as jersey_number,
        case when coalesce(club, team) <> 'football' then coalesce(club, team) end as club,
        cast(null as varchar) as team_side,
        coalesce(club, team) = 'football' or "nflId" is null as is_ball,
        cast(null as boolean) as is_offense,
        upper(position) as position,
        lower("playDirection") as play_direction,
        x,
        y,
        s,
        a,
        dis,
        o,
        dir,
        lower(event) as event
    from source
)

select * from renamed
