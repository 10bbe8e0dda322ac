{#-
  ngs_try_cast(expr, type): null where the value does not convert (DuckDB try_cast; Spark try_cast: Spark 4
  runs in ANSI mode, where a plain cast of a bad string raises). ngs_cast(expr, type): a strict cast (an
  error on a bad value, on both engines), the portable form of DuckDB's `expr::type`.
  `type` is a portable name: varchar/string/text, integer/int, bigint, smallint, double, float/real, boolean,
  date, timestamp, decimal(p,s).
-#}
{% macro ngs_type(type) -%}
    {{ return((adapter.dispatch('ngs_type') if adapter is defined else duckdb__ngs_type)(type)) }}
{%- endmacro %}

{% macro default__ngs_type(type) -%}
    {{ return(type) }}
{%- endmacro %}

{% macro duckdb__ngs_type(type) -%}
    {%- set t = type | lower | trim -%}
    {{ return({'string': 'varchar', 'text': 'varchar', 'int': 'integer', 'float': 'real'}.get(t, t)) }}
{%- endmacro %}

{% macro spark__ngs_type(type) -%}
    {%- set t = type | lower | trim -%}
    {{ return({'varchar': 'string', 'text': 'string', 'integer': 'int', 'real': 'float', 'float4': 'float',
               'float8': 'double', 'int4': 'int', 'int8': 'bigint', 'int2': 'smallint'}.get(t, t)) }}
{%- endmacro %}

{% macro ngs_try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ ngs_type(type) }})
{%- endmacro %}

{% macro ngs_cast(expr, type) -%}
    cast({{ expr }} as {{ ngs_type(type) }})
{%- endmacro %}
