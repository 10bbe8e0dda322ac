"""Ingestion: recognise Big Data Bowl files by their columns and load them, validated, into `raw.*`."""

from ngs.ingest.load import DataFile, create_raw_tables, detect, discover, load_file, load_files

__all__ = ["DataFile", "create_raw_tables", "detect", "discover", "load_file", "load_files"]
