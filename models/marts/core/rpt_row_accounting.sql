-- Row accounting per source file: every raw row is either clean or quarantined, never lost.
with

raw_rows as (
    select source_file, vintage, entity, raw_rows
    from {{ ref('stg_ingest__load_manifest') }}
    where entity in ('tracking', 'tracking_input', 'tracking_output')
),

clean as (
    select source_file, count(*) as clean_rows
    from {{ ref('fct_tracking') }}
    group by source_file
),

quarantined as (
    select
        source_file,
        count(*) as quarantined_rows,
        count(*) filter (where rule = 'duplicate_key') as duplicate_key_rows,
        count(*) filter (where rule = 'missing_position') as missing_position_rows,
        count(*) filter (where rule in {{ invalid_value_rules() }}) as invalid_value_rows,
        count(*) filter (where rule = 'off_field') as off_field_rows,
        count(*) filter (where rule = 'teleport') as teleport_rows,
        count(*) filter (where rule = 'implied_speed') as implied_speed_rows,
        count(*) filter (where rule = 'reported_speed') as reported_speed_rows,
        count(*) filter (where rule = 'play_quarantined') as play_quarantined_rows
    from {{ ref('fct_tracking_quarantine') }}
    group by source_file
)

select
    raw_rows.source_file,
    raw_rows.vintage,
    raw_rows.entity,
    raw_rows.raw_rows,
    coalesce(clean.clean_rows, 0) as clean_rows,
    coalesce(quarantined.quarantined_rows, 0) as quarantined_rows,
    coalesce(quarantined.duplicate_key_rows, 0) as duplicate_key_rows,
    coalesce(quarantined.missing_position_rows, 0) as missing_position_rows,
    coalesce(quarantined.invalid_value_rows, 0) as invalid_value_rows,
    coalesce(quarantined.off_field_rows, 0) as off_field_rows,
    coalesce(quarantined.teleport_rows, 0) as teleport_rows,
    coalesce(quarantined.implied_speed_rows, 0) as implied_speed_rows,
    coalesce(quarantined.reported_speed_rows, 0) as reported_speed_rows,
    coalesce(quarantined.play_quarantined_rows, 0) as play_quarantined_rows,
    raw_rows.raw_rows = coalesce(clean.clean_rows, 0) + coalesce(quarantined.quarantined_rows, 0)
        as is_balanced
from raw_rows
left join clean
    on raw_rows.source_file = clean.source_file
left join quarantined
    on raw_rows.source_file = quarantined.source_file
