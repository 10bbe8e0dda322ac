with

source as (
    select * from {{ source('bdb2026', 'tracking_input') }}
),

renamed as (
    select
        'bdb2026' as source,
        source_file,
        source_row,
        game_id,
        play_id,
        cast(nfl_id as bigint) as nfl_id,
        frame_id,
        'input' as frame_phase,
        cast(null as timestamp) as time,
        player_name as display_name,
        cast(null as integer) as jersey_number,
        cast(null as string) as club,
        cast(null as string) as team_side,
        false as is_ball,
        case lower(player_side) when 'offense' then true when 'defense' then false end as is_offense,
        upper(player_position) as position,
        case when lower(play_direction) in ('left', 'right') then lower(play_direction) end as play_direction,
        player_role,
        player_height,
        player_weight,
        ball_land_x,
        ball_land_y,
        absolute_yardline_number,
        x,
        y,
        s,
        a,
        cast(null as double) as dis,
        o,
        dir,
        cast(null as string) as event,
        -- the values this release may hold (seeds/quality_rules.csv): a row breaking one is quarantined
        nullif(concat_ws(
            ',',
            case when frame_id < 1 then 'invalid_frame_id' end,
            case
                when lower(play_direction) not in ('left', 'right') then 'unexpected_play_direction'
            end,
            case
                when lower(player_side) not in ('offense', 'defense') then 'unexpected_player_side'
            end,
            case
                when
                    lower(player_role)
                    not in ('passer', 'targeted receiver', 'other route runner', 'defensive coverage')
                    then 'unexpected_player_role'
            end
        ), '') as input_rules
    from source
)

select * from renamed
