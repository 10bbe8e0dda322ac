{#- Which release wins when two describe the same game, play or player (1 = first): the official
    weekly releases, then 2019, then the 2026 prediction track, then the NGS highlights. -#}
{% macro source_priority(col='source') -%}
    case {{ col }} when 'bdb_weekly' then 1 when 'bdb2019' then 2 when 'bdb2026' then 3 else 4 end
{%- endmacro %}
