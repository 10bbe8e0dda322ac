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
  {%- if ngs_is_appending() -%}
    ({{ relation }}.game_id in (
            select distinct unioned.game_id
            from {{ ref('int_tracking_unioned') }} as unioned
            where unioned.source_file in ({{ tracking_new_files() }})
        )
        or {{ relation }}.game_id is null and exists (
            select 1
            from {{ ref('int_tracking_unioned') }} as unioned
            where unioned.game_id is null and unioned.source_file in ({{ tracking_new_files() }})
        ))
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
