-- Every player's position and velocity at the two moments of a pass that the completion features read:
-- the throw frame and the arrival frame. fct_tracking is filtered by an equi-join on
-- (game_id, play_id, frame_id) to those two frames first, so what follows reads 2 frames per pass,
-- not every frame of every play. One row per pass, moment ('throw' | 'arrival') and player.
with

passes as (
    select
        game_id,
        play_id,
        throw_frame_id,
        arrival_frame_id,
        passer_nfl_id,
        target_nfl_id
    from {{ ref('fct_pass_events') }}
    where throw_frame_id is not null
        and arrival_frame_id is not null
),

moments as (
    select game_id, play_id, 'throw' as moment, throw_frame_id as frame_id, passer_nfl_id, target_nfl_id
    from passes
    union all
    select game_id, play_id, 'arrival' as moment, arrival_frame_id as frame_id, passer_nfl_id, target_nfl_id
    from passes
),

tracking as (
    select
        game_id,
        play_id,
        frame_id,
        nfl_id,
        is_offense,
        x_std,
        y_std,
        speed_yps,
        vx,
        vy
    from {{ ref('fct_tracking') }}
    where not is_ball
),

located as (
    select
        moments.game_id,
        moments.play_id,
        moments.moment,
        moments.frame_id,
        tracking.nfl_id,
        case
            when tracking.nfl_id = moments.passer_nfl_id then 'passer'
            when tracking.nfl_id = moments.target_nfl_id then 'target'
            when tracking.is_offense then 'offense'
            when not tracking.is_offense then 'defense'
            else 'unknown'
        end as role,
        tracking.x_std,
        tracking.y_std,
        tracking.speed_yps,
        tracking.vx,
        tracking.vy
    from moments
    inner join tracking
        on moments.game_id = tracking.game_id
        and moments.play_id = tracking.play_id
        and moments.frame_id = tracking.frame_id
)

select * from located
