-- Completion-probability features: one row per pass attempt with a throw frame, an arrival frame and an
-- identified target. Distances in yards, speeds in yd/s, all in the standardised frame (offence -> +x).
-- Tracking is read only at the throw and arrival frames (int_pass_players_located); the play's context
-- (down, distance, pass length, route, coverage, dropback) comes from fct_plays where a release states it.
{%- set radius_yd = var('completion_defender_radius_yd') %}
{%- set fps = var('frame_rate_hz') %}
{%- set length = var('field_length_yd') %}
{%- set width = var('field_width_yd') %}
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
        ball_throw_x_std is not null and ball_arrival_x_std is not null as is_ball_tracked
    from {{ ref('fct_pass_events') }}
    where throw_frame_id is not null
        and arrival_frame_id is not null
        and target_nfl_id is not null
),

plays as (
    select
        game_id,
        play_id,
        play_direction,
        down,
        yards_to_go,
        pass_length_yd,
        route,
        coverage_man_zone,
        pass_coverage,
        is_play_action,
        dropback_type,
        dropback_distance_yd,
        pass_location_type,
        defenders_in_the_box,
        offense_formation,
        receiver_alignment
    from {{ ref('fct_plays') }}
),

games as (
    select game_id, dataset, season, week
    from {{ ref('dim_games') }}
),

ball_landings as (
    -- the ball's landing spot where a release states it (BDB 2026 input files), standardised
    select
        game_id,
        play_id,
        {{ ngs_any_value('ball_land_x') }} as ball_land_x,
        {{ ngs_any_value('ball_land_y') }} as ball_land_y
    from {{ ref('stg_bdb2026__input_tracking') }}
    group by game_id, play_id
),

located as {{ ngs_cte_materialized() }} (
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
        vy
    from {{ ref('int_pass_players_located') }}
),

targets as (
    select game_id, play_id, moment, x_std, y_std, speed_yps, vx, vy
    from located
    where role = 'target'
),

passers_at_throw as (
    select game_id, play_id, x_std, y_std, speed_yps
    from located
    where role = 'passer' and moment = 'throw'
),

defenders as (
    select game_id, play_id, moment, nfl_id, x_std, y_std, speed_yps, vx, vy
    from located
    where role = 'defense'
),

target_defender_offsets as (
    -- defender relative to the target: position (yd) and velocity (yd/s) differences
    select
        targets.game_id,
        targets.play_id,
        targets.moment,
        defenders.speed_yps as defender_speed_yps,
        defenders.x_std - targets.x_std as dx,
        defenders.y_std - targets.y_std as dy,
        defenders.vx - targets.vx as dvx,
        defenders.vy - targets.vy as dvy
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
        defender_speed_yps,
        sqrt(power(dx, 2) + power(dy, 2)) as dist_yd,
        -(dx * dvx + dy * dvy) / nullif(sqrt(power(dx, 2) + power(dy, 2)), 0) as closing_speed_yps
    from target_defender_offsets
),

coverage as (
    select
        game_id,
        play_id,
        min(dist_yd) filter (where moment = 'throw') as receiver_separation_throw_yd,
        min(dist_yd) filter (where moment = 'arrival') as receiver_separation_arrival_yd,
        {{ ngs_list_element(ngs_sorted_list('dist_yd', "moment = 'throw'"), 2) }} as second_separation_throw_yd,
        {{ ngs_list_element(ngs_sorted_list('dist_yd', "moment = 'arrival'"), 2) }} as second_separation_arrival_yd,
        {{ ngs_arg_min('closing_speed_yps', 'dist_yd') }} filter (where moment = 'arrival') as defender_closing_speed_arrival_yps,
        {{ ngs_arg_min('defender_speed_yps', 'dist_yd') }} filter (where moment = 'arrival') as defender_speed_arrival_yps,
        count(*) filter (where moment = 'throw' and dist_yd <= {{ radius_yd }}) as defenders_within_radius_throw,
        count(*) filter (where moment = 'arrival' and dist_yd <= {{ radius_yd }}) as defenders_within_radius_arrival
    from target_defender_pairs
    group by game_id, play_id
),

