-- Direction of play for every tracked play: as the release states it, else inferred:
-- * 'inferred_los_vote' (BDB 2026 output-only plays: ball in the air only, no line-up to see). The
--   release states the line of scrimmage as a yard line on one club's side and the pass length (air yards
--   beyond it). Moving right, the line of scrimmage is at x = 10 + yard line on the possession club's own
--   side (110 - yard line on the other's), moving left at 120 minus that; the targeted receiver's arrival
--   x should then be near line + pass length (right) or line - pass length (left). Each play votes for the
--   closer one, weighted by how much closer, and a club keeps its direction for a whole quarter, so the
--   votes are summed per game, quarter and possession club (on the one real input game: 64 of 64 plays
--   right; per play alone 1.4% of plays disagree with their quarter's vote).
-- * 'inferred_lineup' (2019 has no playDirection): at the play's first frame the offence stands behind
--   the defence, so an offence whose mean x is below the defence's is moving right.
-- Rows with a value their release does not allow (input_rules, quarantined downstream) take no part.
{%- set length = var('field_length_yd') %}
with

tracked_plays as (
    -- from the tracking rows alone (no per-row joins: a season is ~50M rows)
    select
        source,
        game_id,
        play_id,
        {{ ngs_any_value('play_direction') }} as tracking_direction,
        min(frame_id) as first_frame_id
    from {{ ref('int_tracking_unioned') }}
    where input_rules is null
    group by source, game_id, play_id
),

first_frames as (
    -- stated by the tracking rows, else by the play's metadata
    select
        tracked_plays.source,
        tracked_plays.game_id,
        tracked_plays.play_id,
        coalesce(tracked_plays.tracking_direction, plays.play_direction) as stated_direction,
        tracked_plays.first_frame_id
    from tracked_plays
    left join {{ ref('int_plays_unioned') }} as plays
        on tracked_plays.source = plays.source
        and tracked_plays.game_id = plays.game_id
        and tracked_plays.play_id = plays.play_id
),

output_only_arrivals as (
    -- the targeted receiver's last output frame (the arrival) on plays with no input frames
    select
        game_id,
        play_id,
        {{ ngs_arg_max('x', 'frame_id') }} as target_arrival_x
    from {{ ref('int_tracking_unioned') }}
    where source = 'bdb2026'
        and frame_phase = 'output'
        and is_offense
        and input_rules is null
    group by game_id, play_id
),

los_votes as (
    select
        plays.game_id,
        plays.play_id,
        plays.quarter,
        plays.possession_club,
        case
            when plays.yardline_side = plays.possession_club or plays.yardline_number = 50
                then 10 + plays.yardline_number
            else {{ length }} - 10 - plays.yardline_number
        end as los_x_if_right,
        plays.pass_length_yd,
        arrivals.target_arrival_x
    from {{ ref('int_plays_unioned') }} as plays
    inner join output_only_arrivals as arrivals
        on plays.game_id = arrivals.game_id
        and plays.play_id = arrivals.play_id
    inner join first_frames
        on plays.source = first_frames.source
        and plays.game_id = first_frames.game_id
        and plays.play_id = first_frames.play_id
    where plays.source = 'bdb2026'
        and first_frames.stated_direction is null
        and plays.yardline_number is not null
        and plays.pass_length_yd is not null
),

quarter_votes as (
    -- > 0: right is the closer hypothesis (yards)
    select
        game_id,
        quarter,
        possession_club,
        sum(
            abs(target_arrival_x - ({{ length }} - los_x_if_right - pass_length_yd))
            - abs(target_arrival_x - (los_x_if_right + pass_length_yd))
        ) as right_margin_yd
    from los_votes
    group by game_id, quarter, possession_club
),

voted as (
    select
        los_votes.game_id,
        los_votes.play_id,
        case
            when quarter_votes.right_margin_yd > 0 then 'right'
            when quarter_votes.right_margin_yd < 0 then 'left'
        end as play_direction
    from los_votes
    inner join quarter_votes
        on los_votes.game_id = quarter_votes.game_id
        and los_votes.quarter is not distinct from quarter_votes.quarter
        and los_votes.possession_club = quarter_votes.possession_club
),

lineup as (
    select
        tracking.source,
        tracking.game_id,
        tracking.play_id,
        avg(case when tracking.is_offense then tracking.x end) as offense_mean_x,
        avg(case when not tracking.is_offense then tracking.x end) as defense_mean_x
    from {{ ref('int_tracking_enriched') }} as tracking
    inner join first_frames
        on tracking.source = first_frames.source
        and tracking.game_id = first_frames.game_id
        and tracking.play_id = first_frames.play_id
        and tracking.frame_id = first_frames.first_frame_id
    where first_frames.stated_direction is null and tracking.input_rules is null
    group by tracking.source, tracking.game_id, tracking.play_id
)

select
    first_frames.source,
    first_frames.game_id,
    first_frames.play_id,
    coalesce(
        first_frames.stated_direction,
        voted.play_direction,
        case
            when lineup.offense_mean_x < lineup.defense_mean_x then 'right'
            when lineup.offense_mean_x > lineup.defense_mean_x then 'left'
        end
    ) as play_direction,
    case
        when first_frames.stated_direction is not null then 'metadata'
        when voted.play_direction is not null then 'inferred_los_vote'
        when lineup.offense_mean_x is not null and lineup.defense_mean_x is not null then 'inferred_lineup'
        else 'unknown'
    end as direction_method
from first_frames
left join voted
    on first_frames.game_id = voted.game_id
    and first_frames.play_id = voted.play_id
left join lineup
    on first_frames.source = lineup.source
    and first_frames.game_id = lineup.game_id
    and first_frames.play_id = lineup.play_id
