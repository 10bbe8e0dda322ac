-- one row per (game, play, player, frame): the latest delivery wins (ngs_dedupe, no QUALIFY); speed parsed
-- with ngs_try_cast (a bad value becomes null on both engines; Spark's ANSI cast would raise)
with ranked as (
    {{ ngs_dedupe(ref('toy_frames_raw'), ['game_id', 'play_id', 'nfl_id', 'frame_id'], 'load_rank desc',
                  columns=none) }}
)

select
    {{ ngs_star_except(ref('toy_frames_raw'), ['speed_raw', 'load_rank'], prefix='ranked') }},
    {{ ngs_try_cast('ranked.speed_raw', 'double') }} as speed_yps,
    {{ ngs_cast('ranked.load_rank', 'integer') }} as load_rank
from ranked
