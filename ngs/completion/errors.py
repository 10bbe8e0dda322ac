"""Errors of the completion model that a user can act on (subclasses of ngs.errors.NgsError)."""

from __future__ import annotations

from ngs.errors import NgsError


class CompletionDataError(NgsError):
    """The pass features cannot support grouped cross-validation (too few passes, games or one class)."""
