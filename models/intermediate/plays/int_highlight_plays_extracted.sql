-- The highlights parquet repeats play metadata on every tracking row: one row per play here, with the
-- clubs read from the players' possession and home flags.
with

tracking as (
    select * from {{ ref('stg_ngs_highlights__tracking') }}
),

extracted as (
    select
        game_id,
        play_id,
        {{ ngs_any_value('play_type') }} as play_type,
        {{ ngs_any_value('season') }} as season,
        {{ ngs_any_value('season_type') }} as season_type,
        {{ ngs_any_value('week') }} as week,
        {{ ngs_any_value('quarter') }} as quarter,
        {{ ngs_any_value('down') }} as down,
        {{ ngs_any_value('yards_to_go') }} as yards_to_go,
        {{ ngs_any_value('absolute_yardline_number') }} as absolute_yardline_number,
        {{ ngs_any_value('play_description') }} as play_description,
        {{ ngs_any_value('play_direction') }} as play_direction,
        max(case when is_offense then club end) as possession_club,
        max(case when not is_offense then club end) as defensive_club,
        max(case when team_side = 'home' then club end) as home_club,
        max(case when team_side = 'away' then club end) as visitor_club
    from tracking
    group by game_id, play_id
)

select * from extracted
