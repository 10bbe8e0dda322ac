with

source as (
    select * from {{ source('ingest', 'load_manifest') }}
),

renamed as (
    select
        source_file,
        vintage,
        entity,
        raw_table,
        rows as raw_rows,
        bytes as file_bytes,
        loaded_at
    from source
)

select * from renamed
