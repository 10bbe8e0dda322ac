{#- Heights come as 6-4 (2021+), 6'03" (2019) or plain inches: returns inches as a double. -#}
{% macro height_to_inches(col) -%}
    case
        when {{ ngs_regexp_matches(col, "^\\s*\\d+\\s*[-'']\\s*\\d+") }}
            then cast(regexp_extract({{ col }}, {{ ngs_regex('^\\s*(\\d+)') }}, 1) as double) * 12
                + cast(regexp_extract({{ col }}, {{ ngs_regex("^\\s*\\d+\\s*[-'']\\s*(\\d+)") }}, 1) as double)
        else try_cast({{ col }} as double)
    end
{%- endmacro %}
