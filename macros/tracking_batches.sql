{% macro tracking_new_files() %}
  {#- Files in raw.load_manifest whose rows are not yet in the model's table (what `ngs build --append` loaded). -#}
  select source_file from {{ ref('stg_ingest__load_manifest') }}
  except
  select distinct source_file from {{ this }}
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
