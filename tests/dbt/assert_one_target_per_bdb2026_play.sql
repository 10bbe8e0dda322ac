-- Every BDB 2026 output play has exactly one targeted receiver (the release puts one offensive player in
-- each output file).
select game_id, play_id, count(*) filter (where is_target) as targets
from {{ ref('int_bdb2026_players_sided') }}
group by game_id, play_id
having count(*) filter (where is_target) <> 1
