-- One row per tracked pass: when the ball was snapped, thrown and arrived, who threw it and to whom,
-- and how each was found ('metadata', 'event', 'inferred_nearest_ball', ...). BDB 2026 output-only plays
-- (ball in the air only): throw = first output frame, arrival = last; the target from team membership
-- (int_bdb2026_players_sided); the passer, who is not in the outputs, by the name the play description
-- gives him, where a loaded play names the same passer of the same club and season with a known id.
{%- set throw_events = "('pass_forward', 'autoevent_passforward', 'pass_shovel')" %}
{%- set outcome_events = "('pass_outcome_caught', 'pass_outcome_incomplete', 'pass_outcome_interception', 'pass_outcome_touchdown', 'pass_tipped')" %}
with

events as (
    -- the few rows that carry an event or are BDB 2026 output frames: all that frames and arrivals read
    -- (fct_tracking is read twice in all, here and in key_frames, never materialised whole)
    select game_id, play_id, source, frame_id, event, frame_phase
    from {{ ref('fct_tracking') }}
    where event is not null or frame_phase = 'output'
),

plays as (
    select * from {{ ref('fct_plays') }}
),

frames as (
    select
        game_id,
        play_id,
        {{ ngs_any_value('source') }} as source,
        min(frame_id) filter (where event in ('ball_snap', 'autoevent_ballsnap', 'snap_direct')) as snap_frame_id,
        min(frame_id) filter (where event in {{ throw_events }}) as throw_event_frame_id,
        min(frame_id) filter (where frame_phase = 'output') as first_output_frame_id,
        max(frame_id) filter (where frame_phase = 'output') as last_output_frame_id
    from events
    group by game_id, play_id
),

arrivals as (
    select
        frames.game_id,
        frames.play_id,
        min(tracking.frame_id) filter (where tracking.event = 'pass_arrived') as arrived_frame_id,
        min(tracking.frame_id) filter (where tracking.event in {{ outcome_events }}) as outcome_frame_id
    from frames
    inner join events as tracking
        on frames.game_id = tracking.game_id
        and frames.play_id = tracking.play_id
        and frames.throw_event_frame_id < tracking.frame_id
    group by frames.game_id, frames.play_id
),

passes as (
    select
        frames.game_id,
        frames.play_id,
        frames.source,
        frames.snap_frame_id,
        coalesce(frames.throw_event_frame_id, frames.first_output_frame_id) as throw_frame_id,
        case
            when frames.throw_event_frame_id is not null then 'event'
            else 'bdb2026_output_start'
        end as throw_method,
        coalesce(arrivals.arrived_frame_id, arrivals.outcome_frame_id, frames.last_output_frame_id)
            as arrival_frame_id,
        case
            when arrivals.arrived_frame_id is not null then 'event'
            when arrivals.outcome_frame_id is not null then 'outcome_event'
            when frames.last_output_frame_id is not null then 'bdb2026_output_end'
        end as arrival_method
    from frames
    left join arrivals
        on frames.game_id = arrivals.game_id
        and frames.play_id = arrivals.play_id
    where frames.throw_event_frame_id is not null
        or frames.first_output_frame_id is not null
),

pass_frames as (
    -- each pass's snap, throw and arrival frame, one row per distinct frame: the tracking joins them on
    -- equal keys (small enough to broadcast on Spark; DuckDB reads the hint as a comment)
    select game_id, play_id, snap_frame_id as frame_id
    from passes
    where snap_frame_id is not null
    union
    select game_id, play_id, throw_frame_id as frame_id
    from passes
    union
    select game_id, play_id, arrival_frame_id as frame_id
    from passes
    where arrival_frame_id is not null
),

key_frames as (
    -- every row at a pass's snap, throw or arrival frame, the columns that follow read: one scan of the
    -- tracking for all that follows
    select /*+ BROADCAST(pass_frames) */
        tracking.game_id,
        tracking.play_id,
        tracking.frame_id,
        tracking.nfl_id,
        tracking.is_ball,
        tracking.is_offense,
        tracking.position_group,
        tracking.x_std,
        tracking.y_std
    from {{ ref('fct_tracking') }} as tracking
    inner join pass_frames
        on tracking.game_id = pass_frames.game_id
        and tracking.play_id = pass_frames.play_id
        and tracking.frame_id = pass_frames.frame_id
),

