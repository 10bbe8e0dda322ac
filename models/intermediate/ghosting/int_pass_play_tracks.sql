-- The warehouse's pass plays as the ghosting model reads them: the defensive backs and the targeted
-- receiver from the throw to the arrival (fct_pass_events), one row per game, play, player and frame, in
-- standardised coordinates, with what the model knows about the play (ball landing spot, down, distance,
-- line of scrimmage) and the game's week and dataset (int_passes_described). BDB 2026 plays are left out: their
-- ball-in-air frames are int_ball_in_air_tracks (targeted receiver and every defender in coverage).
with

passes as (
    select * from {{ ref('int_passes_described') }}
    where throw_frame_id is not null
        and target_nfl_id is not null
),

tracking as (
    select
        game_id,
        play_id,
        nfl_id,
        frame_id,
        source,
        position_group,
        x_std,
        y_std
    from {{ ref('fct_tracking') }}
    where not coalesce(is_ball, false)
        and source is distinct from 'bdb2026'
)

select
    tracking.game_id,
    tracking.play_id,
    tracking.nfl_id,
    tracking.frame_id,
    tracking.frame_id - passes.throw_frame_id + 1 as air_frame,
    passes.throw_frame_id,
    passes.arrival_frame_id,
    tracking.source,
    passes.dataset,
    passes.season,
    passes.week,
    tracking.position_group,
    tracking.nfl_id = passes.target_nfl_id as is_target,
    tracking.x_std,
    tracking.y_std,
    passes.ball_arrival_x_std as ball_land_x_std,
    passes.ball_arrival_y_std as ball_land_y_std,
    passes.down,
    passes.yards_to_go,
    passes.line_of_scrimmage_x_std
from tracking
inner join passes
    on tracking.game_id = passes.game_id
    and tracking.play_id = passes.play_id
where tracking.frame_id >= passes.throw_frame_id
    and (passes.arrival_frame_id is null or tracking.frame_id <= passes.arrival_frame_id)
    and (tracking.position_group = 'DB' or tracking.nfl_id = passes.target_nfl_id)
