-- Direction of play for every tracked play: as the release states it, or (2019 has no playDirection)
-- inferred from where the offence lines up: at the play's first frame the offence stands behind the
-- defence, so an offence whose mean x is below the defence's is moving right.
with

tracked_plays as (
    -- from the tracking rows alone (no per-row joins: a season is ~50M rows)
    select
        source,
        game_id,
        play_id,
        any_value(play_direction) as tracking_direction,
        min(frame_id) as first_frame_id
    from {{ ref('int_tracking_unioned') }}
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
    where first_frames.stated_direction is null
    group by tracking.source, tracking.game_id, tracking.play_id
)

select
    first_frames.source,
    first_frames.game_id,
    first_frames.play_id,
    coalesce(
        first_frames.stated_direction,
        case
            when lineup.offense_mean_x < lineup.defense_mean_x then 'right'
            when lineup.offense_mean_x > lineup.defense_mean_x then 'left'
        end
    ) as play_direction,
    case
        when first_frames.stated_direction is not null then 'metadata'
        when lineup.offense_mean_x is not null and lineup.defense_mean_x is not null then 'inferred_lineup'
        else 'unknown'
    end as direction_method
from first_frames
left join lineup
    on first_frames.source = lineup.source
    and first_frames.game_id = lineup.game_id
    and first_frames.play_id = lineup.play_id
