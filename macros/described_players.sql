{#- Player names in a play-by-play description, as nflverse writes them: "J.Goff", "Ja.Watson",
    "A.St. Brown", "A.O'Connell", "D.Thompson-Robinson". The passer is the name right before "pass"; the
    targeted receiver the name after "pass [incomplete] [short|deep] [left|middle|right] to" (or "intended
    for"). A description without that phrase (sacks, scrambles, spikes, "No Play" penalties, a throwaway
    with no receiver) gives NULL: nothing is guessed. -#}
{% macro described_name_regex() -%}
[A-Z][A-Za-z'']*\.\s?(?:St\.\s)?[A-Z][A-Za-z''\-]+
{%- endmacro %}

{% macro described_passer(description) -%}
    nullif(regexp_extract({{ description }}, {{ ngs_regex('(' ~ described_name_regex() ~ ')\\s+pass\\b') }}, 1), '')
{%- endmacro %}

{% macro described_target(description) -%}
    nullif(
        regexp_extract(
            {{ description }},
            {{ ngs_regex('\\bpass\\s+(?:incomplete\\s+)?(?:(?:short|deep)\\s+)?(?:(?:left|middle|right)\\s+)?'
                         ~ '(?:to|intended\\s+for)\\s+(' ~ described_name_regex() ~ ')') }},
            1
        ),
        ''
    )
{%- endmacro %}
