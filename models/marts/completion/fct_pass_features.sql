-- Completion-probability features: one row per pass attempt with a throw frame, an arrival frame and an
-- identified target. Distances in yards, speeds in yd/s, all in the standardised frame (offence -> +x).
-- Tracking is read only at the throw and arrival frames (int_pass_players_located).
{%- set radius_yd = var('completion_defender_radius_yd') %}
with

passes as (
    select
        game_id,
        play_id,
        source,
        snap_frame_id,
        throw_frame_id,
        arrival_frame_id,
        passer_nfl_id,
        target_nfl_id,
        pass_result,
        is_complete,
        line_of_scrimmage_x_std,
        ball_throw_x_std,
        ball_throw_y_std,
        ball_arrival_x_std,
        ball_arrival_y_std,
        ball_throw_x_std is not null and ball_arrival_x_std is not null as is_ball_tracked,
    from {{ ref('fct_pass_events') }}
    where throw_frame_id is not null
        and arrival_frame_id is not null
        and target_nfl_id is not null
),

games as (
    select game_id, dataset,
    from {{ ref('dim_games') }}
),

located as materialized (
    select
        game_id,
        play_id,
        moment,
        nfl_id,
        role,
        x_std,
        y_std,
        speed_yps,
        vx,
        vy,
    from {{ ref('int_pass_players_located') }}
),

targets as (
    select game_id, play_id, moment, x_std, y_std, speed_yps, vx, vy,
    from located
    where role = 'target'
),

passers_at_throw as (
    select game_id, play_id, x_std, y_std, speed_yps,
    from located
    where role = 'passer' and moment = 'throw'
),

defenders as (
    select game_id, play_id, moment, nfl_id, x_std, y_std, vx, vy,
    from located
    where role = 'defense'
),

target_defender_offsets as (
    -- defender relative to the target: position (yd) and velocity (yd/s) differences
    select
        targets.game_id,
        targets.play_id,
        targets.moment,
        defenders.x_std - targets.x_std as dx,
        defenders.y_std - targets.y_std as dy,
        defenders.vx - targets.vx as dvx,
        defenders.vy - targets.vy as dvy,
    from targets
    inner join defenders
        on targets.game_id = defenders.game_id
        and targets.play_id = defenders.play_id
        and targets.moment = defenders.moment
),

target_defender_pairs as (
    -- closing speed = -d|p_d - p_t|/dt = -((p_d - p_t) . (v_d - v_t)) / |p_d - p_t|: > 0 while the gap shrinks
    select
        game_id,
        play_id,
        moment,
        sqrt(dx ^ 2 + dy ^ 2) as dist_yd,
        -(dx * dvx + dy * dvy) / nullif(sqrt(dx ^ 2 + dy ^ 2), 0) as closing_speed_yps,
    from target_defender_offsets
),

coverage as (
    select
        game_id,
        play_id,
        min(dist_yd) filter (where moment = 'throw') as receiver_separation_throw_yd,
        min(dist_yd) filter (where moment = 'arrival') as receiver_separation_arrival_yd,
        arg_min(closing_speed_yps, dist_yd) filter (where moment = 'arrival') as defender_closing_speed_arrival_yps,
        count(*) filter (where moment = 'arrival' and dist_yd <= {{ radius_yd }}) as defenders_within_radius_arrival,
    from target_defender_pairs
    group by game_id, play_id
),

pressure as (
    select
        passers_at_throw.game_id,
        passers_at_throw.play_id,
        min(sqrt((defenders.x_std - passers_at_throw.x_std) ^ 2 + (defenders.y_std - passers_at_throw.y_std) ^ 2))
            as passer_rusher_distance_throw_yd,
    from passers_at_throw
    inner join defenders
        on passers_at_throw.game_id = defenders.game_id
        and passers_at_throw.play_id = defenders.play_id
        and defenders.moment = 'throw'
    group by passers_at_throw.game_id, passers_at_throw.play_id
),

