-- Every play turned so the offence moves towards +x (left to right). Plays whose direction is unknown
-- (BDB 2026 outputs loaded without their input files) keep their raw coordinates: is_standardised false.
{%- set length = var('field_length_yd') %}
{%- set width = var('field_width_yd') %}
with

tracking as (
    select * from {{ ref('int_tracking_enriched') }}
),

directions as (
    select * from {{ ref('int_plays_direction_inferred') }}
),

standardised as (
    select
        tracking.source,
        tracking.source_file,
        tracking.source_row,
        tracking.game_id,
        tracking.play_id,
        tracking.nfl_id,
        tracking.frame_id,
        tracking.frame_phase,
        tracking.time,
        tracking.display_name,
        tracking.jersey_number,
        tracking.club,
        tracking.is_ball,
        tracking.position,
        tracking.x,
        tracking.y,
        tracking.s,
        tracking.a,
        tracking.dis,
        tracking.o,
        tracking.dir,
        tracking.event,
        tracking.input_rules,
        tracking.is_offense,
        directions.play_direction,
        directions.direction_method,
        directions.play_direction is not null as is_standardised,
        case when directions.play_direction = 'left' then {{ length }} - tracking.x else tracking.x end as x_std,
        case when directions.play_direction = 'left' then {{ width }} - tracking.y else tracking.y end as y_std,
        case
            when directions.play_direction = 'left' then (tracking.o + 180) % 360 else tracking.o
        end as o_std,
        case
            when directions.play_direction = 'left' then (tracking.dir + 180) % 360 else tracking.dir
        end as dir_std
    from tracking
    left join directions
        on tracking.source = directions.source
        and tracking.game_id = directions.game_id
        and tracking.play_id = directions.play_id
)

select * from standardised
