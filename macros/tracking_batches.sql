{% macro tracking_new_files() %}
  {#- Files in raw.load_manifest whose rows are not yet in the model's table (what `ngs build --append` loaded). -#}
  select source_file from {{ ref('stg_ingest__load_manifest') }}
  except
  select distinct source_file from {{ this }}
{%- endmacro %}


{% macro tracking_plays_to_build(relation) %}
  {#- int_tracking_flagged's filter on its input: every play, or on an append the plays that rows of newly
      loaded files belong to (all of each play's rows, old and new, are recomputed). On Spark the unit an
      append replaces is a game (a partition of the table: ngs_partition_overwrite), so there it keeps every
      play of the games that rows of newly loaded files belong to. -#}
  {{ return((adapter.dispatch('tracking_plays_to_build') if adapter is defined
             else duckdb__tracking_plays_to_build)(relation)) }}
{%- endmacro %}


{% macro duckdb__tracking_plays_to_build(relation) %}
  {%- if ngs_is_appending() -%}
    ({{ relation }}.game_id, {{ relation }}.play_id) in (
            select (unioned.game_id, unioned.play_id)
            from {{ ref('int_tracking_unioned') }} as unioned
            where unioned.source_file in ({{ tracking_new_files() }})
        )
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}


{% macro spark__tracking_plays_to_build(relation) %}
  {#- The games are looked up when the model is compiled and written as literals: the model's plan stays a full
      build's plus one filter, which Spark pushes down to the raw parquet files. -#}
  {%- if ngs_is_appending() -%}
    {%- set found = run_query("select distinct game_id from " ~ ref('int_tracking_unioned')
                              ~ " where source_file in (" ~ tracking_new_files() ~ ")") -%}
    {%- set games = [] -%}
    {%- for value in found.columns[0].values() if value is not none -%}
      {%- do games.append("%d" | format(value | int)) -%}
    {%- endfor -%}
    {%- set games = games | sort -%}
    {%- set with_null = none in found.columns[0].values() -%}
    {{ log(this ~ ": append: rebuilding " ~ games | length ~ " game(s) that newly loaded files hold"
           ~ (" (" ~ games | join(', ') ~ ")" if games else "") ~ (" and the rows without a game id" if with_null else "")
           ~ "; every other game's partition is kept", info=True) }}
    {%- set tests = [] -%}
    {%- if games -%}
      {%- do tests.append(relation ~ ".game_id in (" ~ games | join(", ") ~ ")") -%}
    {%- endif -%}
    {%- if with_null -%}
      {%- do tests.append(relation ~ ".game_id is null") -%}
    {%- endif -%}
    ({{ tests | join(" or ") if tests else "false" }})
  {%- else -%}
    true
  {%- endif -%}
{%- endmacro %}


{% macro tracking_batch_plan() %}
  {#- batch_plan of int_tracking_flagged: tracking rows per game, of the new files only on an append. -#}
  select game_id as batch_key, count(*) as n_rows
  from {{ ref('int_tracking_unioned') }}
  {%- if ngs_is_appending() %}
  where source_file in ({{ tracking_new_files() }})
  {%- endif %}
  group by game_id
{%- endmacro %}
