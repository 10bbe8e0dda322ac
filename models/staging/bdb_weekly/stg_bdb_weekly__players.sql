with

source as (
    select * from {{ source('bdb_weekly', 'players') }}
),

renamed as (
    select
        'bdb_weekly' as source,
        cast("nflId" as bigint) as nfl_id,
        "displayName" as display_name,
        upper(coalesce("officialPosition", position)) as position,
        {{ height_to_inches('height') }} as height_in,
        weight as weight_lb
    from source
)

select * from renamed
