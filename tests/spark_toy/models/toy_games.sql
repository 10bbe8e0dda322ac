-- raw files read by the engine itself: a headed CSV with typed columns and a parquet file of the same rows
with from_csv as (
    select * from {{ ngs_read_csv(env_var('NGS_TOY_FILES_DIR') ~ '/toy_games.csv',
                                  {'game_id': 'bigint', 'week': 'integer', 'home': 'varchar',
                                   'temperature_f': 'double'}) }}
),

from_parquet as (
    select * from {{ ngs_read_parquet(env_var('NGS_TOY_FILES_DIR') ~ '/toy_games.parquet') }}
)

select
    c.game_id,
    c.week,
    c.home,
    c.temperature_f,
    p.temperature_f = c.temperature_f as parquet_agrees
from from_csv as c
inner join from_parquet as p on c.game_id = p.game_id