ball as (
    select game_id, play_id, frame_id, x_std, y_std
    from key_frames
    where is_ball
),

ball_at as (
    select
        passes.game_id,
        passes.play_id,
        {{ ngs_any_value('ball.x_std') }} filter (where ball.frame_id = passes.snap_frame_id) as ball_snap_x_std,
        {{ ngs_any_value('ball.x_std') }} filter (where ball.frame_id = passes.throw_frame_id) as ball_throw_x_std,
        {{ ngs_any_value('ball.y_std') }} filter (where ball.frame_id = passes.throw_frame_id) as ball_throw_y_std,
        {{ ngs_any_value('ball.x_std') }} filter (where ball.frame_id = passes.arrival_frame_id) as ball_arrival_x_std,
        {{ ngs_any_value('ball.y_std') }} filter (where ball.frame_id = passes.arrival_frame_id) as ball_arrival_y_std
    from passes
    inner join ball
        on passes.game_id = ball.game_id
        and passes.play_id = ball.play_id
        and ball.frame_id in (passes.snap_frame_id, passes.throw_frame_id, passes.arrival_frame_id)
    group by passes.game_id, passes.play_id
),

stated_roles as (
    -- roles a release states: BDB 2026 player_role, 2023 pff_role, 2025 wasTargettedReceiver
    select game_id, play_id, nfl_id, player_role as role
    from {{ ref('stg_bdb2026__input_tracking') }}
    where player_role in ('Passer', 'Targeted Receiver')
    group by all
    union all
    select game_id, play_id, nfl_id, 'Passer' as role
    from {{ ref('stg_bdb_weekly__pff_roles') }}
    where pff_role = 'Pass'
    union all
    select game_id, play_id, nfl_id, 'Targeted Receiver' as role
    from {{ ref('stg_bdb_weekly__player_plays') }}
    where was_targeted
),

output_targets as (
    -- BDB 2026 output-only plays: the one offensive player of the ball-in-air tracks
    select game_id, play_id, nfl_id as target_nfl_id, target_method
    from {{ ref('int_bdb2026_players_sided') }}
    where is_target and target_method <> 'metadata'
),

stated as (
    select
        game_id,
        play_id,
        min(nfl_id) filter (where role = 'Passer') as passer_nfl_id,
        min(nfl_id) filter (where role = 'Targeted Receiver') as target_nfl_id
    from stated_roles
    group by game_id, play_id
),

lone_qb_at_throw as (
    -- the one offensive player listed as a quarterback on the field at the throw (NGS ball positions
    -- around the throw are often off by yards in older releases, so a roster position beats proximity)
    select
        passes.game_id,
        passes.play_id,
        min(tracking.nfl_id) as passer_nfl_id
    from passes
    inner join key_frames as tracking
        on passes.game_id = tracking.game_id
        and passes.play_id = tracking.play_id
        and passes.throw_frame_id = tracking.frame_id
    where tracking.is_offense and tracking.position_group = 'QB'
    group by passes.game_id, passes.play_id
    having count(distinct tracking.nfl_id) = 1
),

nearest_at_throw as (
    select
        passes.game_id,
        passes.play_id,
        {{ ngs_arg_min(
            'tracking.nfl_id',
            'power(tracking.x_std - ball_at.ball_throw_x_std, 2) + power(tracking.y_std - ball_at.ball_throw_y_std, 2)'
        ) }} as passer_nfl_id
    from passes
    inner join ball_at
        on passes.game_id = ball_at.game_id
        and passes.play_id = ball_at.play_id
    inner join key_frames as tracking
        on passes.game_id = tracking.game_id
        and passes.play_id = tracking.play_id
        and passes.throw_frame_id = tracking.frame_id
    where tracking.is_offense and not tracking.is_ball
    group by passes.game_id, passes.play_id
),

passers as (
    select
        passes.game_id,
        passes.play_id,
        coalesce(stated.passer_nfl_id, lone_qb_at_throw.passer_nfl_id, nearest_at_throw.passer_nfl_id)
            as passer_nfl_id,
        case
            when stated.passer_nfl_id is not null then 'metadata'
            when lone_qb_at_throw.passer_nfl_id is not null then 'inferred_lone_qb'
            when nearest_at_throw.passer_nfl_id is not null then 'inferred_nearest_ball'
        end as passer_method
    from passes
    left join stated
        on passes.game_id = stated.game_id
        and passes.play_id = stated.play_id
    left join lone_qb_at_throw
        on passes.game_id = lone_qb_at_throw.game_id
        and passes.play_id = lone_qb_at_throw.play_id
    left join nearest_at_throw
        on passes.game_id = nearest_at_throw.game_id
        and passes.play_id = nearest_at_throw.play_id
),

