-- Every raw tracking row that was not let into fct_tracking, with the rule that stopped it.
select
    source,
    source_file,
    source_row,
    game_id,
    play_id,
    nfl_id,
    frame_id,
    is_ball,
    x,
    y,
    s,
    quarantine_rule as rule,
    quarantine_measured_value as measured_value,
    all_rules
from {{ ref('int_tracking_flagged') }}
where is_quarantined
