{#-
  ngs_column_names(relation): its column names (introspected; needs a relation, not a CTE).
  ngs_star_except(relation, except, prefix): every column but `except`, as a list for a select clause: the
  `select * exclude (...)` of DuckDB, which Spark SQL does not have.
    select {{ ngs_star_except(ref('stg_x'), ['raw_line']) }} from {{ ref('stg_x') }}
-#}
{% macro ngs_column_names(relation) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- if relation is string -%}
        {{ exceptions.raise_compiler_error("ngs_column_names needs a relation (ref/source), not '" ~ relation ~ "': pass the columns explicitly for a CTE") }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{% macro ngs_star_except(relation, except=[], prefix=none) -%}
    {{ return((adapter.dispatch('ngs_star_except') if adapter is defined else duckdb__ngs_star_except)(relation, except, prefix)) }}
{%- endmacro %}

{% macro duckdb__ngs_star_except(relation, except, prefix) -%}
    {%- set star = (prefix ~ '.*') if prefix else '*' -%}
    {{ star }}{% if except %} exclude ({{ except | join(', ') }}){% endif %}
{%- endmacro %}

{% macro default__ngs_star_except(relation, except, prefix) -%}
    {%- set drop = except | map('lower') | list -%}
    {%- set kept = [] -%}
    {%- for name in ngs_column_names(relation) if name | lower not in drop -%}
        {%- do kept.append((prefix ~ '.' if prefix else '') ~ name) -%}
    {%- endfor -%}
    {%- if execute and not kept -%}
        {{ exceptions.raise_compiler_error("ngs_star_except: no column of " ~ relation ~ " is left") }}
    {%- endif -%}
    {{ kept | join(', ') if kept else '*' }}
{%- endmacro %}
