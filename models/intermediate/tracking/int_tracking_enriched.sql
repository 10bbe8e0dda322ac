-- Tracking rows with what other tables know about them: the club (2019 says only home/away), whether
-- the player is on offence (his club is the play's possession club, unless the source said), and his
-- position and position group.
with

tracking as (
    select * from {{ ref('int_tracking_unioned') }}
),

plays as (
    select source, game_id, play_id, possession_club, defensive_club, play_direction
    from {{ ref('int_plays_unioned') }}
),

games as (
    select source, game_id, home_club, visitor_club
    from {{ ref('int_games_unioned') }}
),

players as (
    select nfl_id, display_name, position
    from {{ ref('int_players_deduplicated') }}
),

enriched as (
    select
        tracking.source,
        tracking.source_file,
        tracking.source_row,
        tracking.game_id,
        tracking.play_id,
        tracking.nfl_id,
        tracking.frame_id,
        tracking.frame_phase,
        tracking.time,
        coalesce(tracking.display_name, players.display_name) as display_name,
        tracking.jersey_number,
        coalesce(
            tracking.club,
            case tracking.team_side when 'home' then games.home_club when 'away' then games.visitor_club end,
            -- a release that states the side, not the club (BDB 2026 inputs)
            case tracking.is_offense when true then plays.possession_club when false then plays.defensive_club end
        ) as club,
        tracking.is_ball,
        tracking.is_offense as stated_is_offense,
        plays.possession_club,
        coalesce(tracking.position, players.position) as position,
        coalesce(tracking.play_direction, plays.play_direction) as play_direction,
        tracking.x,
        tracking.y,
        tracking.s,
        tracking.a,
        tracking.dis,
        tracking.o,
        tracking.dir,
        tracking.event,
        -- the values rules of staging, and a club that is not one of the game's two (seeds/quality_rules.csv)
        case
            when
                tracking.club is not null and games.home_club is not null
                and tracking.club not in (games.home_club, games.visitor_club)
                and not {{ ngs_list_contains(ngs_string_split("coalesce(tracking.input_rules, '')", ','), "'unexpected_team'") }}
                then concat_ws(',', tracking.input_rules, 'unexpected_team')
            else tracking.input_rules
        end as input_rules
    from tracking
    left join plays
        on tracking.source = plays.source
        and tracking.game_id = plays.game_id
        and tracking.play_id = plays.play_id
    left join games
        on tracking.source = games.source
        and tracking.game_id = games.game_id
    left join players
        on tracking.nfl_id = players.nfl_id
),

sided as (
    -- on offence: as the source said, else when his club is the play's possession club
    select
        source,
        source_file,
        source_row,
        game_id,
        play_id,
        nfl_id,
        frame_id,
        frame_phase,
        time,
        display_name,
        jersey_number,
        club,
        is_ball,
        position,
        play_direction,
        x,
        y,
        s,
        a,
        dis,
        o,
        dir,
        event,
        input_rules,
        case
            when is_ball then null
            when stated_is_offense is not null then stated_is_offense
            when possession_club is not null then club = possession_club
        end as is_offense
    from enriched
)

select * from sided