flight as (
    -- the ball's flight where the ball is tracked, else passer at the throw -> target at the arrival
    select
        passes.game_id,
        passes.play_id,
        case
            when passes.is_ball_tracked then 'ball'
            when passers_at_throw.x_std is not null and target_arrival.x_std is not null then 'players'
        end as air_distance_method,
        if(passes.is_ball_tracked, passes.ball_throw_x_std, passers_at_throw.x_std) as throw_x_std,
        if(passes.is_ball_tracked, passes.ball_throw_y_std, passers_at_throw.y_std) as throw_y_std,
        if(passes.is_ball_tracked, passes.ball_arrival_x_std, target_arrival.x_std) as arrival_x_std,
        if(passes.is_ball_tracked, passes.ball_arrival_y_std, target_arrival.y_std) as arrival_y_std,
    from passes
    left join targets as target_arrival
        on passes.game_id = target_arrival.game_id
        and passes.play_id = target_arrival.play_id
        and target_arrival.moment = 'arrival'
    left join passers_at_throw
        on passes.game_id = passers_at_throw.game_id
        and passes.play_id = passers_at_throw.play_id
),

features as (
    select
        passes.game_id,
        passes.play_id,
        passes.source,
        games.dataset,
        passes.passer_nfl_id,
        passes.target_nfl_id,
        passes.throw_frame_id,
        passes.arrival_frame_id,
        flight.air_distance_method,
        sqrt((flight.arrival_x_std - flight.throw_x_std) ^ 2 + (flight.arrival_y_std - flight.throw_y_std) ^ 2)
            as air_distance_yd,
        coverage.receiver_separation_throw_yd,
        coverage.receiver_separation_arrival_yd,
        pressure.passer_rusher_distance_throw_yd,
        passers_at_throw.speed_yps as passer_speed_throw_yps,
        (passes.throw_frame_id - passes.snap_frame_id) / {{ var('frame_rate_hz') }} as time_to_throw_s,
        least(target_arrival.y_std, {{ var('field_width_yd') }} - target_arrival.y_std)
            as receiver_sideline_distance_arrival_yd,
        target_arrival.speed_yps as receiver_speed_arrival_yps,
        coverage.defender_closing_speed_arrival_yps,
        case
            when target_arrival.x_std is not null then coalesce(coverage.defenders_within_radius_arrival, 0)
        end as defenders_within_radius_arrival,
        flight.arrival_x_std - passes.line_of_scrimmage_x_std as pass_depth_yd,
        passes.pass_result,
        passes.is_complete,
    from passes
    left join games
        on passes.game_id = games.game_id
    left join targets as target_arrival
        on passes.game_id = target_arrival.game_id
        and passes.play_id = target_arrival.play_id
        and target_arrival.moment = 'arrival'
    left join passers_at_throw
        on passes.game_id = passers_at_throw.game_id
        and passes.play_id = passers_at_throw.play_id
    left join flight
        on passes.game_id = flight.game_id
        and passes.play_id = flight.play_id
    left join coverage
        on passes.game_id = coverage.game_id
        and passes.play_id = coverage.play_id
    left join pressure
        on passes.game_id = pressure.game_id
        and passes.play_id = pressure.play_id
)

select
    game_id::bigint as game_id,
    play_id::bigint as play_id,
    source::varchar as source,
    dataset::varchar as dataset,
    passer_nfl_id::bigint as passer_nfl_id,
    target_nfl_id::bigint as target_nfl_id,
    throw_frame_id::integer as throw_frame_id,
    arrival_frame_id::integer as arrival_frame_id,
    air_distance_method::varchar as air_distance_method,
    air_distance_yd::double as air_distance_yd,
    receiver_separation_throw_yd::double as receiver_separation_throw_yd,
    receiver_separation_arrival_yd::double as receiver_separation_arrival_yd,
    passer_rusher_distance_throw_yd::double as passer_rusher_distance_throw_yd,
    passer_speed_throw_yps::double as passer_speed_throw_yps,
    time_to_throw_s::double as time_to_throw_s,
    receiver_sideline_distance_arrival_yd::double as receiver_sideline_distance_arrival_yd,
    receiver_speed_arrival_yps::double as receiver_speed_arrival_yps,
    defender_closing_speed_arrival_yps::double as defender_closing_speed_arrival_yps,
    defenders_within_radius_arrival::integer as defenders_within_radius_arrival,
    pass_depth_yd::double as pass_depth_yd,
    pass_result::varchar as pass_result,
    is_complete::boolean as is_complete,
from features
