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
        -- 2021 says home/away (int_tracking_enriched maps it to the club), 2022+ the club abbreviation
        case
            when coalesce(club, team) not in ('football', 'home', 'away') then coalesce(club, team)
        end as club,
        case when coalesce(club, team) in ('home', 'away') then coalesce(club, team) end as team_side,
        coalesce(club, team) = 'football' or "nflId" is null as is_ball,
        cast(null as boolean) as is_offense,
        upper(position) as position,
        case when lower("playDirection") in ('left', 'right') then lower("playDirection") end as play_direction,
        x,
        y,
        s,
        a,
        dis,
        o,
        dir,
        lower(event) as event,
        -- the values this release may hold (seeds/quality_rules.csv): a row breaking one is quarantined;
        -- int_tracking_enriched also checks a club against the game's two clubs
        nullif(concat_ws(
            ',',
            case when "frameId" < 1 then 'invalid_frame_id' end,
            case
                when coalesce(club, team) not in ('football', 'home', 'away')
                    and not {{ ngs_regexp_full_match('coalesce(club, team)', '[A-Z]{2,3}') }}
                    then 'unexpected_team'
            end,
            case
                when lower("playDirection") not in ('left', 'right') then 'unexpected_play_direction'
            end
        ), '') as input_rules
    from source
)

select * from renamed
