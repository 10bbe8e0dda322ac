{#-
    batched_by_game: a table built in batches of whole games, one statement per batch.

    A season's tracking (~57M rows) through one window pass does not fit DuckDB's memory limit: it spilled
    ~18 GB to disk and took most of the build (docs/benchmarks.md). Built a few million rows at a time, each
    batch's window fits in memory; a model whose windows are partitioned by game (and finer) gives the same
    rows either way.

    The model marks where its input is cut with `{{ batch_filter('<game id column>') }}` in a where clause
    (rendered `true` outside this materialization: dbt compile, show and unit tests read the whole input).
    Configs:
      batch_plan   name of a macro returning `select batch_key, n_rows` (rows per game id) for what to build
      batch_rows   most rows per batch (default: env NGS_BATCH_ROWS, else 3,000,000)
      unique_key   on an append (ngs_is_appending(): the table exists, no --full-refresh) the built rows
                   replace the table's rows with the same keys (delete + insert)
    A full build goes into an intermediate table renamed over the old one at the end: a failed batch leaves
    the previous table as it was.
-#}
{% materialization batched_by_game, adapter='duckdb' %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set building_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {%- set appending = ngs_is_appending() -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- if appending and not unique_key -%}
    {{ exceptions.raise_compiler_error("batched_by_game model " ~ this ~ ": an append needs unique_key") }}
  {%- endif -%}
  {%- set max_rows = (config.get('batch_rows') or env_var('NGS_BATCH_ROWS', '3000000')) | string -%}
  {%- if not max_rows.isdigit() or max_rows | int < 1 -%}
    {{ exceptions.raise_compiler_error("batched_by_game model " ~ this ~ ": batch_rows / NGS_BATCH_ROWS must be a "
                                       ~ "positive whole number of rows, not '" ~ max_rows ~ "'") }}
  {%- endif -%}
  {%- set plan_macro = context.get(config.require('batch_plan')) -%}
  {%- if plan_macro is none -%}
    {{ exceptions.raise_compiler_error("batched_by_game model " ~ this ~ ": no macro named " ~ config.get('batch_plan')) }}
  {%- endif -%}

  {{ drop_relation_if_exists(load_cached_relation(building_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- set predicates = ngs_batch_predicates(plan_macro(), max_rows | int) -%}
  {{ log(this ~ ": " ~ predicates | length ~ " batch(es) of <= " ~ max_rows ~ " rows", info=False) }}
  {%- for predicate in predicates %}
    {%- set batch_sql = ngs_apply_batch(compiled_code, predicate) -%}
    {%- set name = 'main' if loop.last else 'batch' -%}
    {% call statement(name) -%}
      {%- if loop.first %}
      create table {{ building_relation }} as (
        {{ batch_sql }}
      )
      {%- else %}
      insert into {{ building_relation }}
      select * from (
        {{ batch_sql }}
      )
      {%- endif %}
    {%- endcall %}
  {%- endfor %}

  {%- if appending %}
    {%- set keys = unique_key if unique_key is string else unique_key | join(', ') -%}
    {% call statement('delete_replaced_keys') -%}
      delete from {{ target_relation }}
      where ({{ keys }}) in (select distinct {{ keys }} from {{ building_relation }})
    {%- endcall %}
    {% call statement('insert_built_rows') -%}
      insert into {{ target_relation }} by name
      select * from {{ building_relation }}
    {%- endcall %}
    {% do adapter.drop_relation(building_relation) %}
  {%- else %}
    {%- if existing_relation is not none %}
      {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {%- endif %}
    {{ adapter.rename_relation(building_relation, target_relation) }}
  {%- endif %}

  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- Spark: a parquet table partitioned by the game column (config partition_by, e.g. game_id).
    A full build (no table yet, --full-refresh, or a table not partitioned that way) is one statement
    through dbt-spark's table materialization (drop + create, `partitioned by`): Spark spills a window
    partition by partition, so there is no memory ceiling to cut the build under, and the batch_filter
    markers render `true`. On an append (ngs_is_appending()) the model's SQL holds only the games to rebuild
    (the model filters them: tracking_plays_to_build) and is written with `insert overwrite ... partition
    (<game column>)` under spark.sql.sources.partitionOverwriteMode = dynamic: the partitions of the games
    built are replaced, every other game's files stay as they were. -#}
{% materialization batched_by_game, adapter='spark' %}
  {%- set partition_column = ngs_partition_column() -%}
  {%- if not ngs_is_appending() -%}
    {{ log(this ~ ": full build, partitioned by " ~ partition_column, info=True) }}
    {{ return(materialization_table_spark()) }}
  {%- endif -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set columns = adapter.get_columns_in_relation(target_relation) | map(attribute='quoted') | list -%}
  {{ run_hooks(pre_hooks) }}
  {% call statement('ngs_overwrite_mode') -%}
    set spark.sql.sources.partitionOverwriteMode = dynamic
  {%- endcall %}
  {% call statement('main') -%}
    insert overwrite table {{ target_relation }}
    partition ({{ adapter.quote(partition_column) }})
    select {{ columns | join(', ') }}
    from (
    {{ compiled_code }}
    ) as ngs_rebuilt_partitions
  {%- endcall %}
  {% call statement('ngs_overwrite_mode_reset') -%}
    set spark.sql.sources.partitionOverwriteMode = static
  {%- endcall %}
  {% do persist_docs(target_relation, model) %}
  {{ run_hooks(post_hooks) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro ngs_partition_column() %}
  {#- The one column a Spark batched_by_game table is partitioned by (config partition_by). -#}
  {%- set partition_by = config.get('partition_by') -%}
  {%- if partition_by is not string and partition_by is not none and partition_by | length == 1 -%}
    {%- set partition_by = partition_by[0] -%}
  {%- endif -%}
  {%- if partition_by is not string or not partition_by -%}
    {{ exceptions.raise_compiler_error("batched_by_game model " ~ this ~ " on Spark needs partition_by: the one "
                                       ~ "game id column its appends overwrite by (e.g. game_id), not "
                                       ~ partition_by) }}
  {%- endif -%}
  {{ return(partition_by) }}
{% endmacro %}


{% macro ngs_is_appending() %}
  {#- True when the model's table exists and the run is not a --full-refresh (dbt's is_incremental() is for
      the `incremental` materialization only). On Spark the table must also be partitioned by the model's
      partition_by (a table an older build wrote unpartitioned is built again whole). -#}
  {{ return((adapter.dispatch('ngs_is_appending') if adapter is defined else duckdb__ngs_is_appending)()) }}
{% endmacro %}


{% macro duckdb__ngs_is_appending() %}
  {%- if not execute -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
  {{ return(relation is not none and relation.type == 'table' and not should_full_refresh()) }}
{% endmacro %}


{% macro spark__ngs_is_appending() %}
  {%- if not execute -%}
    {{ return(false) }}
  {%- endif -%}
  {%- set relation = adapter.get_relation(this.database, this.schema, this.identifier) -%}
  {%- if relation is none or relation.type != 'table' or should_full_refresh() -%}
    {{ return(false) }}
  {%- endif -%}
  {{ return(ngs_spark_partition_columns(relation) == [ngs_partition_column()]) }}
{% endmacro %}


{% macro ngs_spark_partition_columns(relation) %}
  {#- The partition columns of a Spark table, from `describe table` (the rows after '# Partition Information'). -#}
  {%- set described = run_query("describe table " ~ relation) -%}
  {%- set found = namespace(section=false, columns=[]) -%}
  {%- for row in described.rows -%}
    {%- set name = (row[0] or '') | trim -%}
    {%- if name == '# Partition Information' -%}
      {%- set found.section = true -%}
    {%- elif found.section and name.startswith('#') and name != '# col_name' -%}
      {%- set found.section = false -%}
    {%- elif found.section and name and name != '# col_name' -%}
      {%- do found.columns.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(found.columns) }}
{% endmacro %}


{% macro batch_filter(column) -%}
  (true /* batch_filter: {{ column }} */)
{%- endmacro %}


{% macro ngs_batch_predicates(plan_sql, max_rows) %}
  {#- Consecutive game-id ranges of <= max_rows rows each (a game is never split: one larger game is a batch
      of its own). The ranges are open at
      both ends and the last takes null ids, so every row falls in exactly one batch whatever the plan saw. -#}
  {%- set plan = run_query(
      "select batch_key, n_rows from (" ~ plan_sql ~ ") where batch_key is not null order by batch_key") -%}
  {%- set bounds = [] -%}
  {%- set acc = namespace(rows=0, last_key=none) -%}
  {%- for row in plan.rows -%}
    {%- if acc.rows > 0 and acc.rows + row[1] > max_rows -%}
      {%- do bounds.append(acc.last_key | string) -%}
      {%- set acc.rows = 0 -%}
    {%- endif -%}
    {%- set acc.rows = acc.rows + row[1] -%}
    {%- set acc.last_key = row[0] -%}
  {%- endfor -%}
  {%- set predicates = [] -%}
  {%- for bound in bounds -%}
    {%- if loop.first -%}
      {%- do predicates.append("{key} <= " ~ bound) -%}
    {%- else -%}
      {%- do predicates.append("{key} > " ~ bounds[loop.index0 - 1] ~ " and {key} <= " ~ bound) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if bounds -%}
    {%- do predicates.append("{key} > " ~ bounds[-1] ~ " or {key} is null") -%}
  {%- else -%}
    {%- do predicates.append("true") -%}
  {%- endif -%}
  {{ return(predicates) }}
{% endmacro %}


{% macro ngs_apply_batch(sql, predicate) %}
  {#- Replace every batch_filter(column) marker in the compiled SQL with the batch's predicate on column. -#}
  {%- set pattern = "\(true /\* batch_filter: ([^*]+?) \*/\)" -%}
  {%- set columns = modules.re.findall(pattern, sql) -%}
  {%- if not columns -%}
    {{ exceptions.raise_compiler_error(
        "batched_by_game model " ~ this ~ " has no batch_filter(column) marker: every batch would read all rows") }}
  {%- endif -%}
  {%- set ns = namespace(sql=sql) -%}
  {%- for column in columns | unique -%}
    {%- set marker = "(true /* batch_filter: " ~ column ~ " */)" -%}
    {%- set ns.sql = ns.sql.replace(marker, "(" ~ predicate.replace("{key}", column) ~ ")") -%}
  {%- endfor -%}
  {{ return(ns.sql) }}
{% endmacro %}
