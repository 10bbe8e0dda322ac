with

source as (
    select * from {{ source('bdb2019', 'players') }}
),

renamed as (
    select
        'bdb2019' as source,
        cast("nflId" as bigint) as nfl_id,
        trim(concat_ws(' ', "FirstName", "LastName")) as display_name,
        upper("PositionAbbr") as position,
        {{ height_to_inches('"Height"') }} as height_in,
        "Weight" as weight_lb
    from source
)

select * from renamed
