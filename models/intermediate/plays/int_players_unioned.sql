-- Player attributes from every source. A height or weight no player can have (seeds/quality_rules.csv:
-- implausible_height, implausible_weight) is set NULL, never guessed; the value given stays in
-- reported_height_in / reported_weight_lb (listed in fct_player_quarantine).
with

rules as (
    select
        max(min_threshold) filter (where rule = 'implausible_height') as min_height_in,
        max(threshold) filter (where rule = 'implausible_height') as max_height_in,
        max(min_threshold) filter (where rule = 'implausible_weight') as min_weight_lb,
        max(threshold) filter (where rule = 'implausible_weight') as max_weight_lb
    from {{ ref('quality_rules') }}
),

from_files as (
    select source, nfl_id, display_name, position, height_in, weight_lb
    from {{ ref('stg_bdb2019__players') }}
    union all
    select source, nfl_id, display_name, position, height_in, weight_lb
    from {{ ref('stg_bdb_weekly__players') }}
),

from_tracking as (
    -- sources that carry player attributes on the tracking rows only. A player's rows may disagree (the NGS
    -- highlights list 59 players under two positions and 3 under two names across games): the smallest
    -- value is kept, so every build and engine picks the same one (any_value picked whichever row came
    -- first: DuckDB's parallel scan and Spark's partitions differ)
    select
        source,
        nfl_id,
        min(display_name) as display_name,
        min(position) as position,
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
        {{ ngs_any_value('display_name') }} as display_name,
        {{ ngs_any_value('position') }} as position,
        {{ ngs_any_value(height_to_inches('player_height')) }} as height_in,
        {{ ngs_any_value('player_weight') }} as weight_lb
    from {{ ref('stg_bdb2026__input_tracking') }}
    group by nfl_id
),

unioned as (
    select * from from_files
    union all
    select * from from_tracking
    union all
    select * from bdb2026_bio
),

checked as (
    select
        unioned.source,
        unioned.nfl_id,
        unioned.display_name,
        unioned.position,
        case
            when unioned.height_in between rules.min_height_in and rules.max_height_in then unioned.height_in
        end as height_in,
        case
            when unioned.weight_lb between rules.min_weight_lb and rules.max_weight_lb then unioned.weight_lb
        end as weight_lb,
        unioned.height_in as reported_height_in,
        unioned.weight_lb as reported_weight_lb
    from unioned
    cross join rules
)

select * from checked
