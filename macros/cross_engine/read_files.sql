{#-
  Reading raw files from SQL, portable. Both return something to put after `from`.
  ngs_read_csv(path, columns): a headed CSV with typed columns ({'name': 'portable type', ...}, in file
    order). A value that does not convert is an error naming the file on both engines (DuckDB read_csv with
    `columns`; Spark: a temporary view `using csv` with mode FAILFAST, created when the model runs).
  ngs_read_parquet(path): DuckDB read_parquet('p') (globs allowed); Spark parquet.`p` (a file or folder).
-#}
{% macro ngs_read_csv(path, columns) -%}
    {{ return((adapter.dispatch('ngs_read_csv') if adapter is defined else duckdb__ngs_read_csv)(path, columns)) }}
{%- endmacro %}

{% macro duckdb__ngs_read_csv(path, columns) -%}
    read_csv('{{ path }}', header = true, auto_detect = false, columns = {
        {%- for name, type in columns.items() %}'{{ name }}': '{{ ngs_type(type) }}'{{ ', ' if not loop.last }}{% endfor -%}
    })
{%- endmacro %}

{% macro spark__ngs_read_csv(path, columns) -%}
    {%- set view = 'ngs_csv_' ~ local_md5(path ~ (columns | string)) -%}
    {%- if execute -%}
        {%- call statement('ngs_read_csv_' ~ view) -%}
            create or replace temporary view {{ view }} (
                {%- for name, type in columns.items() %}{{ name }} {{ ngs_type(type) }}{{ ', ' if not loop.last }}{% endfor -%}
            )
            using csv
            options (path '{{ path }}', header 'true', mode 'FAILFAST')
        {%- endcall -%}
    {%- endif -%}
    {{ view }}
{%- endmacro %}

{% macro ngs_read_parquet(path) -%}
    {{ return((adapter.dispatch('ngs_read_parquet') if adapter is defined else duckdb__ngs_read_parquet)(path)) }}
{%- endmacro %}

{% macro duckdb__ngs_read_parquet(path) -%}
    read_parquet('{{ path }}')
{%- endmacro %}

{% macro spark__ngs_read_parquet(path) -%}
    parquet.`{{ path }}`
{%- endmacro %}
