{#-
  Scalar and aggregate functions whose names or semantics differ between DuckDB and Spark.
  ngs_arg_max(value, key) / ngs_arg_min: the value at the largest / smallest key (DuckDB arg_max; Spark max_by).
  ngs_int_div(a, b): integer division truncating toward zero for positive operands (DuckDB `//`, Spark `div`).
  ngs_list_element(list, i): the i-th element, 1-based (DuckDB list[i]; Spark arrays index from 0 with [],
    so element_at, 1-based); null when out of range on both (Spark: try_element_at, ANSI-safe).
  ngs_list_contains(list, value): DuckDB list_contains; Spark array_contains.
  ngs_regexp_matches(text, pattern, ignore_case=false): a partial match (DuckDB regexp_matches with 'i';
    Spark rlike with (?i)). Patterns: the common subset of RE2 and Java regex (\b, \s, \d, classes).
  ngs_parse_date(text, duckdb_format): a date or null where the text does not parse (DuckDB try_strptime;
    Spark try_to_timestamp with the Java pattern translated from the strftime one: %Y %m %d %H %M %S).
-#}
{% macro ngs_arg_max(value, key) -%}{{ return((adapter.dispatch('ngs_arg_max') if adapter is defined else duckdb__ngs_arg_max)(value, key)) }}{%- endmacro %}
{% macro duckdb__ngs_arg_max(value, key) -%}arg_max({{ value }}, {{ key }}){%- endmacro %}
{% macro spark__ngs_arg_max(value, key) -%}max_by({{ value }}, {{ key }}){%- endmacro %}

{% macro ngs_arg_min(value, key) -%}{{ return((adapter.dispatch('ngs_arg_min') if adapter is defined else duckdb__ngs_arg_min)(value, key)) }}{%- endmacro %}
{% macro duckdb__ngs_arg_min(value, key) -%}arg_min({{ value }}, {{ key }}){%- endmacro %}
{% macro spark__ngs_arg_min(value, key) -%}min_by({{ value }}, {{ key }}){%- endmacro %}

{% macro ngs_int_div(a, b) -%}{{ return((adapter.dispatch('ngs_int_div') if adapter is defined else duckdb__ngs_int_div)(a, b)) }}{%- endmacro %}
{% macro duckdb__ngs_int_div(a, b) -%}({{ a }} // {{ b }}){%- endmacro %}
{% macro spark__ngs_int_div(a, b) -%}({{ a }} div {{ b }}){%- endmacro %}

{% macro ngs_list_element(list, i) -%}{{ return((adapter.dispatch('ngs_list_element') if adapter is defined else duckdb__ngs_list_element)(list, i)) }}{%- endmacro %}
{% macro duckdb__ngs_list_element(list, i) -%}({{ list }})[{{ i }}]{%- endmacro %}
{% macro spark__ngs_list_element(list, i) -%}try_element_at({{ list }}, {{ i }}){%- endmacro %}

{% macro ngs_list_contains(list, value) -%}{{ return((adapter.dispatch('ngs_list_contains') if adapter is defined else duckdb__ngs_list_contains)(list, value)) }}{%- endmacro %}
{% macro duckdb__ngs_list_contains(list, value) -%}list_contains({{ list }}, {{ value }}){%- endmacro %}
{% macro spark__ngs_list_contains(list, value) -%}array_contains({{ list }}, {{ value }}){%- endmacro %}

{% macro ngs_regexp_matches(text, pattern, ignore_case=false) -%}
    {{ return((adapter.dispatch('ngs_regexp_matches') if adapter is defined else duckdb__ngs_regexp_matches)(text, pattern, ignore_case)) }}
{%- endmacro %}
{% macro duckdb__ngs_regexp_matches(text, pattern, ignore_case) -%}
    regexp_matches({{ text }}, '{{ pattern }}'{{ ", 'i'" if ignore_case }})
{%- endmacro %}
{% macro spark__ngs_regexp_matches(text, pattern, ignore_case) -%}
    ({{ text }} rlike {{ spark__ngs_regex(('(?i)' if ignore_case else '') ~ pattern) }})
{%- endmacro %}

{% macro ngs_parse_date(text, format) -%}{{ return((adapter.dispatch('ngs_parse_date') if adapter is defined else duckdb__ngs_parse_date)(text, format)) }}{%- endmacro %}
{% macro duckdb__ngs_parse_date(text, format) -%}
    cast(try_strptime({{ text }}, '{{ format }}') as date)
{%- endmacro %}
{% macro spark__ngs_parse_date(text, format) -%}
    {%- set java = format | replace('%Y', 'yyyy') | replace('%m', 'MM') | replace('%d', 'dd')
                          | replace('%H', 'HH') | replace('%M', 'mm') | replace('%S', 'ss') -%}
    cast(try_to_timestamp({{ text }}, '{{ java }}') as date)
{%- endmacro %}

{#-
  ngs_regex(pattern): a regular expression as an SQL string literal, written as DuckDB reads it (backslashes
    as they are, '' for an apostrophe). Spark string literals treat backslashes as escapes: doubled there, and
    the apostrophe escaped as \'. For regexp_extract, regexp_replace and the like.
  ngs_regexp_full_match(text, pattern): the whole text matches (DuckDB regexp_full_match; Spark rlike ^(?:p)$).
  ngs_string_split(text, separator): a list of the parts (DuckDB string_split; Spark split, whose separator is
    a regular expression: use a separator that means itself there, e.g. ',').
  ngs_sorted_list(value, condition): an aggregate: the group's values where `condition` holds, sorted
    ascending (nulls: DuckDB keeps them, last; Spark drops them) (DuckDB list_sort(list(v) filter (where c)); Spark array_sort(collect_list(v) filter (where c))).
  ngs_cte_materialized(): DuckDB's `materialized` hint after `name as` in a CTE; nothing on Spark.
-#}
{% macro ngs_regex(pattern) -%}{{ return((adapter.dispatch('ngs_regex') if adapter is defined else default__ngs_regex)(pattern)) }}{%- endmacro %}
{% macro default__ngs_regex(pattern) -%}'{{ pattern }}'{%- endmacro %}
{% macro spark__ngs_regex(pattern) -%}'{{ pattern | replace('\\', '\\\\') | replace("''", "\\'") }}'{%- endmacro %}

{% macro ngs_regexp_full_match(text, pattern) -%}
    {{ return((adapter.dispatch('ngs_regexp_full_match') if adapter is defined else duckdb__ngs_regexp_full_match)(text, pattern)) }}
{%- endmacro %}
{% macro duckdb__ngs_regexp_full_match(text, pattern) -%}
    regexp_full_match({{ text }}, '{{ pattern }}')
{%- endmacro %}
{% macro spark__ngs_regexp_full_match(text, pattern) -%}
    ({{ text }} rlike {{ spark__ngs_regex('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}

{% macro ngs_string_split(text, separator) -%}
    {{ return((adapter.dispatch('ngs_string_split') if adapter is defined else duckdb__ngs_string_split)(text, separator)) }}
{%- endmacro %}
{% macro duckdb__ngs_string_split(text, separator) -%}string_split({{ text }}, '{{ separator }}'){%- endmacro %}
{% macro spark__ngs_string_split(text, separator) -%}split({{ text }}, '{{ separator }}'){%- endmacro %}

{% macro ngs_sorted_list(value, condition='true') -%}
    {{ return((adapter.dispatch('ngs_sorted_list') if adapter is defined else duckdb__ngs_sorted_list)(value, condition)) }}
{%- endmacro %}
{% macro duckdb__ngs_sorted_list(value, condition) -%}
    list_sort(list({{ value }}) filter (where {{ condition }}))
{%- endmacro %}
{% macro spark__ngs_sorted_list(value, condition) -%}
    array_sort(collect_list({{ value }}) filter (where {{ condition }}))
{%- endmacro %}

{% macro ngs_cte_materialized() -%}{{ return((adapter.dispatch('ngs_cte_materialized') if adapter is defined else duckdb__ngs_cte_materialized)()) }}{%- endmacro %}
{% macro default__ngs_cte_materialized() -%}{%- endmacro %}
{% macro duckdb__ngs_cte_materialized() -%}materialized{%- endmacro %}

{#- any value of the group that is not NULL (NULL only when all are): DuckDB's any_value skips NULLs, Spark's
    returns the first row's, NULL or not, unless told to ignore them -#}
{% macro ngs_any_value(value) -%}{{ return((adapter.dispatch('ngs_any_value') if adapter is defined else duckdb__ngs_any_value)(value)) }}{%- endmacro %}
{% macro duckdb__ngs_any_value(value) -%}any_value({{ value }}){%- endmacro %}
{% macro spark__ngs_any_value(value) -%}any_value({{ value }}, true){%- endmacro %}
