-- Play metadata of every vintage in one shape. Only what a release states is kept: a missing value
-- stays NULL (pass results the metadata lacks are inferred later, with their method recorded).
with

bdb2019 as (
    select
        plays.source,
        plays.game_id,
        plays.play_id,
        plays.quarter,
        plays.down,
        plays.yards_to_go,
        plays.possession_club,
        case plays.possession_club
            when games.home_club then games.visitor_club
            when games.visitor_club then games.home_club
        end as defensive_club,
        plays.absolute_yardline_number,
        plays.play_description,
        plays.pass_result,
        plays.yards_gained,
        plays.offense_formation,
        plays.pass_coverage,
        cast(null as string) as play_direction,
        cast(null as double) as ball_land_x,
        cast(null as double) as ball_land_y
    from {{ ref('stg_bdb2019__plays') }} as plays
    left join {{ ref('stg_bdb2019__games') }} as games
        on plays.game_id = games.game_id
),

bdb_weekly as (
    select
        source,
        game_id,
        play_id,
        quarter,
        down,
        yards_to_go,
        possession_club,
        defensive_club,
        absolute_yardline_number,
        play_description,
        pass_result,
        yards_gained,
        offense_formation,
        pass_coverage,
        cast(null as string) as play_direction,
        cast(null as double) as ball_land_x,
        cast(null as double) as ball_land_y
    from {{ ref('stg_bdb_weekly__plays') }}
),

ngs_highlights as (
    select
        'ngs_highlights' as source,
        game_id,
        play_id,
        quarter,
        down,
        yards_to_go,
        possession_club,
        defensive_club,
        cast(absolute_yardline_number as double) as absolute_yardline_number,
        play_description,
        cast(null as string) as pass_result,  -- not in this source: from events / description
        cast(null as double) as yards_gained,
        cast(null as string) as offense_formation,
        cast(null as string) as pass_coverage,
        play_direction,
        cast(null as double) as ball_land_x,
        cast(null as double) as ball_land_y
    from {{ ref('int_highlight_plays_extracted') }}
),

bdb2026_input_plays as (
    select
        game_id,
        play_id,
        {{ ngs_any_value('play_direction') }} as play_direction,
        {{ ngs_any_value('absolute_yardline_number') }} as absolute_yardline_number,
        {{ ngs_any_value('ball_land_x') }} as ball_land_x,
        {{ ngs_any_value('ball_land_y') }} as ball_land_y
    from {{ ref('stg_bdb2026__input_tracking') }}
    group by game_id, play_id
),

supplementary_ranked as (
    -- a play described by several loaded supplementary files (an append that brings the release's whole
    -- play table again): the row of the file loaded last wins, so a play is described once
    select
        supplementary.*,
        row_number() over (
            partition by supplementary.game_id, supplementary.play_id
            order by manifest.loaded_at desc nulls last, supplementary.source_file desc
        ) as file_rank
    from {{ ref('stg_bdb2026__supplementary') }} as supplementary
    left join {{ ref('stg_ingest__load_manifest') }} as manifest
        on supplementary.source_file = manifest.source_file
),

supplementary_latest as (
    select * from supplementary_ranked
    where file_rank = 1
),

bdb2026 as (
    select
        'bdb2026' as source,
        coalesce(input_plays.game_id, supplementary.game_id) as game_id,
        coalesce(input_plays.play_id, supplementary.play_id) as play_id,
        supplementary.quarter,
        supplementary.down,
        supplementary.yards_to_go,
        supplementary.possession_club,
        supplementary.defensive_club,
        input_plays.absolute_yardline_number,
        supplementary.play_description,
        supplementary.pass_result,
        supplementary.yards_gained,
        supplementary.offense_formation,
        supplementary.pass_coverage,
        input_plays.play_direction,
        input_plays.ball_land_x,
        input_plays.ball_land_y,
        supplementary.yardline_side,
        supplementary.yardline_number,
        supplementary.pass_length_yd,
        supplementary.route,
        supplementary.coverage_man_zone,
        supplementary.is_play_action,
        supplementary.dropback_type,
        supplementary.dropback_distance_yd,
        supplementary.pass_location_type,
        supplementary.defenders_in_the_box,
        supplementary.receiver_alignment,
        supplementary.is_nullified_by_penalty
    from bdb2026_input_plays as input_plays
    full outer join supplementary_latest as supplementary
        on input_plays.game_id = supplementary.game_id
        and input_plays.play_id = supplementary.play_id
),

-- the columns only the BDB 2026 supplementary states: NULL for the other releases
{%- set bdb2026_only -%}
    cast(null as string) as yardline_side, cast(null as integer) as yardline_number,
    cast(null as double) as pass_length_yd, cast(null as string) as route, cast(null as string) as coverage_man_zone,
    cast(null as boolean) as is_play_action, cast(null as string) as dropback_type,
    cast(null as double) as dropback_distance_yd, cast(null as string) as pass_location_type,
    cast(null as double) as defenders_in_the_box, cast(null as string) as receiver_alignment,
    cast(null as boolean) as is_nullified_by_penalty
{%- endset %}

unioned as (
    select *, {{ bdb2026_only }} from bdb2019
    union all
    select *, {{ bdb2026_only }} from bdb_weekly
    union all
    select *, {{ bdb2026_only }} from ngs_highlights
    union all
    select * from bdb2026
)

select * from unioned
