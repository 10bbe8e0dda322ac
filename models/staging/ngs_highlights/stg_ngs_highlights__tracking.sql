with

source as (
    select * from {{ source('ngs_highlights', 'tracking') }}
),

renamed as (
    select
        'ngs_highlights' as source,
        source_file,
        source_row,
        "gameId" as game_id,
        "playId" as play_id,
        cast("nflId" as bigint) as nfl_id,
        frame as frame_id,
        cast(null as string) as frame_phase,
        time,
        "displayName" as display_name,
        cast("jerseyNumber" as integer) as jersey_number,
        "teamAbbr" as club,
        case "homeTeamFlag" when 1 then 'home' when 0 then 'away' end as team_side,
        "nflId" is null as is_ball,
        case when "nflId" is not null then "possessionFlag" = 1 end as is_offense,
        upper(position) as position,
        case when lower("playDirection") in ('left', 'right') then lower("playDirection") end as play_direction,
        x,
        y,
        s,
        cast(null as double) as a,
        cast(null as double) as dis,
        o,
        dir,
        lower(event) as event,
        -- the values this release may hold (seeds/quality_rules.csv): a row breaking one is quarantined
        -- (its frames count from 0)
        nullif(concat_ws(
            ',',
            case when frame < 0 then 'invalid_frame_id' end,
            case when not {{ ngs_regexp_full_match('"teamAbbr"', '[A-Z]{2,3}') }} then 'unexpected_team' end,
            case
                when lower("playDirection") not in ('left', 'right') then 'unexpected_play_direction'
            end
        ), '') as input_rules,
        -- play-level columns, repeated on every row (int_highlight_plays_extracted keeps one per play)
        "playType" as play_type,
        season,
        "seasonType" as season_type,
        week,
        quarter,
        down,
        "yardsToGo" as yards_to_go,
        "absoluteYardlineNumber" as absolute_yardline_number,
        "playDescription" as play_description
    from source
)

select * from renamed
