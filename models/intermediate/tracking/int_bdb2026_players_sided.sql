-- Who is who in the BDB 2026 ball-in-air (output) tracks: one row per game, play and player of the output
-- files. The outputs hold the targeted receiver and the defenders in coverage, with positions only.
-- Where the play's input file was loaded its roles are stated (target_method 'metadata'); else the
-- targeted receiver is inferred from team membership over every loaded play:
--   a player's plays all share his club, as the possession club when he is a receiver, as the defensive
--   club when he defends. For each club, count the games in which he appeared with it on the field;
--   membership_score = games with this play's possession club - games with its defensive club
--   (> 0: he plays for the offence; < 0: for the defence; 0: undecided, e.g. one game only).
--   The target is the player with the highest score: 'inferred_team_membership' when he is the only one
--   above 0, 'inferred_elimination' when nobody is: every other player is a known defender, or among the
--   undecided he is the one whose plays' descriptions keep naming the same receiver, and name this play's
--   ("... pass short right to J.Reynolds": a receiver is in the outputs of the passes thrown to him, a
--   defender in those thrown to anyone he covers), then the least seen (fewest plays in the game).
-- Everyone else in an output file is a defender in coverage (the release's own definition).
with

appearances as (
    select
        game_id,
        play_id,
        nfl_id,
        count(*) as output_frames
    from {{ ref('stg_bdb2026__output_tracking') }}
    group by game_id, play_id, nfl_id
),

plays as (
    select game_id, play_id, possession_club, defensive_club
    from {{ ref('int_plays_unioned') }}
    where source = 'bdb2026'
),

stated as (
    -- roles from the input file, where it was loaded
    select
        game_id,
        play_id,
        nfl_id,
        bool_or(player_role = 'Targeted Receiver') as is_stated_target,
        {{ ngs_any_value('is_offense') }} as stated_is_offense
    from {{ ref('stg_bdb2026__input_tracking') }}
    group by game_id, play_id, nfl_id
),

player_game_clubs as (
    -- the two clubs on the field in each game a player appeared in
    select distinct appearances.nfl_id, appearances.game_id, plays.possession_club as club
    from appearances
    inner join plays
        on appearances.game_id = plays.game_id
        and appearances.play_id = plays.play_id
    union
    select distinct appearances.nfl_id, appearances.game_id, plays.defensive_club as club
    from appearances
    inner join plays
        on appearances.game_id = plays.game_id
        and appearances.play_id = plays.play_id
),

club_games as (
    select nfl_id, club, count(*) as games
    from player_game_clubs
    where club is not null
    group by nfl_id, club
),

described as (
    select game_id, play_id, target_described_name
    from {{ ref('int_plays_players_described') }}
    where source = 'bdb2026'
),

player_name_counts as (
    select appearances.nfl_id, described.target_described_name, count(*) as plays
    from appearances
    inner join described
        on appearances.game_id = described.game_id
        and appearances.play_id = described.play_id
    where described.target_described_name is not null
    group by appearances.nfl_id, described.target_described_name
),

player_names as (
    -- per player, the receiver name his plays' descriptions give most often, and on what share of them
    select
        nfl_id,
        {{ ngs_arg_max('target_described_name', 'plays') }} as modal_name,
        max(plays) / sum(plays) as name_share
    from player_name_counts
    group by nfl_id
),

plays_in_game as (
    select game_id, nfl_id, count(*) as plays_in_game
    from appearances
    group by game_id, nfl_id
),

scored as (
    select
        appearances.game_id,
        appearances.play_id,
        appearances.nfl_id,
        plays.possession_club,
        plays.defensive_club,
        stated.is_stated_target,
        stated.stated_is_offense,
        coalesce(offence_games.games, 0) - coalesce(defence_games.games, 0) as membership_score,
        coalesce(player_names.modal_name = described.target_described_name, false) as is_name_match,
        coalesce(player_names.name_share, 0) as name_share,
        plays_in_game.plays_in_game
    from appearances
    left join plays
        on appearances.game_id = plays.game_id
        and appearances.play_id = plays.play_id
    left join stated
        on appearances.game_id = stated.game_id
        and appearances.play_id = stated.play_id
        and appearances.nfl_id = stated.nfl_id
    left join club_games as offence_games
        on appearances.nfl_id = offence_games.nfl_id
        and plays.possession_club = offence_games.club
    left join club_games as defence_games
        on appearances.nfl_id = defence_games.nfl_id
        and plays.defensive_club = defence_games.club
    left join plays_in_game
        on appearances.game_id = plays_in_game.game_id
        and appearances.nfl_id = plays_in_game.nfl_id
    left join described
        on appearances.game_id = described.game_id
        and appearances.play_id = described.play_id
    left join player_names
        on appearances.nfl_id = player_names.nfl_id
),

ranked as (
    select
        *,
        bool_or(is_stated_target) over play as play_has_stated_target,
        count(case when membership_score > 0 then 1 end) over play as players_scored_offence,
        row_number() over (
            partition by game_id, play_id
            order by
                coalesce(is_stated_target, false) desc,
                membership_score desc,
                is_name_match desc,
                name_share desc,
                plays_in_game asc,
                nfl_id asc
        ) as target_rank
    from scored
    window play as (partition by game_id, play_id)
),

sided as (
    select
        game_id,
        play_id,
        nfl_id,
        possession_club,
        defensive_club,
        membership_score,
        plays_in_game,
        coalesce(play_has_stated_target, false) as play_has_stated_target,
        case
            when play_has_stated_target then coalesce(is_stated_target, false)
            else target_rank = 1
        end as is_target,
        case
            when play_has_stated_target then coalesce(stated_is_offense, is_stated_target, false)
            else target_rank = 1
        end as is_offense,
        case
            when play_has_stated_target then 'metadata'
            when players_scored_offence = 1 then 'inferred_team_membership'
            else 'inferred_elimination'
        end as target_method
    from ranked
)

select
    game_id,
    play_id,
    nfl_id,
    is_target,
    is_offense,
    target_method,
    case when is_offense then possession_club else defensive_club end as club,
    membership_score,
    plays_in_game
from sided
