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
        y
    from source
)

select * from renamed
