{#-
  ngs_ordered_list(value, order_by, descending=false): an aggregate: the group's `value`s as a list/array
  ordered by `order_by` (DuckDB `list(value order by key)`). On Spark the sort is on (key, value) pairs, so
  ties come out ordered by value; keys must not be null.
-#}
{% macro ngs_ordered_list(value, order_by, descending=false) -%}
    {{ return((adapter.dispatch('ngs_ordered_list') if adapter is defined else duckdb__ngs_ordered_list)(value, order_by, descending)) }}
{%- endmacro %}

{% macro duckdb__ngs_ordered_list(value, order_by, descending) -%}
    list({{ value }} order by {{ order_by }}{{ ' desc' if descending }}, {{ value }}{{ ' desc' if descending }})
{%- endmacro %}

{% macro spark__ngs_ordered_list(value, order_by, descending) -%}
    {%- set sorted = "array_sort(collect_list(named_struct('k', " ~ order_by ~ ", 'v', " ~ value ~ ")))" -%}
    transform({{ 'reverse(' ~ sorted ~ ')' if descending else sorted }}, e -> e.v)
{%- endmacro %}
