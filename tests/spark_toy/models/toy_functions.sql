-- the scalar/aggregate macros of macros/cross_engine/functions.sql, one column each
with per_play as (
    select
        game_id,
        play_id,
        {{ ngs_arg_max('nfl_id', 'x') }} as leader_nfl_id,
        {{ ngs_arg_min('frame_id', 'y') }} as lowest_frame_id,
        {{ ngs_ordered_list('frame_id', 'frame_id') }} as frame_ids,
        -- NULL on the first frames: any value skips them on both engines
        {{ ngs_any_value('case when frame_id > 1 then play_id end') }} as play_id_after_frame_1
    from {{ ref('toy_frames_clean') }}
    where nfl_id = 101 or nfl_id = 202
    group by game_id, play_id
)

select
    game_id,
    play_id,
    leader_nfl_id,
    lowest_frame_id,
    play_id_after_frame_1,
    {{ ngs_int_div('game_id', 100) }} as game_date_key,
    {{ ngs_parse_date(ngs_cast(ngs_int_div('game_id', 100), 'varchar'), '%Y%m%d') }} as game_date,
    {{ ngs_parse_date("'2030-02-30'", '%Y-%m-%d') }} as impossible_date,
    {{ ngs_list_element('frame_ids', 2) }} as second_frame_id,
    {{ ngs_list_element('frame_ids', 99) }} as missing_frame_id,
    {{ ngs_list_contains('frame_ids', 20) }} as has_frame_20,
    {{ ngs_regexp_matches("'Pass SHORT to 81'", '\\bpass\\b[^.]*\\bto\\b', ignore_case=true) }} as pass_matches,
    {{ ngs_regexp_matches("'Pass SHORT to 81'", '\\bpass\\b') }} as case_sensitive_matches
from per_play
