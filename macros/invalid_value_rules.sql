{#- The quality rules (seeds/quality_rules.csv) for a value a release does not allow, as an SQL list:
    counted together as invalid_value_rows in rpt_row_accounting and fct_play_quality. -#}
{% macro invalid_value_rules() -%}
    (
        'invalid_frame_id', 'unexpected_team', 'unexpected_play_direction', 'unexpected_player_side',
        'unexpected_player_role', 'impossible_motion'
    )
{%- endmacro %}
