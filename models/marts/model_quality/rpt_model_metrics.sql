-- Every model's evaluation in one table: what was measured, on which data and split, on how many.
-- Each domain's Python model writes its own rows in this shape; this mart only unions them.
with

completion as (
    select model, version, dataset, split, metric, value, n, cast(null as integer) as horizon_step
    from {{ ref('rpt_completion_metrics') }}
),

ghosting as (
    select model, version, dataset, split, metric, value, n, cast(horizon_step as integer) as horizon_step
    from {{ ref('rpt_ghosting_metrics') }}
),

decisions as (
    select model, version, dataset, split, metric, value, n, cast(null as integer) as horizon_step
    from {{ ref('rpt_decisions_metrics') }}
),

unioned as (
    select * from completion
    union all
    select * from ghosting
    union all
    select * from decisions
)

select
    cast(model as string) as model,
    cast(version as string) as version,
    cast(dataset as string) as dataset,
    cast(split as string) as split,
    cast(metric as string) as metric,
    cast(value as double) as value,
    cast(n as bigint) as n,
    horizon_step
from unioned
