{#-
  ngs_dedupe: one row per `partition_by` (the first by `order_by`) without QUALIFY (Spark 4.1 rejects it).
  `source` is a relation or a CTE name; `columns` the output columns (a list): needed for a CTE on Spark (no
  `* EXCLUDE` there); for a relation they default to its columns.
    {{ ngs_dedupe('players_unioned', ['nfl_id'], 'source_priority, updated_at desc', ['nfl_id', 'name']) }}
-#}
{% macro ngs_dedupe(source, partition_by, order_by, columns=none) -%}
    {{ return((adapter.dispatch('ngs_dedupe') if adapter is defined else duckdb__ngs_dedupe)(source, partition_by, order_by, columns)) }}
{%- endmacro %}

{% macro duckdb__ngs_dedupe(source, partition_by, order_by, columns) -%}
    select {{ columns | join(', ') if columns else '*' }}
    from {{ source }}
    qualify row_number() over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) = 1
{%- endmacro %}

{% macro default__ngs_dedupe(source, partition_by, order_by, columns) -%}
    {%- set cols = columns if columns else ngs_column_names(source) -%}
    select {{ cols | join(', ') }}
    from (
        select
            *,
            row_number() over (partition by {{ partition_by | join(', ') }} order by {{ order_by }}) as ngs_dedupe_rank
        from {{ source }}
    ) as ranked
    where ngs_dedupe_rank = 1
{%- endmacro %}
