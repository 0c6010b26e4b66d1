"""Writing files: never half written, safe to open in a spreadsheet, with their fingerprints.

Every CSV a person opens in a spreadsheet (the validation report, the public tables, the finance
schedule) is written in one dialect, `spreadsheet_csv`: UTF-8 with a BOM (Excel in China opens it
as Chinese), "\\n" line ends, and every text cell that a spreadsheet would run as a formula made
inert with a leading apostrophe (`inert`, undone only by `uninert`).
"""

from __future__ import annotations

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


@contextmanager
def written_aside(target: Path) -> Iterator[Path]:
    """A fresh directory beside `target` to write a whole layer into. When the block succeeds it
    takes `target`'s place (the old one is renamed away, then removed); when it fails or is killed,
    `target` is untouched and the directory is removed (or left hidden, named `.<name>.<id>`)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    aside = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}"
    aside.mkdir()
    try:
        yield aside
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old.{uuid.uuid4().hex[:12]}"
            os.rename(target, old)
        os.rename(aside, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(aside, ignore_errors=True)
        raise


def json_bytes(document) -> bytes:
    """JSON as every record and public file of the product is written: sorted keys, indented,
    UTF-8, one final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write_json(path: Path, document) -> None:
    Path(path).write_bytes(json_bytes(document))


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