known_passer_names as (
    -- the id behind each (season, club, described name) wherever a play knows both (input roles, the lone
    -- QB on the field, ...): the id most such plays give
    select
        plays.season,
        plays.possession_club,
        plays.passer_described_name,
        mode(passers.passer_nfl_id) as passer_nfl_id
    from passers
    inner join plays
        on passers.game_id = plays.game_id
        and passers.play_id = plays.play_id
    where passers.passer_nfl_id is not null
        and plays.passer_described_name is not null
    group by plays.season, plays.possession_club, plays.passer_described_name
),

passers_named as (
    select
        passers.game_id,
        passers.play_id,
        coalesce(passers.passer_nfl_id, known_passer_names.passer_nfl_id) as passer_nfl_id,
        case
            when passers.passer_nfl_id is not null then passers.passer_method
            when known_passer_names.passer_nfl_id is not null then 'description_name'
        end as passer_method
    from passers
    left join plays
        on passers.game_id = plays.game_id
        and passers.play_id = plays.play_id
    left join known_passer_names
        on plays.season = known_passer_names.season
        and plays.possession_club = known_passer_names.possession_club
        and plays.passer_described_name = known_passer_names.passer_described_name
),

nearest_at_arrival as (
    select
        passes.game_id,
        passes.play_id,
        {{ ngs_arg_min(
            'tracking.nfl_id',
            'power(tracking.x_std - ball_at.ball_arrival_x_std, 2) + power(tracking.y_std - ball_at.ball_arrival_y_std, 2)'
        ) }} as target_nfl_id
    from passes
    inner join ball_at
        on passes.game_id = ball_at.game_id
        and passes.play_id = ball_at.play_id
    inner join passers
        on passes.game_id = passers.game_id
        and passes.play_id = passers.play_id
    inner join key_frames as tracking
        on passes.game_id = tracking.game_id
        and passes.play_id = tracking.play_id
        and passes.arrival_frame_id = tracking.frame_id
    where tracking.is_offense
        and not tracking.is_ball
        and tracking.nfl_id is distinct from passers.passer_nfl_id
        and tracking.position_group is distinct from 'OL'  -- linemen are not eligible receivers
    group by passes.game_id, passes.play_id
)

select
    passes.game_id,
    passes.play_id,
    passes.source,
    passes.snap_frame_id,
    passes.throw_frame_id,
    passes.arrival_frame_id,
    passers_named.passer_nfl_id,
    passers_named.passer_method,
    coalesce(stated.target_nfl_id, output_targets.target_nfl_id, nearest_at_arrival.target_nfl_id)
        as target_nfl_id,
    case
        when stated.target_nfl_id is not null then 'metadata'
        when output_targets.target_nfl_id is not null then output_targets.target_method
        when nearest_at_arrival.target_nfl_id is not null then 'inferred_nearest_ball'
    end as target_method,
    plays.possession_club,
    plays.passer_described_name,
    plays.target_described_name,
    plays.pass_result,
    plays.is_complete,
    coalesce(ball_at.ball_snap_x_std, plays.line_of_scrimmage_x_std) as line_of_scrimmage_x_std,
    ball_at.ball_throw_x_std,
    ball_at.ball_throw_y_std,
    ball_at.ball_arrival_x_std,
    ball_at.ball_arrival_y_std,
    passes.throw_method,
    passes.arrival_method
from passes
left join passers_named
    on passes.game_id = passers_named.game_id
    and passes.play_id = passers_named.play_id
left join stated
    on passes.game_id = stated.game_id
    and passes.play_id = stated.play_id
left join output_targets
    on passes.game_id = output_targets.game_id
    and passes.play_id = output_targets.play_id
left join nearest_at_arrival
    on passes.game_id = nearest_at_arrival.game_id
    and passes.play_id = nearest_at_arrival.play_id
left join ball_at
    on passes.game_id = ball_at.game_id
    and passes.play_id = ball_at.play_id
left join plays
    on passes.game_id = plays.game_id
    and passes.play_id = plays.play_id
