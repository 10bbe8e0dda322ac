with

plays as (
    select * from {{ ref('int_plays_unioned') }}
),

outcomes as (
    select * from {{ ref('int_plays_outcomes_inferred') }}
),

directions as (
    select * from {{ ref('int_plays_direction_inferred') }}
),

games as (
    select * from {{ ref('dim_games') }}
),

combined as (
    select
        coalesce(plays.game_id, outcomes.game_id) as game_id,
        coalesce(plays.play_id, outcomes.play_id) as play_id,
        coalesce(plays.source, outcomes.source) as source,
        plays.quarter,
        plays.down,
        plays.yards_to_go,
        plays.possession_club,
        plays.defensive_club,
        plays.play_description,
        plays.absolute_yardline_number,
        plays.yards_gained,
        plays.offense_formation,
        plays.pass_coverage,
        plays.yardline_side,
        plays.yardline_number,
        plays.pass_length_yd,
        plays.route,
        plays.coverage_man_zone,
        plays.is_play_action,
        plays.dropback_type,
        plays.dropback_distance_yd,
        plays.pass_location_type,
        plays.defenders_in_the_box,
        plays.receiver_alignment,
        plays.is_nullified_by_penalty,
        case
            when plays.pass_result in ('C', 'I', 'IN', 'S', 'R') then plays.pass_result
            when outcomes.events_pass_result is not null then outcomes.events_pass_result
            else outcomes.description_pass_result
        end as pass_result,
        case
            when plays.pass_result in ('C', 'I', 'IN', 'S', 'R') then 'metadata'
            when outcomes.events_pass_result is not null then 'events'
            when outcomes.description_pass_result is not null then 'description'
        end as pass_result_method,
        coalesce(outcomes.has_throw_event, false) as has_throw_event,
        coalesce(directions.play_direction, plays.play_direction) as play_direction,
        directions.direction_method,
        directions.play_direction is not null as has_tracking
    from plays
    full outer join outcomes
        on plays.source = outcomes.source
        and plays.game_id = outcomes.game_id
        and plays.play_id = outcomes.play_id
    left join directions
        on coalesce(plays.source, outcomes.source) = directions.source
        and coalesce(plays.game_id, outcomes.game_id) = directions.game_id
        and coalesce(plays.play_id, outcomes.play_id) = directions.play_id
),

deduplicated as (
    -- a play released in two sources (a 2019 game that is also a highlight) is kept once: the
    -- one with tracking, then the official release
    select *
    from (
        select
            *,
            row_number() over (
                partition by game_id, play_id
                order by
                    has_tracking desc,
                    {{ source_priority('source') }}
            ) as source_rank
        from combined
    ) as ranked
    where source_rank = 1
)

select
    deduplicated.game_id,
    deduplicated.play_id,
    deduplicated.source,
    games.dataset,
    games.season,
    games.week,
    deduplicated.quarter,
    deduplicated.down,
    deduplicated.yards_to_go,
    deduplicated.possession_club,
    deduplicated.defensive_club,
    deduplicated.play_description,
    deduplicated.pass_result in ('C', 'I', 'IN', 'S', 'R') or deduplicated.has_throw_event as is_pass_play,
    deduplicated.pass_result,
    case
        when deduplicated.pass_result = 'C' then true
        when deduplicated.pass_result in ('I', 'IN') then false
    end as is_complete,
    deduplicated.pass_result_method,
    deduplicated.play_direction,
    deduplicated.direction_method,
    coalesce(
        case
            when deduplicated.play_direction = 'left'
                then {{ var('field_length_yd') }} - deduplicated.absolute_yardline_number
            else deduplicated.absolute_yardline_number
        end,
        -- the yard line a release states (BDB 2026 supplementary): in the standardised frame the offence's
        -- own goal line is at x = 10 whichever way it moved
        case
            when deduplicated.yardline_side = deduplicated.possession_club or deduplicated.yardline_number = 50
                then 10 + deduplicated.yardline_number
            when deduplicated.yardline_side is not null
                then {{ var('field_length_yd') }} - 10 - deduplicated.yardline_number
        end
    ) as line_of_scrimmage_x_std,
    deduplicated.yards_gained,
    deduplicated.offense_formation,
    deduplicated.pass_coverage,
    deduplicated.pass_length_yd,
    deduplicated.route,
    deduplicated.coverage_man_zone,
    deduplicated.is_play_action,
    deduplicated.dropback_type,
    deduplicated.dropback_distance_yd,
    deduplicated.pass_location_type,
    deduplicated.defenders_in_the_box,
    deduplicated.receiver_alignment,
    coalesce(deduplicated.is_nullified_by_penalty, false) as is_nullified_by_penalty,
    described.passer_described_name,
    described.target_described_name,
    deduplicated.has_tracking
from deduplicated
left join games
    on deduplicated.game_id = games.game_id
left join {{ ref('int_plays_players_described') }} as described
    on deduplicated.source = described.source
    and deduplicated.game_id = described.game_id
    and deduplicated.play_id = described.play_id
