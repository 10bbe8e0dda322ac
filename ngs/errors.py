"""Errors the CLI reports as one clear line (no traceback): they name the file, row or column at fault."""


class NgsError(Exception):
    """Base for every error a user can act on."""


class IngestError(NgsError):
    """A data file is malformed, truncated, empty, of an unknown vintage or lacks a required column."""


class BuildError(NgsError):
    """dbt build failed; the previous warehouse was left untouched."""


class ArtifactMissingError(NgsError):
    """A stored model artefact is missing: the message says which command trains it."""

