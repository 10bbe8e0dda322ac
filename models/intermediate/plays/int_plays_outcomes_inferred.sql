-- What the tracking events and the play description say about a play's pass, for sources whose
-- metadata has no pass result (the NGS highlights) and as a cross-check for the others.
with

events as (
    select
        source,
        game_id,
        play_id,
        bool_or(event in ('pass_forward', 'autoevent_passforward', 'pass_shovel')) as has_throw_event,
        case
            when bool_or(event = 'pass_outcome_interception') then 'IN'
            when bool_or(event in ('pass_outcome_caught', 'pass_outcome_touchdown')) then 'C'
            when bool_or(event = 'pass_outcome_incomplete') then 'I'
            when bool_or(event in ('qb_sack', 'qb_strip_sack')) then 'S'
        end as events_pass_result
    from {{ ref('int_tracking_unioned') }}
    where event is not null and input_rules is null  -- rows with a value their release does not allow
    group by source, game_id, play_id
),

plays as (
    select
        source,
        game_id,
        play_id,
        play_description,
        case
            when play_description ilike '%intercepted%' then 'IN'
            when play_description ilike '%pass incomplete%' then 'I'
            when play_description ilike '%sacked%' then 'S'
            when {{ ngs_regexp_matches('play_description', '\\bpass\\b[^.]*\\bto\\b', true) }} then 'C'
        end as description_pass_result
    from {{ ref('int_plays_unioned') }}
)

select
    coalesce(plays.source, events.source) as source,
    coalesce(plays.game_id, events.game_id) as game_id,
    coalesce(plays.play_id, events.play_id) as play_id,
    coalesce(events.has_throw_event, false) as has_throw_event,
    events.events_pass_result,
    plays.description_pass_result
from plays
full outer join events
    on plays.source = events.source
    and plays.game_id = events.game_id
    and plays.play_id = events.play_id
