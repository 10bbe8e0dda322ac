with

from_files as (
    select source, nfl_id, display_name, position, height_in, weight_lb
    from {{ ref('stg_bdb2019__players') }}
    union all
    select source, nfl_id, display_name, position, height_in, weight_lb
    from {{ ref('stg_bdb_weekly__players') }}
),

from_tracking as (
    -- sources that carry player attributes on the tracking rows only
    select
        source,
        nfl_id,
        any_value(display_name) as display_name,
        any_value(position) as position,
        cast(null as double) as height_in,
        cast(null as double) as weight_lb
    from {{ ref('int_tracking_unioned') }}
    where nfl_id is not null
        and source in ('ngs_highlights', 'bdb2026')
    group by source, nfl_id
),

bdb2026_bio as (
    select
        'bdb2026' as source,
        nfl_id,
        any_value(display_name) as display_name,
        any_value(position) as position,
        any_value({{ height_to_inches('player_height') }}) as height_in,
        any_value(player_weight) as weight_lb
    from {{ ref('stg_bdb2026__input_tracking') }}
    group by nfl_id
),

unioned as (
    select * from from_files
    union all
    select * from from_tracking
    union all
    select * from bdb2026_bio
)

select * from unioned
