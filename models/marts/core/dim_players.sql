-- One row per player: a release's players file wins over attributes read off tracking rows; a player no
-- table names gets the name play descriptions give him as a targeted receiver (name_source says which).
with

players as (
    select * from {{ ref('int_players_deduplicated') }}
),

described as (
    select * from {{ ref('int_players_described_names') }}
)

select
    coalesce(players.nfl_id, described.nfl_id) as nfl_id,
    coalesce(players.display_name, described.described_name) as display_name,
    players.position,
    players.position_group,
    players.height_in,
    players.weight_lb,
    coalesce(players.source, 'bdb2026') as source,
    case
        when players.display_name is not null then 'release'
        when described.described_name is not null then 'play_description'
    end as name_source
from players
full outer join described
    on players.nfl_id = described.nfl_id
