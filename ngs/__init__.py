"""Open NFL Next Gen Stats warehouse: shared code for the CLI, the dbt Python models and the simulator."""

__version__ = "0.1.0"
