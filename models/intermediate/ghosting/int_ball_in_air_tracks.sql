-- The Big Data Bowl 2026 ball-in-air tracks (the release's output files: the targeted receiver and every
-- defender in coverage, from the throw until the ball arrives), as the ghosting model reads them: the
-- clean output rows of fct_tracking, one row per game, play, player and frame. Output frames follow the
-- play's input frames when an input file was loaded, so the frame after the throw (air_frame, 1 = the
-- throw) is counted from the play's first output frame. The pass's context (target, ball landing spot,
-- down, distance, week and dataset) comes from int_passes_described (every output play is a pass there;
-- the target is NULL while unknown: the model infers it from the tracks).
with

outputs as (
    select
        game_id,
        play_id,
        nfl_id,
        frame_id,
        source,
        position_group,
        x_std,
        y_std,
        min(frame_id) over (partition by game_id, play_id) as throw_frame_id,
        max(frame_id) over (partition by game_id, play_id) as arrival_frame_id
    from {{ ref('fct_tracking') }}
    where source = 'bdb2026'
        and frame_phase = 'output'
        and not coalesce(is_ball, false)
),

passes as (
    select * from {{ ref('int_passes_described') }}
)

select
    outputs.game_id,
    outputs.play_id,
    outputs.nfl_id,
    outputs.frame_id,
    outputs.frame_id - outputs.throw_frame_id + 1 as air_frame,
    outputs.throw_frame_id,
    outputs.arrival_frame_id,
    outputs.source,
    passes.dataset,
    passes.season,
    passes.week,
    outputs.position_group,
    case when passes.target_nfl_id is not null then outputs.nfl_id = passes.target_nfl_id end as is_target,
    outputs.x_std,
    outputs.y_std,
    passes.ball_arrival_x_std as ball_land_x_std,
    passes.ball_arrival_y_std as ball_land_y_std,
    passes.down,
    passes.yards_to_go,
    passes.line_of_scrimmage_x_std
from outputs
left join passes
    on outputs.game_id = passes.game_id
    and outputs.play_id = passes.play_id
