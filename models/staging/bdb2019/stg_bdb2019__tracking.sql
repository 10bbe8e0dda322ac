with

source as (
    select * from {{ source('bdb2019', 'tracking') }}
),

renamed as (
    select
        'bdb2019' as source,
        source_file,
        source_row,
        "gameId" as game_id,
        "playId" as play_id,
        cast("nflId" as bigint) as nfl_id,
        "frame.id" as frame_id,
        cast(null as string) as frame_phase,
        try_cast("time" as timestamp) as time,
        "displayName" as display_name,
        cast("jerseyNumber" as integer) as jersey_number,
        cast(null as string) as club,  -- the 2019 files say home/away; int_tracking_enriched maps it
        case when team in ('home', 'away') then team end as team_side,
        team = 'ball' as is_ball,
        cast(null as boolean) as is_offense,
        cast(null as string) as position,
        cast(null as string) as play_direction,  -- not in the 2019 release: inferred downstream
        x,
        y,
        s,
        cast(null as double) as a,
        dis,
        cast(null as double) as o,
        dir,
        lower(event) as event,
        -- the values this release may hold (seeds/quality_rules.csv): a row breaking one is quarantined
        nullif(concat_ws(
            ',',
            case when "frame.id" < 1 then 'invalid_frame_id' end,
            case when team not in ('home', 'away', 'ball') then 'unexpected_team' end
        ), '') as input_rules
    from source
)

select * from renamed
