with

source as (
    select * from {{ source('bdb2026', 'supplementary') }}
),

renamed as (
    select
        source_file,
        source_row,
        game_id,
        play_id,
        season,
        week,
        try_cast(game_date as date) as game_date,
        home_team_abbr as home_club,
        visitor_team_abbr as visitor_club,
        play_description,
        quarter,
        game_clock,
        down,
        yards_to_go,
        possession_team as possession_club,
        defensive_team as defensive_club,
        yardline_side,
        yardline_number,
        upper(pass_result) as pass_result,
        pass_length as pass_length_yd,
        yards_gained,
        team_coverage_type as pass_coverage,
        team_coverage_man_zone as coverage_man_zone,
        offense_formation,
        receiver_alignment,
        route_of_targeted_receiver as route,
        case upper(play_action) when 'TRUE' then true when 'FALSE' then false end as is_play_action,
        dropback_type,
        dropback_distance as dropback_distance_yd,
        pass_location_type,
        defenders_in_the_box,
        upper(play_nullified_by_penalty) = 'Y' as is_nullified_by_penalty
    from source
)

select * from renamed
