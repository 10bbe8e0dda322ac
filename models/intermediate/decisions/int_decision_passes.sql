-- The passes the QB-decision models make counterfactuals of: every pass with a throw frame, with its
-- frames, passer and target (fct_pass_events), the ball at the snap (fct_tracking: where the lineman rule
-- measures from), down and distance (fct_plays) and the game's dataset (dim_games). One row per pass.
with

passes as (
    select
        game_id,
        play_id,
        snap_frame_id,
        throw_frame_id,
        arrival_frame_id,
        passer_nfl_id,
        target_nfl_id,
        line_of_scrimmage_x_std,
        ball_throw_x_std,
        ball_throw_y_std,
        ball_arrival_x_std,
        ball_arrival_y_std,
    from {{ ref('fct_pass_events') }}
    where throw_frame_id is not null
),

ball_at_snap as (
    select
        tracking.game_id,
        tracking.play_id,
        tracking.x_std,
        tracking.y_std,
    from {{ ref('fct_tracking') }} as tracking
    inner join passes
        on tracking.game_id = passes.game_id
        and tracking.play_id = passes.play_id
        and tracking.frame_id = passes.snap_frame_id
    where tracking.is_ball
),

plays as (
    select game_id, play_id, down, yards_to_go,
    from {{ ref('fct_plays') }}
),

games as (
    select game_id, dataset,
    from {{ ref('dim_games') }}
)

select
    passes.game_id,
    passes.play_id,
    games.dataset,
    passes.snap_frame_id,
    passes.throw_frame_id,
    passes.arrival_frame_id,
    passes.passer_nfl_id,
    passes.target_nfl_id,
    passes.line_of_scrimmage_x_std,
    passes.ball_throw_x_std,
    passes.ball_throw_y_std,
    passes.ball_arrival_x_std,
    passes.ball_arrival_y_std,
    ball_at_snap.x_std as ball_snap_x_std,
    ball_at_snap.y_std as ball_snap_y_std,
    plays.down,
    plays.yards_to_go,
from passes
left join ball_at_snap
    on passes.game_id = ball_at_snap.game_id
    and passes.play_id = ball_at_snap.play_id
left join plays
    on passes.game_id = plays.game_id
    and passes.play_id = plays.play_id
left join games
    on passes.game_id = games.game_id
