"""The one store of trained model artefacts: ``<root>/<kind>/<version>/`` plus ``<root>/<kind>/LATEST``.

``root`` is ``$NGS_ARTIFACTS_DIR`` (read on every call, so a test or a build can redirect it), else
``<repo>/artifacts`` (git-ignored). ``kind`` is the model family (``completion``, ``ghosting``).

* Writing is atomic: the files go to a temporary folder beside the version, which is checked (every required
  file present and non-empty) and then renamed into place; a crash leaves either the whole version or none.
  A version is a hash of its inputs, so an existing complete folder of that version is kept as it is.
* ``LATEST`` names the version the models read by default; it is replaced atomically (temp file + rename)
  and it is the only way a version is chosen without naming it: there is no fallback to the newest folder.
* Loading checks that the named version holds every required file; anything else is an
  ``ArtifactMissingError`` that names the folder and says how to train.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from ngs.errors import ArtifactMissingError
from ngs.paths import REPO_ROOT

LATEST = "LATEST"
HOW_TO_TRAIN = (
    "train one with `ngs build --data DIR` (or `dbt build` including the models tagged 'train'); "
    "`ngs build --no-train` and `dbt build --exclude tag:train` only score with a stored model"
)


def artifacts_root() -> Path:
    """``$NGS_ARTIFACTS_DIR``, else ``<repo>/artifacts``; read on every call."""
    return Path(os.environ.get("NGS_ARTIFACTS_DIR") or REPO_ROOT / "artifacts")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArtifactStore:
    """The versions of one model family. ``required``: the files a complete version holds."""

    def __init__(self, kind: str, required: tuple[str, ...], root: Path | None = None,
                 how_to_train: str = HOW_TO_TRAIN):
        self.kind, self.required, self._root, self.how_to_train = kind, required, root, how_to_train

    @property
    def root(self) -> Path:
        """The family's folder (resolved per call unless the store was given a root)."""
        return Path(self._root) if self._root is not None else artifacts_root() / self.kind

    def missing_files(self, version: str) -> list[str]:
        folder = self.root / version
        return [f for f in self.required if not (folder / f).is_file() or (folder / f).stat().st_size == 0]

    def is_complete(self, version: str) -> bool:
        return bool(version) and not self.missing_files(version)

    def versions(self) -> list[str]:
        """The complete versions stored (sorted by name; never used to pick one)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and not p.name.startswith(".") and self.is_complete(p.name))

    # ------------------------------------------------------------------------------------------ write
    def write(self, version: str, write_files: Callable[[Path], None], update_latest: bool = True) -> Path:
        """Store ``version``: ``write_files(folder)`` fills a temporary folder, which must then hold every
        required file, and is renamed to ``<root>/<version>``. Then LATEST names it (``update_latest``)."""
        if not version or "/" in version or version.startswith(".") or version == LATEST:
            raise ValueError(f"not a version name: {version!r}")
        root = self.root
        root.mkdir(parents=True, exist_ok=True)
        target = root / version
        if not self.is_complete(version):
            tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
            try:
                write_files(tmp)
                missing = [f for f in self.required if not (tmp / f).is_file() or (tmp / f).stat().st_size == 0]
                if missing:
                    raise RuntimeError(f"{self.kind} artefact {version}: {', '.join(missing)} not written")
                for f in tmp.iterdir():
                    if f.is_file():
                        with open(f, "rb") as fh:
                            os.fsync(fh.fileno())
                if target.exists():  # an incomplete folder (a crash of an older, non-atomic writer)
                    shutil.rmtree(target)
                try:
                    os.replace(tmp, target)
                except OSError:
                    if not self.is_complete(version):  # not a concurrent writer of the same version
                        raise
                _fsync_dir(root)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        if update_latest:
            self.set_latest(version)
        return target

    def set_latest(self, version: str) -> None:
        """Point LATEST at a complete stored version (temp file + rename)."""
        if not self.is_complete(version):
            raise ArtifactMissingError(self._incomplete(version))
        tmp = self.root / f".{LATEST}.{os.getpid()}.tmp"
        tmp.write_text(version + "\n")
        os.replace(tmp, self.root / LATEST)
        _fsync_dir(self.root)

    # ------------------------------------------------------------------------------------------- read
    def latest(self) -> str:
        """The version LATEST names; ArtifactMissingError if there is no LATEST or it names no complete
        version (the versions present are listed: LATEST is never guessed)."""
        pointer = self.root / LATEST
        if not pointer.is_file():
            present = self.versions()
            hint = (f"; stored versions: {', '.join(present)} (write one of them to {pointer} to use it)"
                    if present else "")
            raise ArtifactMissingError(f"no {self.kind} model in {self.root} (no {LATEST} file{hint}); "
                                       f"{self.how_to_train}")
        version = pointer.read_text().strip()
        if not self.is_complete(version):
            raise ArtifactMissingError(f"{pointer} names version {version!r}: " + self._incomplete(version))
        return version

    def resolve(self, version: str | None = None) -> Path:
        """The folder of ``version`` (default: LATEST), checked complete."""
        version = version or self.latest()
        if not self.is_complete(version):
            raise ArtifactMissingError(self._incomplete(version))
        return self.root / version

    def _incomplete(self, version: str) -> str:
        folder = self.root / version
        if not folder.is_dir():
            return f"{self.kind} model version {version!r} is not stored in {self.root}; {self.how_to_train}"
        return (f"{self.kind} model folder {folder} lacks {', '.join(self.missing_files(version))} "
                f"(an interrupted write?); {self.how_to_train}")


__all__ = ["LATEST", "ArtifactStore", "artifacts_root"]
