-- The passer and the targeted receiver as a play's description names them (macros/described_players.sql):
-- what play-by-play tools read from "J.Goff pass deep left to J.Reynolds". NULL where the text names none.
select
    source,
    game_id,
    play_id,
    {{ described_passer('play_description') }} as passer_described_name,
    {{ described_target('play_description') }} as target_described_name
from {{ ref('int_plays_unioned') }}
where play_description is not null
