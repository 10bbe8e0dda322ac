-- depends_on: {{ ref('stg_ingest__load_manifest') }}
-- Every raw tracking row, once, with its kinematics and the quality rules it breaks
-- (seeds/quality_rules.csv: names, thresholds, priorities). fct_tracking keeps the clean rows,
-- fct_tracking_quarantine the others: raw rows = clean rows + quarantined rows, per source file.
--
-- One window pass per track (partition game, play, player/ball; order frame, then source priority) gives
-- everything: a row whose frame equals the previous row's is a duplicate key (the first copy is kept);
-- steps, velocity and acceleration come from the previous one and two rows. (After a duplicated frame
-- the step is measured from its last copy; in the real releases duplicates are exact copies.)
-- A row holding a value its release does not allow (staging's input_rules: a frame id below the first
-- frame, an unexpected team / play direction / player side or role; here: impossible s, a, dis, o or dir)
-- is quarantined and kept out of the valid rows' windows, so it changes no other row's kinematics.
--
-- Built in batches of whole games (dbt_project.yml: materialized batched_by_game, plan
-- macros/tracking_batches.sql): each statement reads the games batch_filter() lets through, so a season's
-- window pass runs a few million rows at a time in memory instead of spilling. Every window and the play
-- shares are partitioned by game, so the rows are the same as from one statement.
-- On an append (`ngs build --append`) only the plays that rows of newly loaded files belong to
-- (raw.load_manifest files not yet in this table) are recomputed, deleted and re-inserted whole, so tracks
-- and play shares are the same as from scratch.
{%- set fps = var('frame_rate_hz') %}
{%- set length = var('field_length_yd') %}
{%- set width = var('field_width_yd') %}
with

rules as (
    select
        max(min_threshold) filter (where rule = 'impossible_motion') as min_angle_deg,
        max(threshold) filter (where rule = 'impossible_motion') as max_angle_deg,
        max(threshold) filter (where rule = 'off_field') as off_field_yd,
        max(threshold) filter (where rule = 'teleport') as teleport_yd_per_frame,
        max(threshold) filter (where rule = 'implied_speed') as max_implied_speed_yps,
        max(threshold) filter (where rule = 'reported_speed') as max_reported_speed_yps,
        max(threshold) filter (where rule = 'frame_gap') as max_missing_frames,
        max(threshold) filter (where rule = 'play_quarantined') as max_bad_share
    from {{ ref('quality_rules') }}
),

files as (
    -- each file's place in source_file order, as an integer: the window sorts on it, and the long path
    -- stays out of the rows it buffers (a season is ~50M rows); joined back at the end
    select source_file, row_number() over (order by source_file) as file_rank
    from (select distinct source_file from {{ ref('int_tracking_unioned') }})
),

tracking as (
    select
        standardised.source,
        standardised.source_row,
        standardised.game_id,
        standardised.play_id,
        standardised.nfl_id,
        standardised.frame_id,
        standardised.frame_phase,
        standardised.time,
        standardised.display_name,
        standardised.jersey_number,
        standardised.club,
        standardised.is_ball,
        standardised.position,
        standardised.x,
        standardised.y,
        standardised.s,
        standardised.a,
        standardised.dis,
        standardised.o,
        standardised.dir,
        standardised.event,
        standardised.input_rules,
        standardised.is_offense,
        standardised.play_direction,
        standardised.direction_method,
        standardised.is_standardised,
        standardised.x_std,
        standardised.y_std,
        standardised.o_std,
        standardised.dir_std,
        files.file_rank,
        coalesce(
            standardised.s < 0 or standardised.a < 0 or standardised.dis < 0
            or standardised.o < rules.min_angle_deg or standardised.o > rules.max_angle_deg
            or standardised.dir < rules.min_angle_deg or standardised.dir > rules.max_angle_deg,
            false
        ) as breaks_impossible_motion
    from {{ ref('int_tracking_standardised') }} as standardised
    inner join files
        on standardised.source_file = files.source_file
    cross join rules
    where
        {{ batch_filter('standardised.game_id') }}
        and {{ tracking_plays_to_build('standardised') }}
),

validated as (
    select
        *,
        input_rules is null and not breaks_impossible_motion as has_valid_values
    from tracking
),

