"""Write the dashboards bundle (`dashboards/`, Superset's export format) and the dbt exposures
(`models/marts/_exposures.yml`) from the specs below and the dbt project's manifest.

The YAML in `dashboards/` is what is committed, reviewed and loaded; this script only saves typing
the boilerplate Superset needs (query contexts, layout nodes, uuids). Rerun it after changing a spec or a
mart's YAML:

    python -m ngs.superset.generate [--check] [--prune] [--manifest target/manifest.json]

Each dataset lists the mart columns named in DATASETS below; their types and descriptions come from the
marts' dbt YAML (`data_type` and `description`: the contract of a SQL mart), read from the manifest that
`dbt parse` writes (no warehouse is opened). Charts only name columns: no SQL in a chart, every number
comes from a dbt mart. The two outputs are the only files written, each only where its text changes; a
YAML file in the bundle's sections that the specs no longer make is deleted only with --prune.
`--check` writes nothing and exits 1 when the committed files differ from what the specs make.
"""

from __future__ import annotations

import argparse
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ngs.errors import NgsError
from ngs.paths import REPO_ROOT
from ngs.superset.bundle import BUNDLE_DIR, DATASET_PLACEHOLDER, URI_PLACEHOLDER

NS = uuid.UUID("6f1b3a52-3c57-4d1e-9a43-0d5b1c2e7a10")
DATABASE_NAME = "NGS warehouse"
DB_FILE = "ngs_warehouse"
FIELD = {"x": [0, 120], "y": [0, 60]}


def _uuid(kind: str, name: str) -> str:
    return str(uuid.uuid5(NS, f"{kind}:{name}"))


class GenerateError(NgsError):
    """The specs and the dbt project disagree (a column or mart the contracts do not have), or dbt parse failed."""


# ------------------------------------------------------------------------------------------ datasets
# The mart columns each dataset offers (what the charts use, and the columns an analyst filters by; Superset's
# "sync columns" adds the rest). Their types and descriptions come from the marts' dbt contracts (the
# manifest of `dbt parse`), never from here.
DATASETS: dict[str, list[str]] = {
    "fct_pass_attempts_scored": ["game_id", "play_id", "dataset", "season", "week", "club", "passer_nfl_id",
                                 "passer_name", "target_nfl_id", "target_name", "is_complete",
                                 "receiver_separation_arrival_yd", "expected_completion_probability",
                                 "completion_over_expected", "in_training"],
    "rpt_db_closing_leaderboard": ["dataset", "nfl_id", "display_name", "player_label", "position",
                                   "trajectories", "mean_score", "mean_ghost_score", "closing_vs_ghost",
                                   "mean_effort", "closing_rank"],
    "rpt_qb_decisions": ["dataset", "passer_nfl_id", "display_name", "attempts", "best_option_share",
                         "mean_chosen_cp", "mean_best_cp", "cp_given_up", "mean_options",
                         "mean_defender_closing_score"],
    "fct_target_options": ["game_id", "play_id", "dataset", "passer_nfl_id", "receiver_nfl_id",
                           "receiver_position_group", "is_actual_target", "is_best_option", "option_rank",
                           "completion_probability", "cp_below_best", "predicted_separation_yd",
                           "air_distance_yd", "flight_time_s"],
    "rpt_model_metrics": ["model", "version", "dataset", "split", "metric", "value", "n", "horizon_step"],
    "rpt_completion_calibration": ["model", "dataset", "bin", "mean_predicted", "observed_rate", "n"],
    "rpt_ghosting_metrics": ["model", "dataset", "split", "metric", "value", "n", "horizon_step"],
    "fct_tracking": ["game_id", "play_id", "nfl_id", "frame_id", "club", "is_ball", "is_offense",
                     "position_group", "display_name", "x_std", "y_std"],
    "rpt_row_accounting": ["source_file", "vintage", "entity", "raw_rows", "clean_rows", "quarantined_rows",
                           "is_balanced"],
    "fct_play_quality": ["game_id", "play_id", "source", "raw_rows", "clean_rows", "quarantined_rows",
                         "missing_frames", "is_play_quarantined"],
    "fct_ghost_trajectories": ["game_id", "play_id", "nfl_id", "split", "frame_id", "horizon_step",
                               "x_pred_std", "y_pred_std", "x_true_std", "y_true_std", "error_yd"],
}

# One select box for "which play" (game_id and play_id as one label): two cascading first-item selects race
# in Superset (the Play box can pick a play of another game before the Game box has applied).
GAME_PLAY = ("game_play", "VARCHAR", "cast(game_id as string) || ' / ' || cast(play_id as string)")

# Display-only columns computed by Superset from mart columns (labels, never numbers): the tracking rows of
# the ball carry no club, and a chart legend would show "<NULL>" for it; a bar's label is a name and team.
CALCULATED: dict[str, list[tuple[str, str, str]]] = {
    "fct_tracking": [("team", "VARCHAR", "coalesce(club, 'ball')"), GAME_PLAY],
    "fct_ghost_trajectories": [GAME_PLAY],
    # a bar per player and team: two players of one short name ("J.Williams") on different teams stay apart
    "fct_pass_attempts_scored": [("passer", "VARCHAR", "passer_name || ' (' || club || ')'"),
                                 ("receiver", "VARCHAR", "target_name || ' (' || club || ')'")],
}


