-- a player's path through a play: ordered lists (ngs_ordered_list) and a struct (ngs_struct)
select
    game_id,
    play_id,
    nfl_id,
    count(*) as n_frames,
    {{ ngs_ordered_list('frame_id', 'frame_id') }} as frame_ids,
    {{ ngs_ordered_list('x', 'frame_id', descending=true) }} as xs_last_first,
    {{ ngs_struct({'first_frame': 'min(frame_id)', 'last_frame': 'max(frame_id)',
                   'mean_x': 'avg(x)'}) }} as span
from {{ ref('toy_frames_clean') }}
group by game_id, play_id, nfl_id
