{#-
  ngs_struct({'name': 'expression', ...}): a struct value (DuckDB struct_pack, Spark named_struct); fields in
  the dict's order. Field access `s.name` is the same on both engines.
-#}
{% macro ngs_struct(fields) -%}
    {{ return((adapter.dispatch('ngs_struct') if adapter is defined else duckdb__ngs_struct)(fields)) }}
{%- endmacro %}

{% macro duckdb__ngs_struct(fields) -%}
    struct_pack({% for name, expr in fields.items() %}{{ name }} := {{ expr }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}

{% macro spark__ngs_struct(fields) -%}
    named_struct({% for name, expr in fields.items() %}'{{ name }}', {{ expr }}{{ ', ' if not loop.last }}{% endfor %})
{%- endmacro %}
