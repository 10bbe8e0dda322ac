-- Per tracked play: how much of it was clean, what was quarantined and why, and frames missing.
select
    game_id,
    play_id,
    {{ ngs_any_value('source') }} as source,
    count(*) as raw_rows,
    count(*) filter (where not is_quarantined) as clean_rows,
    count(*) filter (where is_quarantined) as quarantined_rows,
    count(*) filter (where quarantine_rule = 'duplicate_key') as duplicate_key_rows,
    count(*) filter (where quarantine_rule in {{ invalid_value_rules() }}) as invalid_value_rows,
    count(*) filter (where quarantine_rule = 'off_field') as off_field_rows,
    count(*) filter (where quarantine_rule in ('teleport', 'implied_speed', 'reported_speed'))
        as speed_rule_rows,
    cast(coalesce(sum(frames_missing_before) filter (where has_frame_gap), 0) as bigint) as missing_frames,
    count(*) filter (where has_frame_gap) as frame_gaps,
    bool_or(quarantine_rule = 'play_quarantined') as is_play_quarantined
from {{ ref('int_tracking_flagged') }}
group by game_id, play_id
