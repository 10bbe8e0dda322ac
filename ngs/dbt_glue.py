"""Where dbt meets the package: the only package module the dbt Python models (python_models/) call besides
the functions they pass to it. Nothing in the package takes dbt's ``dbt`` object.

A model file does what only it can do, because dbt reads it as text: it calls ``dbt.ref("name")`` with
literal names (dbt's parser finds the dependencies in the file's syntax tree; a name in a variable is not a
dependency) and ``dbt.config.get("settings")`` when its function takes settings (dbt hands a Python model
only the config keys its own file reads). Then it calls :func:`run` with a package function and the
relations:

    def model(dbt, session):
        with dbt_glue.optional_ref() as trained:            # built first when this run trains (tag train)
            trained.relation = dbt.ref("ghosting_model_training")
        tracks = warehouse.inputs(dbt.ref("int_ball_in_air_tracks"), ...)
        return dbt_glue.run(warehouse.ghost_trajectories, tracks, trained.relation,
                            settings=dbt.config.get("settings"))

:func:`run` turns the ``settings`` mapping into the dataclass the function's ``settings`` parameter declares
(fields named after the dbt vars, converted to the field types) and calls the function under the one thread
limit (ngs.threads). Every value is defined once, in ``dbt_project.yml`` vars; the model's YAML fills
``config: settings: {name: "{{ var('name') }}"}``; the package holds no default for any of them
(tests/test_glue.py). Package functions take relations, frames and settings, so pytest calls them directly.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import TypeVar

import duckdb
import pandas as pd

from ngs.errors import NgsError
from ngs.threads import limited_threads

T = TypeVar("T")


class SettingsError(NgsError):
    """A model's config lacks a setting its package function needs, or holds a value of the wrong type."""


# ---------------------------------------------------------------------------------------------- settings
def _convert(name: str, raw: object, kind: type) -> object:
    if kind is str:
        return "" if raw in (None, "None") else str(raw)
    try:
        if kind is int:
            value = float(raw)
            if not value.is_integer():
                raise ValueError(raw)
            return int(value)
        return kind(raw)
    except (TypeError, ValueError):
        raise SettingsError(f"config {name}={raw!r} is not a {kind.__name__} (dbt var {name} in "
                            "dbt_project.yml)") from None


def build_settings(values: Mapping | None, cls: type[T]) -> T:
    """``cls`` (a dataclass) from the model's ``config: settings:`` mapping, each field converted to its
    type. A missing or unknown key is a SettingsError naming it and where it is set."""
    where = ("config `settings:` of the model's YAML (each `name: \"{{ var('name') }}\"`), read in the "
             "model file with dbt.config.get(\"settings\")")
    if not isinstance(values, Mapping):
        raise SettingsError(f"{cls.__name__} needs the {where}; got {values!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    missing = [n for n in names if n not in values]
    unknown = sorted(set(values) - set(names))
    if missing or unknown:
        raise SettingsError(f"{cls.__name__}: " + "; ".join(
            part for part in (f"missing {', '.join(missing)}" if missing else "",
                              f"unknown {', '.join(unknown)}" if unknown else "") if part) + f" in the {where}")
    return cls(**{n: _convert(n, values[n], hints[n]) for n in names})


def settings_class(func: Callable) -> type | None:
    """The dataclass of ``func``'s ``settings`` parameter, None if it takes none."""
    if "settings" not in inspect.signature(func).parameters:
        return None
    return typing.get_type_hints(func)["settings"]


def run(func: Callable[..., T], *args, settings: Mapping | None = None, **kwargs) -> T:
    """``func(*args, **kwargs)`` under the model thread limit, with ``settings=`` (the model's config
    mapping) as the dataclass ``func`` declares. Settings given to a function that takes none are an error
    (they would be ignored)."""
    cls = settings_class(func)
    if cls is not None:
        kwargs["settings"] = build_settings(settings, cls)
    elif settings is not None:
        raise SettingsError(f"{func.__qualname__} takes no settings, but the model passes {sorted(settings)}")
    from ngs.spark.bridge import find_spark  # no pyspark import: it looks at the arguments' types

    spark = find_spark(args, kwargs)
    if spark is not None:
        return _run_on_spark(spark, func, args, kwargs)
    with limited_threads():
        return func(*_rows(args), **_rows(kwargs))


def _run_on_spark(spark, func: Callable, args: tuple, kwargs: dict):
    """On Spark (a ref is a Spark DataFrame): the same function over DuckDB, on the executors game by game
    when it declares ``ngs.spark.bridge.per_game``, else on the driver (ngs.spark.bridge)."""
    from ngs.spark import bridge
    from ngs.threads import model_threads

    threads = model_threads()
    spec = getattr(func, "ngs_per_game", None)
    if spec is not None:
        return bridge.run_by_game(spark, func, spec, args, kwargs, threads)
    def call(*a, **k):
        return func(*_rows(a), **_rows(k))

    with limited_threads(threads):
        return bridge.run_on_driver(spark, call, args, kwargs, threads)


@dataclasses.dataclass(frozen=True)
class Rows:
    """A ref that the package function takes as a pandas DataFrame (an input of one row per pass or fewer):
    ``dbt_glue.run(f, dbt_glue.Rows(dbt.ref("x")))`` hands ``f`` the relation's ``.df()``. On Spark the rows
    go through the same DuckDB conversion (ngs.spark.bridge), so ``f`` sees the same dtypes on both engines.
    A pandas DataFrame (what an earlier ``run`` returned on DuckDB; on Spark it returns a Spark DataFrame)
    is handed over as it is."""
    relation: object


def _frame(value):
    if not isinstance(value, Rows):
        return value
    return value.relation if isinstance(value.relation, pd.DataFrame) else value.relation.df()


def _rows(values):
    """``Rows`` among the top-level arguments (a tuple, or the keyword dict) as pandas."""
    if isinstance(values, dict):
        return {k: _frame(v) for k, v in values.items()}
    return tuple(_frame(v) for v in values)


# --------------------------------------------------------------------------------------- optional refs
def is_missing_relation(exc: BaseException) -> bool:
    """What dbt-duckdb raises for ``dbt.ref`` of a model that is not built (excluded from this run and
    never built in this warehouse): its load function runs ``select * from <relation>``, and DuckDB answers
    ``CatalogException: Catalog Error: Table with name X does not exist!``."""
    if isinstance(exc, duckdb.CatalogException):
        return "does not exist" in str(exc)
    # dbt-spark's load on Spark: spark.table(name) raises AnalysisException [TABLE_OR_VIEW_NOT_FOUND]
    return type(exc).__name__ == "AnalysisException" and "TABLE_OR_VIEW_NOT_FOUND" in str(exc)


class optional_ref:  # noqa: N801 - used as a function: `with dbt_glue.optional_ref() as trained:`
    """A ref that may be absent from the run. The ``dbt.ref`` call stays in the model file (a literal name:
    the dependency edge, so dbt builds it first when it is in the run); this block swallows only "relation
    does not exist" and leaves ``relation`` None. Anything else (a name dbt does not know, a broken
    relation, an error of the model code) propagates.

        with dbt_glue.optional_ref() as trained:
            trained.relation = dbt.ref("ghosting_model_training")
    """

    def __init__(self) -> None:
        self.relation: duckdb.DuckDBPyRelation | None = None

    def __enter__(self) -> optional_ref:
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        return exc is not None and is_missing_relation(exc)


__all__ = ["SettingsError", "Rows", "build_settings", "is_missing_relation", "optional_ref", "run", "settings_class"]