# Saved metrics per dataset: (name, label, SQL aggregate, d3 format). Plain aggregates of one pass-level mart
# column, named and defined as the season marts name and define them (rpt_qb_cpoe, rpt_receiver_separation:
# CPOE = 100 x mean of completion_over_expected), so a chart can regroup the passes by any week range.
# The rate is a DOUBLE mean on both engines (the mart keeps only passes with is_complete known): with the
# literals 1.0/0.0 it was AVG of a DECIMAL(2,1), a DOUBLE on DuckDB but a DECIMAL(6,5) on Spark (0.64286 for
# 18/28, against DuckDB's 0.642857142857...; docs/scale-out.md "Superset on Spark").
_COMPLETED = "COUNT(CASE WHEN is_complete THEN 1 END)"
_RATE = "AVG(CAST(is_complete AS DOUBLE))"
_OVER_EXPECTED = "100 * AVG(completion_over_expected)"
METRICS: dict[str, list[tuple[str, str, str, str | None]]] = {
    "fct_pass_attempts_scored": [
        ("attempts", "attempts", "COUNT(*)", None),
        ("completions", "completions", _COMPLETED, None),
        ("completion_rate", "completion %", _RATE, ".1%"),
        ("expected_completion_rate", "expected completion %", "AVG(expected_completion_probability)", ".1%"),
        ("cpoe_pct", "CPOE (pp)", _OVER_EXPECTED, "+.1f"),
        ("targets", "targets", "COUNT(*)", None),
        ("catches", "catches", _COMPLETED, None),
        ("catch_rate", "catch %", _RATE, ".1%"),
        ("expected_catch_rate", "expected catch %", "AVG(expected_completion_probability)", ".1%"),
        ("catch_rate_over_expected_pct", "catch % over expected (pp)", _OVER_EXPECTED, "+.1f"),
        ("mean_separation_arrival_yd", "separation at arrival (yd)", "AVG(receiver_separation_arrival_yd)", ".2f"),
    ],
}


@dataclass(frozen=True)
class Column:
    """A mart column as its dbt contract declares it (the manifest): DuckDB type and description."""

    name: str
    data_type: str
    description: str = ""


@dataclass(frozen=True)
class Mart:
    name: str
    description: str
    columns: dict[str, Column]


# contract type names that both engines accept (dbt contracts are portable to Spark) -> the name the
# DuckDB warehouse reports, which is what Superset's dataset holds
_WAREHOUSE_TYPE_NAMES = {"STRING": "VARCHAR"}


def superset_type(data_type: str) -> str:
    """The dataset column type for a contract's `data_type`: upper-cased, as DuckDB and Superset spell it, with
    the portable `string` written as DuckDB's VARCHAR."""
    upper = data_type.strip().upper()
    return _WAREHOUSE_TYPE_NAMES.get(upper, upper)


def dataset_yaml(mart: Mart, names: list[str]) -> dict:
    """Superset's dataset for `mart`: the columns `names` with the contract's types and descriptions (the
    type upper-cased, as DuckDB and Superset spell it), then the calculated display columns."""
    missing = [n for n in names if n not in mart.columns]
    if missing:
        raise GenerateError(f"dataset {mart.name}: column(s) {', '.join(missing)} are not in the mart's dbt "
                            f"model (it has: {', '.join(mart.columns)})")
    untyped = [n for n in names if not mart.columns[n].data_type]
    if untyped:
        raise GenerateError(f"dataset {mart.name}: column(s) {', '.join(untyped)} have no data_type in the "
                            "mart's dbt YAML (a contract for a SQL mart; for a Python model, the type it writes)")
    columns = [(c.name, superset_type(c.data_type), None, c.description or None) for c in (mart.columns[n] for n in names)]
    columns += [(name, dtype, expression, None) for name, dtype, expression in CALCULATED.get(mart.name, [])]
    return {
        "table_name": mart.name, "main_dttm_col": None,
        "description": f"dbt mart marts.{mart.name}" + (f": {mart.description}" if mart.description else ""),
        "default_endpoint": None, "offset": 0, "cache_timeout": None, "catalog": None, "schema": "marts",
        "sql": None, "params": None, "template_params": None, "filter_select_enabled": True,
        "fetch_values_predicate": None, "extra": None, "normalize_columns": False,
        "always_filter_main_dttm": False, "uuid": _uuid("dataset", mart.name),
        "metrics": [{"metric_name": "count", "verbose_name": "COUNT(*)", "metric_type": "count",
                     "expression": "COUNT(*)", "description": None, "d3format": None, "currency": None,
                     "extra": {}, "warning_text": None}]
        + [{"metric_name": name, "verbose_name": label, "metric_type": None, "expression": expression,
            "description": None, "d3format": fmt, "currency": None, "extra": {}, "warning_text": None}
           for name, label, expression, fmt in METRICS.get(mart.name, [])],
        "columns": [{"column_name": name, "verbose_name": None, "is_dttm": False, "is_active": True,
                     "type": dtype, "advanced_data_type": None, "groupby": True, "filterable": True,
                     "expression": expression, "description": description, "python_date_format": None,
                     "extra": {}}
                    for name, dtype, expression, description in columns],
        "version": "1.0.0", "database_uuid": _uuid("database", DB_FILE),
    }


# -------------------------------------------------------------------------------------------- charts
def metric(column: str, aggregate: str = "MAX", label: str | None = None) -> dict:
    return {"expressionType": "SIMPLE", "column": {"column_name": column}, "aggregate": aggregate,
            "label": label or column, "hasCustomLabel": True,
            "optionName": f"metric_{aggregate}_{column}".lower()}


def where(column: str, operator: str, value=None) -> dict:
    """A simple adhoc WHERE filter (no SQL): `==` with a value, or `IS FALSE` / `IS NOT NULL` / `IS NULL`."""
    op_id = {"==": "EQUALS", "IN": "IN", "LIKE": "LIKE", "IS FALSE": "IS_FALSE", "IS TRUE": "IS_TRUE",
             "IS NULL": "IS_NULL", "IS NOT NULL": "IS_NOT_NULL"}[operator]
    return {"expressionType": "SIMPLE", "clause": "WHERE", "subject": column, "operator": operator,
            "operatorId": op_id, "comparator": value, "isExtra": False, "isNew": False,
            "filterOptionName": "filter_" + _uuid("filter", f"{column} {operator} {value}")[:8]}


def is_false(column: str) -> dict:
    return where(column, "IS FALSE")


