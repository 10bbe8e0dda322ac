-- The passes the QB-decision models make counterfactuals of: every pass with a throw frame, with its
-- frames, passer, target, down, distance and the game's dataset (int_passes_described) and the ball at the
-- snap (fct_tracking: where the lineman rule measures from). One row per pass.
with

passes as (
    select * from {{ ref('int_passes_described') }}
    where throw_frame_id is not null
),

ball_at_snap as (
    select
        tracking.game_id,
        tracking.play_id,
        tracking.x_std,
        tracking.y_std
    from {{ ref('fct_tracking') }} as tracking
    inner join passes
        on tracking.game_id = passes.game_id
        and tracking.play_id = passes.play_id
        and tracking.frame_id = passes.snap_frame_id
    where tracking.is_ball
)

select
    passes.game_id,
    passes.play_id,
    passes.dataset,
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
    passes.down,
    passes.yards_to_go
from passes
left join ball_at_snap
    on passes.game_id = ball_at_snap.game_id
    and passes.play_id = ball_at_snap.play_id
