{#- The canonical tracking columns every vintage is unioned into (docs/ARCHITECTURE.md). -#}
{% macro tracking_columns() -%}
    source, source_file, source_row, game_id, play_id, nfl_id, frame_id, frame_phase, time,
    display_name, jersey_number, club, team_side, is_ball, is_offense, position, play_direction,
    x, y, s, a, dis, o, dir, event, input_rules
{%- endmacro %}