def having(metric: str, operator: str, value: float) -> dict:
    """A HAVING filter on one saved metric (`attempts >= 20`): its aggregate, as the dataset defines it."""
    expression = _metric_expression(metric)
    return {"expressionType": "SQL", "clause": "HAVING", "sqlExpression": f"{expression} {operator} {value}",
            "subject": None, "operator": None, "comparator": None, "isExtra": False, "isNew": False,
            "filterOptionName": "filter_" + _uuid("filter", f"HAVING {metric} {operator} {value}")[:8]}


def _metric_expression(name: str) -> str:
    found = {m: expr for metrics in METRICS.values() for m, _, expr, _ in metrics}
    return found[name]


def _query_filters(filters) -> list[dict]:
    out = []
    for f in filters:
        if f.get("clause") == "HAVING":
            continue
        q = {"col": f["subject"], "op": f["operator"]}
        if f.get("comparator") is not None:
            q["val"] = f["comparator"]
        out.append(q)
    return out


@dataclass
class Chart:
    key: str
    title: str
    table: str
    viz_type: str
    params: dict
    query: dict
    description: str = ""
    chart_id: int = 0  # the id the dashboard layout uses for it in the bundle (remapped at import)

    @property
    def uuid(self) -> str:
        return _uuid("chart", self.key)


def _query(columns=(), metrics=(), orderby=(), row_limit=1000, filters=(), having_sql="") -> dict:
    return {"filters": list(filters), "extras": {"having": having_sql, "where": ""}, "applied_time_extras": {},
            "columns": list(columns), "metrics": list(metrics), "orderby": list(orderby),
            "annotation_layers": [], "row_limit": row_limit, "series_limit": 0, "order_desc": True,
            "url_params": {}, "custom_params": {}, "custom_form_data": {}, "post_processing": []}


def table_chart(key, title, table, columns, sort, ascending=False, row_limit=500, formats=None,
                filters=(), page_length=10, description="") -> Chart:
    """A raw-rows table, sortable by any column in the browser, with search. `sort` is a column or a list of
    (column, ascending) pairs for the initial order."""
    order = [(sort, ascending)] if isinstance(sort, str) else list(sort)
    params = {"viz_type": "table", "query_mode": "raw", "groupby": [], "metrics": [], "all_columns": columns,
              "percent_metrics": [], "adhoc_filters": list(filters),
              "order_by_cols": [json.dumps([c, asc]) for c, asc in order],
              "row_limit": row_limit, "server_page_length": page_length, "order_desc": True,
              "table_timestamp_format": "smart_date", "show_cell_bars": True, "color_pn": True,
              "include_search": True, "allow_render_html": False,
              "column_config": {**{c: {"showCellBars": False} for c in columns
                                   if c.endswith("_id") or c in ("closing_rank", "option_rank")},
                                **{c: {"d3NumberFormat": f} for c, f in (formats or {}).items()}},
              "conditional_formatting": []}
    return Chart(key, title, table, "table", params,
                 _query(columns=columns, orderby=[[c, asc] for c, asc in order], row_limit=row_limit,
                        filters=_query_filters(filters)), description)


def _having_sql(filters) -> str:
    return " AND ".join(f"({f['sqlExpression']})" for f in filters if f.get("clause") == "HAVING")


def agg_table_chart(key, title, table, groupby, metrics, sort, ascending=False, filters=(), row_limit=500,
                    page_length=10, description="") -> Chart:
    """A table of saved metrics per group (say per passer over the weeks a dashboard filter keeps), ordered
    by the saved metric `sort`; sortable by any column in the browser, with search. Number formats come
    from the dataset's metrics."""
    params = {"viz_type": "table", "query_mode": "aggregate", "groupby": list(groupby), "metrics": list(metrics),
              "all_columns": [], "percent_metrics": [], "adhoc_filters": list(filters),
              "timeseries_limit_metric": sort, "order_desc": not ascending, "row_limit": row_limit,
              "server_pagination": False, "server_page_length": page_length, "table_timestamp_format": "smart_date",
              "show_cell_bars": True, "color_pn": True, "include_search": True, "allow_render_html": False,
              "column_config": {}, "conditional_formatting": []}
    return Chart(key, title, table, "table", params,
                 _query(columns=groupby, metrics=metrics, orderby=[[sort, ascending]], row_limit=row_limit,
                        filters=_query_filters(filters), having_sql=_having_sql(filters)), description)


def agg_bar_chart(key, title, table, x, value, limit_by, row_limit=20, y_format="SMART_NUMBER", ascending=False,
                  filters=(), description="") -> Chart:
    """Horizontal bars of one saved metric per x (names on the vertical axis) for the `row_limit` x with
    the highest saved metric `limit_by` (say the 20 passers with the most attempts in the weeks the
    filters keep), sorted by the value (highest, or lowest with `ascending`, at the top)."""
    params = {"viz_type": "echarts_timeseries_bar", "x_axis": x, "metrics": [value], "groupby": [],
              "adhoc_filters": list(filters), "row_limit": row_limit, "timeseries_limit_metric": limit_by,
              "order_desc": True,
              # ECharts draws the first category of a horizontal bar chart at the bottom: sort the other way
              "x_axis_sort": value, "x_axis_sort_asc": not ascending,
              "x_axis_sort_series": "name", "x_axis_sort_series_ascending": True,
              "orientation": "horizontal", "show_legend": False, "legendType": "scroll",
              "legendOrientation": "top", "show_value": False, "rich_tooltip": True,
              "y_axis_format": y_format, "xAxisLabelRotation": 0, "truncate_metric": True,
              "color_scheme": "supersetColors", "comparison_type": "values", "annotation_layers": [],
              "x_axis_title": "", "x_axis_title_margin": 15, "y_axis_title": "", "y_axis_title_margin": 50,
              "y_axis_title_position": "Left", "zoomable": False}
    return Chart(key, title, table, "echarts_timeseries_bar", params,
                 _query(columns=[x], metrics=[value], orderby=[[limit_by, False]], row_limit=row_limit,
                        filters=_query_filters(filters), having_sql=_having_sql(filters)), description)


