"""Writing files: never half written, safe to open in a spreadsheet, with their fingerprints.

Every CSV a person opens in a spreadsheet (the validation report, the public tables, the finance
schedule) is written in one dialect, `spreadsheet_csv`: UTF-8 with a BOM (Excel in China opens it
as Chinese), "\\n" line ends, and every text cell that a spreadsheet would run as a formula made
inert with a leading apostrophe (`inert`, undone only by `uninert`).
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

# A cell starting with one of these is run as a formula by Excel, LibreOffice or WPS.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def uninert(text: str) -> str:
    """The text `inert` was given back: the one inverse, for every prefix it guards."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES) else text


def spreadsheet_csv(table: pd.DataFrame, text_columns: Iterable[str] | None = None) -> bytes:
    """The one CSV dialect for files people open in a spreadsheet. `text_columns` (default: every
    column of text) are made inert; numbers written as numbers stay as they are."""
    out = table.copy()
    columns = [c for c in out.columns if out[c].dtype == object] if text_columns is None else text_columns
    for column in columns:
        if column in out.columns:
            out[column] = out[column].map(lambda v: inert(str(v)))
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def read_spreadsheet_csv(path: Path, text_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A `spreadsheet_csv` file back as text cells, the inert guard undone."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for column in table.columns if text_columns is None else text_columns:
        if column in table.columns:
            table[column] = table[column].map(uninert)
    return table


# renameat2(2)'s flag that swaps two paths in one step (Linux 3.15+, glibc 2.28+; ext4, xfs,
# btrfs, tmpfs...): a directory replaced this way is never missing, not even for an instant.
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths atomically; False where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(second))


def replace_directory(new: Path, target: Path) -> None:
    """Put the complete directory `new` in `target`'s place (same file system) and remove the old
    one. Where the system can swap the two in one step, `target` is at every instant either the
    old or the new directory, whole; elsewhere the old one is renamed away first, so a kill between
    the two renames leaves it beside `target` as `.<name>.old.<id>`."""
    new, target = Path(new), Path(target)
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old directory
        return
    old = target.parent / f".{target.name}.old.{uuid.uuid4().hex[:12]}"
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def written_aside(target: Path) -> Iterator[Path]:
    """A fresh directory beside `target` to write a whole layer into. When the block succeeds it
    takes `target`'s place (`replace_directory`); when it fails or is killed, `target` is
    untouched and the directory is removed (or left hidden, named `.<name>.<id>`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}"
    aside.mkdir()
    try:
        yield aside
        replace_directory(aside, target)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise


@contextmanager
def written_file(target: Path) -> Iterator[Path]:
    """A fresh path beside `target` to write one file to; it replaces `target` (one rename) when
    the block succeeds, and is removed when it fails: `target` is never half written."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}"
    try:
        yield aside
        os.replace(aside, target)
    except BaseException:
        aside.unlink(missing_ok=True)
        raise


def json_bytes(document) -> bytes:
    """JSON as every record and public file of the product is written: sorted keys, indented,
    UTF-8, one final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write_bytes(path: Path, data: bytes) -> None:
    """Write a file. A failed write (a full disk raises from `write`, which names no file) names
    the file it was writing, so that the refusal can say which folder is full or read-only."""
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as error:
        if error.filename is None:
            raise OSError(error.errno, error.strerror, str(path)) from error
        raise


def write_json(path: Path, document) -> None:
    write_bytes(Path(path), json_bytes(document))


def file_sha256(path: Path) -> str:
    digest_ = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest_.update(block)
    return digest_.hexdigest()


def digest(document) -> str:
    """sha256 of a JSON document's canonical text."""
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()
