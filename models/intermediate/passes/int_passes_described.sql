-- Every pass of fct_pass_events with the context the pass models read: its frames, passer, target, line of
-- scrimmage and ball positions (fct_pass_events), down and distance (fct_plays) and the game's dataset,
-- season and week (dim_games). One row per pass; the ghosting and QB-decision inputs start from it.
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
        ball_arrival_y_std
    from {{ ref('fct_pass_events') }}
),

plays as (
    select game_id, play_id, down, yards_to_go
    from {{ ref('fct_plays') }}
),

games as (
    select game_id, dataset, season, week
    from {{ ref('dim_games') }}
)

select
    passes.game_id,
    passes.play_id,
    games.dataset,
    games.season,
    games.week,
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
    plays.down,
    plays.yards_to_go
from passes
left join plays
    on passes.game_id = plays.game_id
    and passes.play_id = plays.play_id
left join games
    on passes.game_id = games.game_id
