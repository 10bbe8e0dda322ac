select
    nfl_id,
    display_name,
    position,
    position_group,
    height_in,
    weight_lb,
    source
from {{ ref('int_players_deduplicated') }}