def bar_chart(key, title, table, x, value, label, row_limit=12, y_format="SMART_NUMBER", ascending=False,
              series=(), filters=(), x_title="", rotate=45, horizontal=False, description="") -> Chart:
    """Bars of one mart value per x (MAX of a one-row-per-entity column: no aggregation of its own),
    the `row_limit` best by the value (highest, or lowest with `ascending`), or by x when there are series.
    `horizontal` puts the names on the vertical axis (readable for long names), the best at the top."""
    m = metric(value, "MAX", label)
    # ECharts draws the first category of a horizontal bar chart at the bottom: sort the other way round
    sort_asc = True if series else (not ascending if horizontal else ascending)
    params = {"viz_type": "echarts_timeseries_bar", "x_axis": x, "metrics": [m], "groupby": list(series),
              "adhoc_filters": list(filters), "row_limit": row_limit, "order_desc": not ascending,
              "x_axis_sort": x if series else label, "x_axis_sort_asc": sort_asc,
              "x_axis_sort_series": "name", "x_axis_sort_series_ascending": True,
              "orientation": "horizontal" if horizontal else "vertical", "show_legend": bool(series), "legendType": "scroll",
              "legendOrientation": "top", "show_value": False, "rich_tooltip": True,
              "y_axis_format": y_format, "xAxisLabelRotation": 0 if horizontal else rotate, "truncate_metric": True,
              "color_scheme": "supersetColors", "comparison_type": "values", "annotation_layers": [],
              "x_axis_title": x_title, "x_axis_title_margin": 30 if x_title else 15,
              "y_axis_title": "" if horizontal else label, "y_axis_title_margin": 50,
              "y_axis_title_position": "Left", "zoomable": False}
    return Chart(key, title, table, "echarts_timeseries_bar", params,
                 _query(columns=[x, *series], metrics=[m], orderby=[[m, ascending]], row_limit=row_limit,
                        filters=_query_filters(filters)), description)


def xy_chart(key, title, table, viz_type, x, y, series, filters=(), row_limit=10000, field=False,
             x_title="", y_title="", y_format="SMART_NUMBER", x_format="SMART_NUMBER", label=None,
             x_bounds=None, description="") -> Chart:
    m = metric(y, "MAX", label or y)
    params = {"viz_type": viz_type, "x_axis": x, "metrics": [m], "groupby": list(series),
              "adhoc_filters": list(filters), "row_limit": row_limit, "order_desc": True,
              "show_legend": True, "legendType": "scroll", "legendOrientation": "top", "rich_tooltip": False,
              "markerEnabled": viz_type.endswith("line"), "markerSize": 4 if viz_type.endswith("scatter") else 6,
              "color_scheme": "supersetColors", "comparison_type": "values", "annotation_layers": [],
              "x_axis_title": x_title, "x_axis_title_margin": 30, "y_axis_title": y_title,
              "y_axis_title_margin": 50, "y_axis_title_position": "Left", "y_axis_format": y_format,
              "x_axis_number_format": x_format, "zoomable": False, "truncate_metric": True}
    if x_bounds:
        params.update(truncateXAxis=True, xAxisBounds=list(x_bounds))
    if field:
        # the field (120 x 53.3 yd); the y axis ends at 60 so its top label does not sit on the "50" tick
        params.update(truncateXAxis=True, xAxisBounds=FIELD["x"], truncateYAxis=True, y_axis_bounds=FIELD["y"])
    return Chart(key, title, table, viz_type, params,
                 _query(columns=[x, *series], metrics=[m], orderby=[[m, False]], row_limit=row_limit,
                        filters=_query_filters(filters)), description)


def chart_yaml(chart: Chart) -> dict:
    params = {"datasource": "0__table", **chart.params}
    query_context = {"datasource": {"id": 0, "type": "table"}, "force": False, "queries": [chart.query],
                     "form_data": params, "result_format": "json", "result_type": "full"}
    return {"slice_name": chart.title, "description": chart.description or None, "certified_by": None,
            "certification_details": None, "viz_type": chart.viz_type, "params": params,
            "query_context": json.dumps(query_context), "cache_timeout": None, "uuid": chart.uuid,
            "version": "1.0.0", "dataset_uuid": _uuid("dataset", chart.table)}


# ---------------------------------------------------------------------------------------- dashboards
@dataclass
class Filter:
    name: str
    table: str
    column: str
    first_item: bool = False
    parent: str | None = None  # name of the filter this one cascades from
    applies_to: list[str] = field(default_factory=list)  # chart keys in scope; empty = every chart
    kind: str = "filter_select"  # or filter_range (a numeric range: from-to, a slider)
    default: str | None = None  # a select's default value (the bundle's placeholders, filled in at load time)

    @property
    def id(self) -> str:
        return "NATIVE_FILTER-" + _uuid("filter", f"{self.table}.{self.column}.{self.name}")[:8]


@dataclass
class Dashboard:
    slug: str
    title: str
    rows: list[list[tuple[str, int]]]  # rows of (chart key, width out of 12)
    filters: list[Filter] = field(default_factory=list)
    description: str = ""
    height: int = 50


