-- A name for players no loaded table names: the BDB 2026 output files give ids only, and a full download's
-- input files hold the names, but a release of outputs alone does not. The targeted receiver of each output
-- play is known (int_bdb2026_players_sided), and the play description names him ("... pass short right to
-- J.Reynolds"): his name is the one most of his plays give. Defenders stay unnamed.
select
    sided.nfl_id,
    mode(described.target_described_name) as described_name,
    count(*) as described_plays,
    count(*) filter (where described.target_described_name is not null) as named_plays
from {{ ref('int_bdb2026_players_sided') }} as sided
inner join {{ ref('int_plays_players_described') }} as described
    on described.source = 'bdb2026'
    and sided.game_id = described.game_id
    and sided.play_id = described.play_id
where sided.is_target
group by sided.nfl_id
having count(described.target_described_name) > 0