pressure as (
    select
        passers_at_throw.game_id,
        passers_at_throw.play_id,
        min(sqrt(
            power(defenders.x_std - passers_at_throw.x_std, 2) + power(defenders.y_std - passers_at_throw.y_std, 2)
        ))
            as passer_rusher_distance_throw_yd
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
        if(passes.is_ball_tracked, passes.ball_arrival_y_std, target_arrival.y_std) as arrival_y_std
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
        games.season,
        games.week,
        passes.passer_nfl_id,
        passes.target_nfl_id,
        passes.throw_frame_id,
        passes.arrival_frame_id,
        flight.air_distance_method,
        sqrt(power(flight.arrival_x_std - flight.throw_x_std, 2) + power(flight.arrival_y_std - flight.throw_y_std, 2))
            as air_distance_yd,
        coverage.receiver_separation_throw_yd,
        coverage.receiver_separation_arrival_yd,
        coverage.second_separation_throw_yd,
        coverage.second_separation_arrival_yd,
        (coverage.receiver_separation_throw_yd - coverage.receiver_separation_arrival_yd)
        / nullif((passes.arrival_frame_id - passes.throw_frame_id) / {{ fps }}, 0) as separation_closed_yps,
        pressure.passer_rusher_distance_throw_yd,
        passers_at_throw.speed_yps as passer_speed_throw_yps,
        (passes.throw_frame_id - passes.snap_frame_id) / {{ fps }} as time_to_throw_s,
        (passes.arrival_frame_id - passes.throw_frame_id) / {{ fps }} as time_in_air_s,
        least(target_arrival.y_std, {{ width }} - target_arrival.y_std) as receiver_sideline_distance_arrival_yd,
        target_arrival.speed_yps as receiver_speed_arrival_yps,
        coverage.defender_closing_speed_arrival_yps,
        coverage.defender_speed_arrival_yps,
        case
            when target_arrival.x_std is not null then coalesce(coverage.defenders_within_radius_throw, 0)
        end as defenders_within_radius_throw,
        case
            when target_arrival.x_std is not null then coalesce(coverage.defenders_within_radius_arrival, 0)
        end as defenders_within_radius_arrival,
        flight.arrival_x_std - passes.line_of_scrimmage_x_std as pass_depth_yd,
        coalesce(plays.pass_length_yd, flight.arrival_x_std - passes.line_of_scrimmage_x_std) as pass_length_yd,
        case
            when plays.pass_length_yd is not null then 'metadata'
            when flight.arrival_x_std is not null and passes.line_of_scrimmage_x_std is not null then 'tracking'
        end as pass_length_method,
        {{ length }} - 10 - passes.line_of_scrimmage_x_std as yards_to_goal,
        sqrt(
            power(
                target_arrival.x_std
                - if(plays.play_direction = 'left', {{ length }} - ball_landings.ball_land_x, ball_landings.ball_land_x),
                2
            )
            + power(
                target_arrival.y_std
                - if(plays.play_direction = 'left', {{ width }} - ball_landings.ball_land_y, ball_landings.ball_land_y),
                2
            )
        ) as receiver_ball_land_distance_yd,
        plays.down,
        plays.yards_to_go,
        plays.is_play_action::int as is_play_action,
        plays.dropback_distance_yd,
        plays.defenders_in_the_box,
        plays.route,
        plays.coverage_man_zone,
        plays.pass_coverage,
        plays.dropback_type,
        plays.pass_location_type,
        plays.offense_formation,
        plays.receiver_alignment,
        passes.pass_result,
        passes.is_complete
    from passes
    left join games
        on passes.game_id = games.game_id
    left join plays
        on passes.game_id = plays.game_id
        and passes.play_id = plays.play_id
    left join ball_landings
        on passes.game_id = ball_landings.game_id
        and passes.play_id = ball_landings.play_id
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
    source::string as source,
    dataset::string as dataset,
    season::integer as season,
    week::integer as week,
    passer_nfl_id::bigint as passer_nfl_id,
    target_nfl_id::bigint as target_nfl_id,
    throw_frame_id::integer as throw_frame_id,
    arrival_frame_id::integer as arrival_frame_id,
    air_distance_method::string as air_distance_method,
    air_distance_yd::double as air_distance_yd,
    receiver_separation_throw_yd::double as receiver_separation_throw_yd,
    receiver_separation_arrival_yd::double as receiver_separation_arrival_yd,
    second_separation_throw_yd::double as second_separation_throw_yd,
    second_separation_arrival_yd::double as second_separation_arrival_yd,
    separation_closed_yps::double as separation_closed_yps,
    passer_rusher_distance_throw_yd::double as passer_rusher_distance_throw_yd,
    passer_speed_throw_yps::double as passer_speed_throw_yps,
    time_to_throw_s::double as time_to_throw_s,
    time_in_air_s::double as time_in_air_s,
    receiver_sideline_distance_arrival_yd::double as receiver_sideline_distance_arrival_yd,
    receiver_speed_arrival_yps::double as receiver_speed_arrival_yps,
    defender_closing_speed_arrival_yps::double as defender_closing_speed_arrival_yps,
    defender_speed_arrival_yps::double as defender_speed_arrival_yps,
    defenders_within_radius_throw::integer as defenders_within_radius_throw,
    defenders_within_radius_arrival::integer as defenders_within_radius_arrival,
    pass_depth_yd::double as pass_depth_yd,
    pass_length_yd::double as pass_length_yd,
    pass_length_method::string as pass_length_method,
    yards_to_goal::double as yards_to_goal,
    receiver_ball_land_distance_yd::double as receiver_ball_land_distance_yd,
    down::integer as down,
    yards_to_go::integer as yards_to_go,
    is_play_action::integer as is_play_action,
    dropback_distance_yd::double as dropback_distance_yd,
    defenders_in_the_box::double as defenders_in_the_box,
    route::string as route,
    coverage_man_zone::string as coverage_man_zone,
    pass_coverage::string as pass_coverage,
    dropback_type::string as dropback_type,
    pass_location_type::string as pass_location_type,
    offense_formation::string as offense_formation,
    receiver_alignment::string as receiver_alignment,
    pass_result::string as pass_result,
    is_complete::boolean as is_complete
from features
