{#- on-run-start (dbt_project.yml): make "trained in this run" exact for the models that read a training table.

A scoring model reads a training model's table (tag train) through `dbt_glue.optional_ref`: present means
"built in this run", absent means "use the stored LATEST artefact". A table left by an earlier build (e.g.
`ngs build --append --no-train` copies the warehouse, training tables included) would make it score with
that old table's version. So when this run builds a model that refs a training model but not the training
model itself, the training model's table is dropped before anything runs: the run then uses LATEST, as a
full rebuild with the same exclusion would. Runs that select no consumer of a training model (e.g.
`dbt run -s fct_plays`, `dbt test`) leave the training tables alone. -#}
{% macro drop_unbuilt_training() %}
  {%- if execute and flags.WHICH in ('build', 'run') -%}
    {%- set selected = selected_resources | list -%}
    {%- for node in graph.nodes.values() -%}
      {%- if node.resource_type == 'model' and 'train' in node.tags and node.unique_id not in selected -%}
        {%- set ns = namespace(consumed=false) -%}
        {%- for uid in selected -%}
          {%- set other = graph.nodes.get(uid) -%}
          {%- if other is not none and other.resource_type == 'model'
                and node.unique_id in other.depends_on.nodes -%}
            {%- set ns.consumed = true -%}
          {%- endif -%}
        {%- endfor -%}
        {%- if ns.consumed -%}
          {%- set relation = adapter.get_relation(database=node.database, schema=node.schema,
                                                  identifier=node.alias) -%}
          {%- if relation is not none -%}
            {{ log("ngs: dropping " ~ relation ~ " (a training table this run does not rebuild, read by a model it "
                   ~ "builds: the stored LATEST artefact is used instead)", info=true) }}
            {%- do adapter.drop_relation(relation) -%}
          {%- endif -%}
        {%- endif -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
