# The single door: set-up, demo, build, serve, test, bench, lint.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DATA := data/demo
DEMO_GAMES ?= 4
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False

.PHONY: venv demo build serve stop test lint bench clean venv-spark spark-up spark-down

venv: $(STAMP)
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt -c constraints.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

## venv-spark: the optional Spark engine (pyspark, dbt-spark, PyHive) into the same .venv; Java 17+ needed
SPARK_STAMP := $(VENV)/.installed-spark
venv-spark: $(SPARK_STAMP)
$(SPARK_STAMP): $(STAMP) requirements-spark.txt constraints.txt
	$(BIN)/pip install -q -r requirements-spark.txt -c constraints.txt
	$(BIN)/pip check
	@command -v java >/dev/null || test -x "$$JAVA_HOME/bin/java" || \
		echo "warning: no java: apt-get install -y openjdk-17-jre-headless (Spark needs Java 17+)"
	touch $(SPARK_STAMP)

## spark-up / spark-down: a local Spark master + 2 workers (+ thrift server: THRIFT=1), stopped by PID
spark-up: venv-spark
	$(BIN)/ngs spark up $(if $(THRIFT),--thrift)

spark-down: venv
	$(BIN)/ngs spark down

## demo: simulate a few games, build the warehouse (models trained), start Superset with the dashboards
demo: venv
	$(BIN)/ngs simulate --games $(DEMO_GAMES) --seed 7 --out $(DEMO_DATA)
	$(BIN)/ngs build --data $(DEMO_DATA)
	@if $(BIN)/python -c "import ngs.superset" 2>/dev/null; then $(BIN)/ngs serve; fi

build: venv
	$(BIN)/ngs build --data $(DATA)

serve: venv
	$(BIN)/ngs serve

stop: venv
	$(BIN)/ngs serve --stop

## test: every test (pytest, which also runs dbt build with all data and unit tests), a module per worker
## (pytest-xdist; TEST_WORKERS=0 runs them in this process, one after another)
TEST_WORKERS ?= 2
test: venv
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

lint: venv
	$(BIN)/ruff check ngs python_models tests
	$(BIN)/sqlfluff lint models --processes 2

## bench: every figure in one run (GAMES=10): the build and its stages, pandas (pandas_s), the same work (same_work_s,
# same_work_speedup_vs_pandas), the floor (floor_s, vs_floor) and an appended week (incremental_week_s)
bench: venv
	$(BIN)/ngs bench --games $(or $(GAMES),10) --json --incremental

clean:
	rm -rf target warehouse artifacts data .superset screenshots
