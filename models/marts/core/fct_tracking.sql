-- The clean tracking: every raw row that broke no quarantine rule, standardised (offence -> +x).
with

flagged as (
    select * from {{ ref('int_tracking_flagged') }}
    where not is_quarantined
)

select
    flagged.source,
    flagged.source_file,
    flagged.source_row,
    flagged.game_id,
    flagged.play_id,
    flagged.nfl_id,
    flagged.frame_id,
    flagged.frame_phase,
    flagged.time,
    flagged.club,
    flagged.is_ball,
    flagged.is_offense,
    flagged.display_name,
    flagged.jersey_number,
    flagged.position,
    position_groups.position_group,
    flagged.play_direction,
    flagged.is_standardised,
    flagged.x,
    flagged.y,
    flagged.s,
    flagged.a,
    flagged.dis,
    flagged.o,
    flagged.dir,
    flagged.event,
    flagged.x_std,
    flagged.y_std,
    flagged.o_std,
    flagged.dir_std,
    coalesce(flagged.s, sqrt(flagged.vx * flagged.vx + flagged.vy * flagged.vy)) as speed_yps,
    coalesce(flagged.a, sqrt(flagged.ax * flagged.ax + flagged.ay * flagged.ay)) as accel_yps2,
    flagged.vx,
    flagged.vy,
    flagged.ax,
    flagged.ay,
    case when flagged.has_reported_velocity then 'reported' else 'derived' end as kinematics_source,
    flagged.frames_missing_before
from flagged
left join {{ ref('position_groups') }} as position_groups
    on flagged.position = position_groups.position