def dashboard_yaml(dash: Dashboard, charts: dict[str, Chart]) -> dict:
    position: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": dash.title}},
    }
    in_dash: list[str] = []
    for i, row in enumerate(dash.rows, 1):
        row_id = f"ROW-{dash.slug}-{i}"
        position["GRID_ID"]["children"].append(row_id)
        position[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                            "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for key, width in row:
            chart = charts[key]
            node_id = f"CHART-{key}"
            position[row_id]["children"].append(node_id)
            position[node_id] = {"type": "CHART", "id": node_id, "children": [],
                                 "parents": ["ROOT_ID", "GRID_ID", row_id],
                                 "meta": {"width": width, "height": dash.height, "chartId": chart.chart_id,
                                          "uuid": chart.uuid, "sliceName": chart.title}}
            in_dash.append(key)
    names = {f.name: f for f in dash.filters}
    native = []
    for f in dash.filters:
        excluded = [charts[k].chart_id for k in in_dash if f.applies_to and k not in f.applies_to]
        if f.kind == "filter_range":
            controls = {"enableEmptyFilter": False}
        else:
            controls = {"enableEmptyFilter": False, "defaultToFirstItem": f.first_item,
                        "multiSelect": not f.first_item, "searchAllOptions": False, "inverseSelection": False}
        mask: dict = {"extraFormData": {}, "filterState": {}, "ownState": {}}
        if f.default is not None:
            mask["extraFormData"] = {"filters": [{"col": f.column, "op": "IN", "val": [f.default]}]}
            mask["filterState"] = {"value": [f.default]}
        native.append({
            "id": f.id, "name": f.name, "filterType": f.kind, "type": "NATIVE_FILTER",
            "targets": [{"datasetUuid": _uuid("dataset", f.table), "column": {"name": f.column}}],
            "controlValues": controls,
            "defaultDataMask": mask,
            "cascadeParentIds": [names[f.parent].id] if f.parent else [],
            "scope": {"rootPath": ["ROOT_ID"], "excluded": excluded},
            "description": "", "requiredFirst": f.first_item,
        })
    metadata = {"color_scheme": "supersetColors", "refresh_frequency": 0, "expanded_slices": {},
                "label_colors": {}, "shared_label_colors": [], "color_scheme_domain": [],
                "timed_refresh_immune_slices": [], "cross_filters_enabled": False,
                "native_filter_configuration": native, "chart_configuration": {},
                "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []},
                                               "chartsInScope": []}}
    return {"dashboard_title": dash.title, "description": dash.description or None, "css": "", "slug": dash.slug,
            "certified_by": None, "certification_details": None, "published": True,
            "uuid": _uuid("dashboard", dash.slug), "position": position, "metadata": metadata,
            "version": "1.0.0"}


# ------------------------------------------------------------------------------------------- content
PCT = ".1%"
YD = ".2f"


def dbt_var(name: str, root: Path = REPO_ROOT) -> int:
    """A var of dbt_project.yml (the marts' thresholds), so a chart qualifies players as the marts do."""
    return int(yaml.safe_load((root / "dbt_project.yml").read_text())["vars"][name])


BUSIEST = 20  # the bars: the players with the most attempts / targets in the weeks the filters keep


