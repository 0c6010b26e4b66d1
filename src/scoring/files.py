"""Writing files so that nothing is ever half written, and fingerprints of what was written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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
