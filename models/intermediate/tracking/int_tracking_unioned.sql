-- Every vintage's tracking in the canonical columns. BDB 2026 output frames (frame_id restarting at 1 at
-- the throw) are sequenced after that play's input frames, take the players' name and position from the
-- input file when it was loaded, and their side and club from int_bdb2026_players_sided (stated by the
-- input roles, else inferred from team membership).
with

bdb2019 as (
    select {{ tracking_columns() }} from {{ ref('stg_bdb2019__tracking') }}
),

bdb_weekly as (
    select {{ tracking_columns() }} from {{ ref('stg_bdb_weekly__tracking') }}
),

ngs_highlights as (
    select {{ tracking_columns() }} from {{ ref('stg_ngs_highlights__tracking') }}
),

bdb2026_input as (
    select {{ tracking_columns() }} from {{ ref('stg_bdb2026__input_tracking') }}
),

bdb2026_input_plays as (
    select
        game_id,
        play_id,
        max(frame_id) as last_input_frame_id,
        {{ ngs_any_value('play_direction') }} as play_direction
    from bdb2026_input
    group by game_id, play_id
),

bdb2026_input_players as (
    select
        game_id,
        play_id,
        nfl_id,
        {{ ngs_any_value('display_name') }} as display_name,
        {{ ngs_any_value('position') }} as position
    from bdb2026_input
    group by game_id, play_id, nfl_id
),

bdb2026_output as (
    select
        output_tracking.source,
        output_tracking.source_file,
        output_tracking.source_row,
        output_tracking.game_id,
        output_tracking.play_id,
        output_tracking.nfl_id,
        coalesce(input_plays.last_input_frame_id, 0) + output_tracking.output_frame_id as frame_id,
        output_tracking.frame_phase,
        cast(null as timestamp) as time,
        input_players.display_name,
        cast(null as integer) as jersey_number,
        sided.club,
        cast(null as string) as team_side,
        false as is_ball,
        sided.is_offense,
        input_players.position,
        input_plays.play_direction,
        output_tracking.x,
        output_tracking.y,
        cast(null as double) as s,
        cast(null as double) as a,
        cast(null as double) as dis,
        cast(null as double) as o,
        cast(null as double) as dir,
        cast(null as string) as event,
        output_tracking.input_rules
    from {{ ref('stg_bdb2026__output_tracking') }} as output_tracking
    left join bdb2026_input_plays as input_plays
        on output_tracking.game_id = input_plays.game_id
        and output_tracking.play_id = input_plays.play_id
    left join bdb2026_input_players as input_players
        on output_tracking.game_id = input_players.game_id
        and output_tracking.play_id = input_players.play_id
        and output_tracking.nfl_id = input_players.nfl_id
    left join {{ ref('int_bdb2026_players_sided') }} as sided
        on output_tracking.game_id = sided.game_id
        and output_tracking.play_id = sided.play_id
        and output_tracking.nfl_id = sided.nfl_id
),

unioned as (
    select * from bdb2019
    union all
    select * from bdb_weekly
    union all
    select * from ngs_highlights
    union all
    select * from bdb2026_input
    union all
    select * from bdb2026_output
)

select * from unioned