def build_specs(root: Path = REPO_ROOT) -> tuple[list[Chart], list[Dashboard]]:
    # The leaderboards' qualifying minimum over the weeks a dashboard keeps (the tables' HAVING filter; edit
    # the chart to change it): the season marts' own (rpt_qb_cpoe, rpt_receiver_separation).
    min_attempts = dbt_var("min_qb_attempts", root)
    min_targets = dbt_var("min_receiver_targets", root)
    test_split = where("split", "==", "test")
    charts = [
        # 1. Leaderboards. Passers and receivers: the passes of fct_pass_attempts_scored aggregated by the
        # dataset's saved metrics (the season marts' definitions), so the Week filter regroups them; the
        # defensive backs: one row per player in the rpt_ mart (the bars show its value as it is)
        agg_table_chart("qb_cpoe_table", "QB completion % over expected", "fct_pass_attempts_scored",
                        ["passer_name", "club", "season", "dataset"],
                        ["cpoe_pct", "attempts", "completion_rate", "expected_completion_rate", "completions"],
                        "cpoe_pct", filters=[having("attempts", ">=", min_attempts)],
                        description="marts.fct_pass_attempts_scored per passer and team over the weeks the filters "
                                    "keep: completion % minus the completion model's expected % (out of sample), in "
                                    f"percentage points; passers with {min_attempts}+ attempts (the chart's "
                                    "HAVING filter)"),
        agg_bar_chart("qb_cpoe_bar", f"CPOE of the {BUSIEST} passers with the most attempts (pp)",
                      "fct_pass_attempts_scored", "passer", "cpoe_pct", "attempts", row_limit=BUSIEST,
                      y_format="+.1f"),
        agg_table_chart("receiver_separation_table", "Receiver separation at arrival", "fct_pass_attempts_scored",
                        ["target_name", "club", "season", "dataset"],
                        ["mean_separation_arrival_yd", "targets", "catch_rate_over_expected_pct", "catch_rate",
                         "expected_catch_rate", "catches"],
                        "mean_separation_arrival_yd", filters=[having("targets", ">=", min_targets)],
                        description="marts.fct_pass_attempts_scored per targeted receiver and team over the weeks "
                                    "the filters keep: distance to the nearest defender when the ball arrives, and "
                                    f"catch % over the model's expected %; receivers with {min_targets}+ targets"),
        agg_bar_chart("receiver_separation_bar",
                      f"Separation at arrival of the {BUSIEST} most-targeted receivers (yd)",
                      "fct_pass_attempts_scored", "receiver", "mean_separation_arrival_yd", "targets",
                      row_limit=BUSIEST, y_format=YD),
        table_chart("db_closing_table", "Defensive backs: closing on the target (lower = closes faster)",
                    "rpt_db_closing_leaderboard",
                    ["closing_rank", "player_label", "mean_score", "closing_vs_ghost", "trajectories", "mean_ghost_score",
                     "mean_effort", "position", "dataset"], "closing_rank", ascending=True,
                    formats={"mean_score": YD, "mean_ghost_score": YD, "closing_vs_ghost": "+.2f",
                             "mean_effort": YD},
                    description="marts.rpt_db_closing_leaderboard: mean closing score on real trajectories, "
                                "the ghost's on the same plays, and the difference (< 0: closed better)"),
        bar_chart("db_closing_bar", "Mean closing score by defender (lower = better)", "rpt_db_closing_leaderboard",
                  "player_label", "mean_score", "closing score", y_format=YD, ascending=True,
                  horizontal=True),
        # 2. QB decision-making
        table_chart("qb_decisions_table", "QB decisions: best option thrown to, completion probability given up",
                    "rpt_qb_decisions",
                    ["display_name", "best_option_share", "cp_given_up", "attempts", "mean_chosen_cp", "mean_best_cp",
                     "mean_options", "mean_defender_closing_score", "dataset"], "best_option_share",
                    formats={"best_option_share": PCT, "mean_chosen_cp": PCT, "mean_best_cp": PCT,
                             "cp_given_up": PCT, "mean_options": ".1f", "mean_defender_closing_score": YD}),
        bar_chart("qb_best_option_bar", "Share of throws to the best option", "rpt_qb_decisions", "display_name",
                  "best_option_share", "best-option share", y_format=PCT, horizontal=True),
        bar_chart("qb_cp_given_up_bar", "Completion probability given up per throw (lower = better)",
                  "rpt_qb_decisions", "display_name", "cp_given_up", "CP given up", y_format=PCT, ascending=True,
                  horizontal=True),
        xy_chart("target_options_scatter", "Options: predicted separation vs completion probability",
                 "fct_target_options", "echarts_timeseries_scatter", "predicted_separation_yd",
                 "completion_probability", ["is_actual_target"], x_title="predicted separation at arrival (yd)",
                 y_title="completion probability", y_format=PCT, label="completion probability",
                 x_format=".0f", x_bounds=(0, None)),
        table_chart("target_options_table", "Per-pass options (drill down with the Game / Play filters)",
                    "fct_target_options",
                    ["game_id", "play_id", "option_rank", "receiver_nfl_id", "is_actual_target", "is_best_option",
                     "completion_probability", "cp_below_best", "predicted_separation_yd", "air_distance_yd",
                     "flight_time_s", "receiver_position_group", "passer_nfl_id"],
                    [("game_id", True), ("play_id", True), ("option_rank", True)], row_limit=5000,
                    formats={"completion_probability": PCT, "cp_below_best": PCT, "predicted_separation_yd": YD,
                             "air_distance_yd": ".1f", "flight_time_s": ".2f"}),
        # 3. Model quality
        bar_chart("completion_vs_baseline", "Completion model vs air-distance baseline (held-out CV folds)",
                  "rpt_model_metrics", "metric", "value", "value", series=["model", "dataset"], y_format=".3f",
                  rotate=0, filters=[where("model", "LIKE", "completion%"), where("split", "==", "cv_heldout"),
                           where("metric", "IN", ["log_loss", "brier", "auc", "ece"])]),
        bar_chart("ghosting_vs_baselines", "Ghosting model vs constant velocity / acceleration (test, yd)",
                  "rpt_model_metrics", "metric", "value", "value (yd)", series=["model", "dataset"], y_format=YD,
                  rotate=0,
                  filters=[test_split, where("horizon_step", "IS NULL"),
                           where("metric", "IN", ["rmse_yd", "ade_yd", "fde_yd"])]),
        xy_chart("completion_calibration", "Completion model calibration", "rpt_completion_calibration",
                 "echarts_timeseries_line", "mean_predicted", "observed_rate", ["model", "dataset"],
                 x_title="mean predicted probability", y_title="observed completion rate", y_format=PCT,
                 x_format=".0%", label="observed rate"),
        xy_chart("ghosting_rmse", "Ghosting RMSE by horizon (test, yd)", "rpt_ghosting_metrics",
                 "echarts_timeseries_line", "horizon_step", "value", ["model", "dataset"],
                 filters=[test_split, where("metric", "LIKE", "rmse_yd_step_%")],
                 x_title="frames after the throw (10 Hz)", y_title="RMSE (yd)", y_format=YD, label="RMSE (yd)"),
        xy_chart("ghosting_ade", "Ghosting ADE by horizon (test, yd)", "rpt_ghosting_metrics",
                 "echarts_timeseries_line", "horizon_step", "value", ["model", "dataset"],
                 filters=[test_split, where("metric", "LIKE", "ade_yd_step_%")],
                 x_title="frames after the throw (10 Hz)", y_title="ADE (yd)", y_format=YD, label="ADE (yd)"),
        table_chart("model_metrics_table", "Model metrics (per model, dataset, split)", "rpt_model_metrics",
                    ["model", "version", "dataset", "split", "metric", "horizon_step", "value", "n"],
                    [("model", True), ("dataset", True), ("split", True), ("metric", True)], row_limit=5000,
                    formats={"value": ".4f"}),
        table_chart("row_accounting_table", "Data quality: raw = clean + quarantined, per file",
                    "rpt_row_accounting", ["source_file", "vintage", "entity", "raw_rows", "clean_rows",
                                           "quarantined_rows", "is_balanced"], "raw_rows"),
        table_chart("play_quality_table", "Data quality: plays with quarantined rows", "fct_play_quality",
                    ["game_id", "play_id", "source", "raw_rows", "quarantined_rows", "missing_frames",
                     "is_play_quarantined"], "quarantined_rows", row_limit=200),
        # 4. Play explorer
        xy_chart("play_all_players", "Play: every player and the ball", "fct_tracking",
                 "echarts_timeseries_scatter", "x_std", "y_std", ["team"], field=True,
                 x_title="x (yd, offence moves to +x)", y_title="y (yd)", label="y (yd)"),
        xy_chart("play_real_defenders", "Real defenders after the throw", "fct_ghost_trajectories",
                 "echarts_timeseries_scatter", "x_true_std", "y_true_std", ["nfl_id"], field=True,
                 x_title="x (yd)", y_title="y (yd)", label="y (yd)"),
        xy_chart("play_ghost_defenders", "Ghosted defenders (model), same frames", "fct_ghost_trajectories",
                 "echarts_timeseries_scatter", "x_pred_std", "y_pred_std", ["nfl_id"], field=True,
                 x_title="x (yd)", y_title="y (yd)", label="y (yd)"),
    ]
    for i, chart in enumerate(charts, 1):
        chart.chart_id = i
    play = ["play_all_players", "play_real_defenders", "play_ghost_defenders"]
    options = ["target_options_scatter", "target_options_table"]
    offence = ["qb_cpoe_table", "qb_cpoe_bar", "receiver_separation_table", "receiver_separation_bar"]
    dashboards = [
        Dashboard("leaderboards", "NGS leaderboards",
                  [[("qb_cpoe_table", 7), ("qb_cpoe_bar", 5)],
                   [("receiver_separation_table", 7), ("receiver_separation_bar", 5)],
                   [("db_closing_table", 7), ("db_closing_bar", 5)]],
                  filters=[Filter("Dataset", "fct_pass_attempts_scored", "dataset", default=DATASET_PLACEHOLDER),
                           Filter("Season", "fct_pass_attempts_scored", "season", parent="Dataset",
                                  applies_to=offence),
                           Filter("Week", "fct_pass_attempts_scored", "week", kind="filter_range",
                                  applies_to=offence),
                           Filter("Team", "fct_pass_attempts_scored", "club", parent="Dataset", applies_to=offence)],
                  description="Passers and receivers ranked over the weeks the filters keep (the passes of "
                              "fct_pass_attempts_scored, per player and team), defensive backs by the closing "
                              "leaderboard mart (per player over all his scored trajectories); real and simulated "
                              "data apart, the real games first wherever the warehouse holds any",
                  height=60),
        Dashboard("qb-decisions", "QB decision-making",
                  [[("qb_decisions_table", 12)],
                   [("qb_best_option_bar", 6), ("qb_cp_given_up_bar", 6)],
                   [("target_options_scatter", 5), ("target_options_table", 7)]],
                  filters=[Filter("Dataset", "rpt_qb_decisions", "dataset", default=DATASET_PLACEHOLDER),
                           Filter("Game", "fct_target_options", "game_id", parent="Dataset", applies_to=options),
                           Filter("Play", "fct_target_options", "play_id", parent="Game", applies_to=options)],
                  description="How often each passer threw to his best option, the completion probability he gave "
                              "up, and the options on every pass"),
        Dashboard("model-quality", "Model and data quality",
                  [[("completion_vs_baseline", 6), ("ghosting_vs_baselines", 6)],
                   [("completion_calibration", 4), ("ghosting_rmse", 4), ("ghosting_ade", 4)],
                   [("model_metrics_table", 12)],
                   [("row_accounting_table", 6), ("play_quality_table", 6)]],
                  description="How well the models do against baselines (each dataset a series of its own), "
                              "and what the quality rules removed"),
        Dashboard("play-explorer", "Play explorer: real and ghosted defenders",
                  [[("play_all_players", 12)], [("play_real_defenders", 6), ("play_ghost_defenders", 6)]],
                  filters=[Filter("Game", "fct_ghost_trajectories", "game_id", applies_to=play),
                           Filter("Play (game / play)", "fct_ghost_trajectories", "game_play", first_item=True,
                                  parent="Game", applies_to=play)],
                  description="One pass play on the field: every player and the ball, and the defenders after "
                              "the throw, real beside the ghosting model's",
                  height=60),
    ]
    return charts, dashboards


