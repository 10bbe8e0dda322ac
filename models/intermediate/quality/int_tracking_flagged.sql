-- Every raw tracking row, once, with its kinematics and the quality rules it breaks
-- (seeds/quality_rules.csv: names, thresholds, priorities). fct_tracking keeps the clean rows,
-- fct_tracking_quarantine the others: raw rows = clean rows + quarantined rows, per source file.
{%- set fps = var('frame_rate_hz') %}
{%- set length = var('field_length_yd') %}
{%- set width = var('field_width_yd') %}
with

rules as (
    select
        max(threshold) filter (where rule = 'off_field') as off_field_yd,
        max(threshold) filter (where rule = 'teleport') as teleport_yd_per_frame,
        max(threshold) filter (where rule = 'implied_speed') as max_implied_speed_yps,
        max(threshold) filter (where rule = 'reported_speed') as max_reported_speed_yps,
        max(threshold) filter (where rule = 'frame_gap') as max_missing_frames,
        max(threshold) filter (where rule = 'play_quarantined') as max_bad_share
    from {{ ref('quality_rules') }}
),

ranked as (
    select
        *,
        coalesce(nfl_id, -1) as track_key,  -- the ball is one track per play
        row_number() over (
            partition by game_id, play_id, coalesce(nfl_id, -1), frame_id
            order by source, source_file, source_row
        ) as key_rank
    from {{ ref('int_tracking_standardised') }}
),

motion as (
    -- steps between consecutive distinct frames of a track (duplicates excluded)
    select
        *,
        frame_id - lag(frame_id) over track as frames_elapsed,
        x_std - lag(x_std) over track as dx,
        y_std - lag(y_std) over track as dy
    from ranked
    where key_rank = 1
    window track as (partition by game_id, play_id, track_key order by frame_id)
),

velocity as (
    select
        *,
        sqrt(dx * dx + dy * dy) as step_yd,
        sqrt(dx * dx + dy * dy) / (frames_elapsed / {{ fps }}) as implied_speed_yps,
        s is not null and dir_std is not null as has_reported_velocity,
        case
            when s is not null and dir_std is not null then s * sin(radians(dir_std))
            else dx / (frames_elapsed / {{ fps }})
        end as vx,
        case
            when s is not null and dir_std is not null then s * cos(radians(dir_std))
            else dy / (frames_elapsed / {{ fps }})
        end as vy
    from motion
),

acceleration as (
    select
        *,
        (vx - lag(vx) over track) / (frames_elapsed / {{ fps }}) as ax,
        (vy - lag(vy) over track) / (frames_elapsed / {{ fps }}) as ay
    from velocity
    window track as (partition by game_id, play_id, track_key order by frame_id)
),

duplicates as (
    select * from ranked where key_rank > 1
),

all_rows as (
    select * from acceleration
    union all by name
    select * from duplicates
),

checked as (
    select
        all_rows.*,
        greatest(-x, x - {{ length }}, -y, y - {{ width }}) as beyond_field_yd,
        step_yd / frames_elapsed as step_yd_per_frame,
        greatest(frames_elapsed - 1, 0) as frames_missing_before,
        -- rules in priority order (seeds/quality_rules.csv); the first is the row's quarantine reason
        list_filter([
            case when key_rank > 1 then 'duplicate_key' end,
            case when x is null or y is null then 'missing_position' end,
            case when greatest(-x, x - {{ length }}, -y, y - {{ width }}) > rules.off_field_yd
                then 'off_field' end,
            case when not is_ball and step_yd / frames_elapsed > rules.teleport_yd_per_frame
                then 'teleport' end,
            case when not is_ball and implied_speed_yps > rules.max_implied_speed_yps
                then 'implied_speed' end,
            case when not is_ball and s > rules.max_reported_speed_yps then 'reported_speed' end
        ], lambda r: r is not null) as violated_rules,
        frames_elapsed - 1 > rules.max_missing_frames as has_frame_gap,
        rules.max_bad_share
    from all_rows
    cross join rules
),

play_shares as (
    select
        *,
        avg((len(violated_rules) > 0)::int) over (partition by game_id, play_id) as play_bad_share
    from checked
),

flagged as (
    select
        * exclude (violated_rules, max_bad_share),
        case
            when len(violated_rules) > 0 then violated_rules
            when play_bad_share > max_bad_share then ['play_quarantined']
            else violated_rules
        end as violated_rules
    from play_shares
)

select
    *,
    len(violated_rules) > 0 as is_quarantined,
    violated_rules[1] as quarantine_rule,
    case violated_rules[1]
        when 'duplicate_key' then key_rank
        when 'off_field' then beyond_field_yd
        when 'teleport' then step_yd_per_frame
        when 'implied_speed' then implied_speed_yps
        when 'reported_speed' then s
        when 'play_quarantined' then play_bad_share
    end as quarantine_measured_value
from flagged