lagged as (
    -- the track rules (duplicates, steps, gaps) are measured among the rows whose values are valid only:
    -- a row with an invalid value goes to a partition of its own (a negative pseudo id: nfl ids and the
    -- ball's -1 are never below -1), so no valid row sees it
    select
        *,
        lag(frame_id) over track as prev_frame_id,
        lag(frame_id, 2) over track as prev2_frame_id,
        lag(x_std) over track as prev_x_std,
        lag(y_std) over track as prev_y_std,
        lag(x_std, 2) over track as prev2_x_std,
        lag(y_std, 2) over track as prev2_y_std,
        lag(s) over track as prev_s,
        lag(dir_std) over track as prev_dir_std
    from validated
    window track as (
        partition by
            game_id,
            play_id,
            case when has_valid_values then coalesce(nfl_id, -1) else -2 - coalesce(nfl_id, 0) end
        order by frame_id, source, file_rank, source_row
    )
),

steps as (
    select
        *,
        has_valid_values and frame_id = prev_frame_id as is_duplicate_key,
        nullif(frame_id - prev_frame_id, 0) / {{ fps }} as dt_s,
        nullif(prev_frame_id - prev2_frame_id, 0) / {{ fps }} as prev_dt_s,
        sqrt(power(x_std - prev_x_std, 2) + power(y_std - prev_y_std, 2)) as step_yd,
        s is not null and dir_std is not null as has_reported_velocity
    from lagged
),

velocity as (
    select
        *,
        step_yd / dt_s as implied_speed_yps,
        step_yd / (dt_s * {{ fps }}) as step_yd_per_frame,
        case
            when has_reported_velocity then s * sin(radians(dir_std))
            else (x_std - prev_x_std) / dt_s
        end as vx,
        case
            when has_reported_velocity then s * cos(radians(dir_std))
            else (y_std - prev_y_std) / dt_s
        end as vy,
        case
            when has_reported_velocity then prev_s * sin(radians(prev_dir_std))
            else (prev_x_std - prev2_x_std) / prev_dt_s
        end as prev_vx,
        case
            when has_reported_velocity then prev_s * cos(radians(prev_dir_std))
            else (prev_y_std - prev2_y_std) / prev_dt_s
        end as prev_vy,
        greatest(-x, x - {{ length }}, -y, y - {{ width }}) as beyond_field_yd
    from steps
),

checked as (
    select
        velocity.*,
        (velocity.vx - velocity.prev_vx) / velocity.dt_s as ax,
        (velocity.vy - velocity.prev_vy) / velocity.dt_s as ay,
        case
            when velocity.has_valid_values then greatest(coalesce(velocity.frame_id - velocity.prev_frame_id, 1) - 1, 0)
            else 0
        end as frames_missing_before,
        velocity.has_valid_values
        and coalesce(velocity.frame_id - velocity.prev_frame_id, 1) - 1 > rules.max_missing_frames as has_frame_gap,
        -- each rule, in priority order (seeds/quality_rules.csv); no rule name is part of another's, so
        -- contains() finds each in staging's comma-separated input_rules
        velocity.is_duplicate_key as breaks_duplicate_key,
        velocity.x is null or velocity.y is null or velocity.frame_id is null as breaks_missing_position,
        coalesce(contains(velocity.input_rules, 'invalid_frame_id'), false) as breaks_invalid_frame_id,
        coalesce(contains(velocity.input_rules, 'unexpected_team'), false) as breaks_unexpected_team,
        coalesce(contains(velocity.input_rules, 'unexpected_play_direction'), false) as breaks_unexpected_play_direction,
        coalesce(contains(velocity.input_rules, 'unexpected_player_side'), false) as breaks_unexpected_player_side,
        coalesce(contains(velocity.input_rules, 'unexpected_player_role'), false) as breaks_unexpected_player_role,
        coalesce(velocity.beyond_field_yd > rules.off_field_yd, false) as breaks_off_field,
        coalesce(
            velocity.has_valid_values and not velocity.is_ball
            and velocity.step_yd_per_frame > rules.teleport_yd_per_frame,
            false
        ) as breaks_teleport,
        coalesce(
            velocity.has_valid_values and not velocity.is_ball
            and velocity.implied_speed_yps > rules.max_implied_speed_yps,
            false
        ) as breaks_implied_speed,
        coalesce(not velocity.is_ball and velocity.s > rules.max_reported_speed_yps, false)
            as breaks_reported_speed,
        rules.max_bad_share
    from velocity
    cross join rules
),

ruled as (
    select
        *,
        case
            when breaks_duplicate_key then 'duplicate_key'
            when breaks_missing_position then 'missing_position'
            when breaks_invalid_frame_id then 'invalid_frame_id'
            when breaks_unexpected_team then 'unexpected_team'
            when breaks_unexpected_play_direction then 'unexpected_play_direction'
            when breaks_unexpected_player_side then 'unexpected_player_side'
            when breaks_unexpected_player_role then 'unexpected_player_role'
            when breaks_impossible_motion then 'impossible_motion'
            when breaks_off_field then 'off_field'
            when breaks_teleport then 'teleport'
            when breaks_implied_speed then 'implied_speed'
            when breaks_reported_speed then 'reported_speed'
        end as row_rule
    from checked
),

play_shares as (
    -- the play-level option: share of a play's rows that broke a row rule
    select
        game_id,
        play_id,
        avg(cast(row_rule is not null as int)) as play_bad_share
    from ruled
    group by game_id, play_id
)

select
    ruled.source,
    files.source_file,
    ruled.source_row,
    ruled.game_id,
    ruled.play_id,
    ruled.nfl_id,
    ruled.frame_id,
    ruled.frame_phase,
    ruled.time,
    ruled.display_name,
    ruled.jersey_number,
    ruled.club,
    ruled.is_ball,
    ruled.is_offense,
    ruled.position,
    ruled.play_direction,
    ruled.is_standardised,
    ruled.x,
    ruled.y,
    ruled.s,
    ruled.a,
    ruled.dis,
    ruled.o,
    ruled.dir,
    ruled.event,
    ruled.x_std,
    ruled.y_std,
    ruled.o_std,
    ruled.dir_std,
    ruled.has_reported_velocity,
    ruled.vx,
    ruled.vy,
    ruled.ax,
    ruled.ay,
    ruled.frames_missing_before,
    ruled.has_frame_gap,
    coalesce(
        ruled.row_rule,
        case when play_shares.play_bad_share > ruled.max_bad_share then 'play_quarantined' end
    ) as quarantine_rule,
    coalesce(
        ruled.row_rule,
        case when play_shares.play_bad_share > ruled.max_bad_share then 'play_quarantined' end
    ) is not null as is_quarantined,
    case
        when ruled.row_rule = 'duplicate_key' then 1
        when ruled.row_rule = 'invalid_frame_id' then ruled.frame_id
        when ruled.row_rule = 'off_field' then ruled.beyond_field_yd
        when ruled.row_rule = 'teleport' then ruled.step_yd_per_frame
        when ruled.row_rule = 'implied_speed' then ruled.implied_speed_yps
        when ruled.row_rule = 'reported_speed' then ruled.s
        when ruled.row_rule is null and play_shares.play_bad_share > ruled.max_bad_share
            then play_shares.play_bad_share
    end as quarantine_measured_value,
    concat_ws(
        ',',
        case when ruled.breaks_duplicate_key then 'duplicate_key' end,
        case when ruled.breaks_missing_position then 'missing_position' end,
        case when ruled.breaks_invalid_frame_id then 'invalid_frame_id' end,
        case when ruled.breaks_unexpected_team then 'unexpected_team' end,
        case when ruled.breaks_unexpected_play_direction then 'unexpected_play_direction' end,
        case when ruled.breaks_unexpected_player_side then 'unexpected_player_side' end,
        case when ruled.breaks_unexpected_player_role then 'unexpected_player_role' end,
        case when ruled.breaks_impossible_motion then 'impossible_motion' end,
        case when ruled.breaks_off_field then 'off_field' end,
        case when ruled.breaks_teleport then 'teleport' end,
        case when ruled.breaks_implied_speed then 'implied_speed' end,
        case when ruled.breaks_reported_speed then 'reported_speed' end,
        case
            when ruled.row_rule is null and play_shares.play_bad_share > ruled.max_bad_share
                then 'play_quarantined'
        end
    ) as all_rules
from ruled
inner join play_shares
    on ruled.game_id = play_shares.game_id
    and ruled.play_id = play_shares.play_id
inner join files
    on ruled.file_rank = files.file_rank