# ------------------------------------------------------------------------------------- the dbt manifest
def parse_manifest(project_dir: Path = REPO_ROOT) -> dict:
    """`dbt parse` of the project into a temporary target folder (no warehouse is opened) and its manifest."""
    import tempfile

    from ngs.build import dbt_env, dbt_executable
    from ngs.safety import run_child

    with tempfile.TemporaryDirectory(prefix="ngs-generate-") as tmp:
        env = dbt_env(Path(tmp) / "unused.duckdb", target_path=Path(tmp) / "target")
        env["DBT_LOG_PATH"] = str(Path(tmp) / "logs")
        env["NGS_REPO_ROOT"] = str(project_dir)
        cmd = [dbt_executable(), "parse", "--no-partial-parse", "--project-dir", str(project_dir),
               "--profiles-dir", str(project_dir)]
        code, out = run_child(cmd, env=env, cwd=project_dir, capture=True)
        if code != 0:
            raise GenerateError(f"dbt parse failed in {project_dir}:\n{out[-3000:]}")
        return json.loads((Path(tmp) / "target" / "manifest.json").read_text())


def marts_from_manifest(manifest: dict) -> dict[str, Mart]:
    """Every model of schema marts in the manifest, with its documented columns (SQL marts: the contract)."""
    marts: dict[str, Mart] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["config"].get("schema") != "marts":
            continue
        name = node.get("alias") or node["name"]
        marts[name] = Mart(name, " ".join((node.get("description") or "").split()),
                           {c["name"]: Column(c["name"], (c.get("data_type") or "").strip(),
                                              " ".join((c.get("description") or "").split()))
                            for c in node["columns"].values()})
    return marts


def model_names(manifest: dict) -> set[str]:
    return {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}


def select_specs(charts: list[Chart], dashboards: list[Dashboard], tables: set[str]
                 ) -> tuple[list[Chart], list[Dashboard], list[str]]:
    """Keep the charts whose mart exists (and the dashboards left with charts); say what was left out."""
    keep = {c.key for c in charts if c.table in tables}
    skipped = sorted({c.table for c in charts if c.table not in tables})
    kept_dashboards = []
    for dash in dashboards:
        rows = [[(k, w) for k, w in row if k in keep] for row in dash.rows]
        rows = [r for r in rows if r]
        if rows:
            filters = [f for f in dash.filters if f.table in tables]
            kept_dashboards.append(Dashboard(dash.slug, dash.title, rows, filters, dash.description, dash.height))
    return [c for c in charts if c.key in keep], kept_dashboards, skipped


# ------------------------------------------------------------------------------------------- the output
EXPOSURES_REL = "models/marts/_exposures.yml"
SECTIONS = ("databases", "datasets", "charts", "dashboards")


def _dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


@dataclass
class Generated:
    """What the generator writes: the bundle's files (relative to the bundle folder) and the exposures."""

    bundle: dict[str, str]
    exposures: str
    skipped: list[str] = field(default_factory=list)


