-- Every player height or weight a release gave that no player can have (seeds/quality_rules.csv:
-- implausible_height, implausible_weight): dim_players holds NULL instead; here the value as given.
with

players as (
    select * from {{ ref('int_players_unioned') }}
    where nfl_id is not null
),

quarantined as (
    select
        source,
        nfl_id,
        display_name,
        'implausible_height' as rule,
        reported_height_in as measured_value
    from players
    where reported_height_in is not null and height_in is null
    union all
    select
        source,
        nfl_id,
        display_name,
        'implausible_weight' as rule,
        reported_weight_lb as measured_value
    from players
    where reported_weight_lb is not null and weight_lb is null
)

select distinct
    source,
    nfl_id,
    display_name,
    rule,
    measured_value
from quarantined
