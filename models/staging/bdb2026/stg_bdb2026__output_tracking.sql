with

source as (
    select * from {{ source('bdb2026', 'tracking_output') }}
),

renamed as (
    select
        'bdb2026' as source,
        source_file,
        source_row,
        game_id,
        play_id,
        cast(nfl_id as bigint) as nfl_id,
        frame_id as output_frame_id,  -- 1 = the throw; sequenced after the input frames downstream
        'output' as frame_phase,
        x,
        y,
        -- frames count from 1 at the throw (seeds/quality_rules.csv)
        case when frame_id < 1 then 'invalid_frame_id' end as input_rules
    from source
)

select * from renamed