def generate(manifest: dict, root: Path = REPO_ROOT, all_specs: bool = False) -> Generated:
    """The bundle and the exposures for the dbt project whose manifest is given. Pure: writes nothing."""
    charts, dashboards = build_specs(root)
    skipped: list[str] = []
    if not all_specs:
        charts, dashboards, skipped = select_specs(charts, dashboards, model_names(manifest))
    by_key = {c.key: c for c in charts}
    used = {c.table for c in charts} | {f.table for d in dashboards for f in d.filters}
    marts = marts_from_manifest(manifest)
    unknown = sorted(t for t in used if t not in DATASETS)
    if unknown:
        raise GenerateError(f"charts or filters read {', '.join(unknown)}: give each a DATASETS entry")
    docs: dict[str, dict] = {
        "metadata.yaml": {"version": "1.0.0", "type": "Dashboard", "timestamp": "2026-01-01T00:00:00+00:00"},
        f"databases/{DB_FILE}.yaml": {
            "database_name": DATABASE_NAME, "sqlalchemy_uri": URI_PLACEHOLDER, "cache_timeout": None,
            "expose_in_sqllab": True, "allow_run_async": False, "allow_ctas": False, "allow_cvas": False,
            "allow_dml": False, "allow_file_upload": False,
            "extra": {"allows_virtual_table_explore": True, "engine_params": {}, "metadata_params": {},
                      "schemas_allowed_for_file_upload": []},
            "uuid": _uuid("database", DB_FILE), "version": "1.0.0"},
    }
    for table in (t for t in DATASETS if t in used):
        if table not in marts:
            raise GenerateError(f"dataset {table}: no dbt model of that name in schema marts")
        docs[f"datasets/{DB_FILE}/{table}.yaml"] = dataset_yaml(marts[table], DATASETS[table])
    for chart in charts:
        docs[f"charts/{chart.key}.yaml"] = chart_yaml(chart)
    for dash in dashboards:
        docs[f"dashboards/{dash.slug}.yaml"] = dashboard_yaml(dash, by_key)
    return Generated({rel: _dump(doc) for rel, doc in docs.items()}, exposures_yaml(dashboards, by_key), skipped)


def exposures_yaml(dashboards: list[Dashboard], charts: dict[str, Chart]) -> str:
    """dbt exposures (type dashboard): one per dashboard, depending on the marts its charts read."""
    exposures = []
    for dash in dashboards:
        tables = sorted({charts[k].table for row in dash.rows for k, _ in row} | {f.table for f in dash.filters})
        exposures.append({
            "name": dash.slug.replace("-", "_"), "label": dash.title, "type": "dashboard", "maturity": "medium",
            "url": f"http://127.0.0.1:8088/superset/dashboard/{dash.slug}/",
            "description": (dash.description or dash.title)
            + f". Superset dashboard loaded by `ngs serve` from dashboards/dashboards/{dash.slug}.yaml.",
            "depends_on": [f"ref('{t}')" for t in tables],
            "owner": {"name": "NGS warehouse maintainers"},
        })
    header = ("# Generated by `python -m ngs.superset.generate` with dashboards/: the Superset dashboards and\n"
              "# the marts each one reads. Only refs to models that exist (dbt fails otherwise).\n")
    return header + yaml.safe_dump({"version": 2, "exposures": exposures}, sort_keys=False, width=110)


@dataclass
class Plan:
    """How the files on disk differ from what the generator makes."""

    changed: dict[Path, str]        # path -> new text (new files and files whose text differs)
    stale: list[Path]               # YAML files in the bundle's sections the generator no longer makes

    @property
    def clean(self) -> bool:
        return not self.changed and not self.stale


def plan(generated: Generated, out: Path, exposures: Path | None) -> Plan:
    wanted = {out / rel: text for rel, text in generated.bundle.items()}
    if exposures is not None:
        wanted[exposures] = generated.exposures
    changed = {p: t for p, t in wanted.items() if not p.is_file() or p.read_text() != t}
    stale = sorted(p for section in SECTIONS for p in (out / section).rglob("*.yaml") if p not in wanted)
    return Plan(changed, stale)


def apply(p: Plan, prune: bool = False) -> None:
    """Write the changed files (each through a temp file and a rename); delete stale ones only with `prune`."""
    for path, text in p.changed.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    if prune:
        for path in p.stale:
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Writes only the files whose text changes: the bundle under --out and the exposures file. A YAML "
               "file in the bundle's sections that the specs no longer make is listed (exit 1), and deleted "
               "only with --prune.")
    parser.add_argument("--out", type=Path, default=BUNDLE_DIR, help="bundle folder (default: dashboards/)")
    parser.add_argument("--exposures", type=Path, default=REPO_ROOT / EXPOSURES_REL,
                        help=f"dbt exposures file to write (default: {EXPOSURES_REL})")
    parser.add_argument("--no-exposures", action="store_true", help="write no exposures file")
    parser.add_argument("--manifest", type=Path, default=None,
                        help="read this dbt manifest.json instead of running `dbt parse`")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything would change")
    parser.add_argument("--prune", action="store_true", help="delete stale YAML files in the bundle's sections")
    parser.add_argument("--all", action="store_true",
                        help="write every chart, also those on marts the dbt project does not have yet")
    args = parser.parse_args(argv)
    try:
        manifest = json.loads(args.manifest.read_text()) if args.manifest else parse_manifest(REPO_ROOT)
        generated = generate(manifest, REPO_ROOT, args.all)
    except (GenerateError, OSError, ValueError) as exc:
        print(f"error: {exc}")
        return 2
    for table in generated.skipped:
        print(f"left out: the charts on marts.{table} (no dbt model of that name yet)")
    p = plan(generated, args.out, None if args.no_exposures else args.exposures)
    for path in sorted(p.changed):
        print(f"{'would write' if args.check else 'wrote'} {path}")
    for path in p.stale:
        print(f"{'deleted' if args.prune and not args.check else 'stale (not made by the specs)'}: {path}")
    if args.check:
        return 0 if p.clean else 1
    apply(p, prune=args.prune)
    print(f"{len(p.changed)} file(s) written, {len(generated.bundle)} in the bundle")
    return 0 if not p.stale or args.prune else 1


if __name__ == "__main__":
    raise SystemExit(main())
