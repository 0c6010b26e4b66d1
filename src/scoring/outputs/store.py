"""The publication store: `site/disclosures` is a link to a complete generation, swapped atomically.

A publish builds the next generation beside the current one (hard links to unchanged files, new
files written fresh) and then swaps the link with one `rename`. A publish killed at any point
leaves the link on the previous, intact generation; the leftovers are removed by the next publish.

Every change to the store (reading what is published to plan a change, writing the next
generation, swapping, cleaning up) happens under one exclusive lock, `site/.disclosures.lock`
(`Store.locked`): two publishes at once take turns, so neither plans on a generation the other is
replacing, and a generation the live link points at is never deleted. The lock is an advisory
`flock`, released by the kernel when its holder exits, however it exits.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from scoring.files import write_bytes

LOCAL = ZoneInfo("Asia/Shanghai")
DISCLOSURES = "disclosures"
STORE = ".disclosures"
MANIFEST = "manifest.json"
WITHDRAWN = "withdrawn.json"  # what a withdrawn quarter leaves in its place: when, why, which versions
PROVINCES = "_provinces"  # which counties make up each published province quarter
LOCK = ".disclosures.lock"
LOCK_TIMEOUT = float(os.environ.get("SCORING_LOCK_TIMEOUT", "120"))  # seconds to wait for another publish


class StoreBusy(Exception):
    """Another process holds the store's lock for longer than the timeout."""


def now_text() -> str:
    return datetime.now(LOCAL).replace(microsecond=0).isoformat()


# the store: generations and the atomic swap --------------------------------------------------


def read_manifest(quarter_dir: Path) -> dict | None:
    path = Path(quarter_dir) / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_file(path: Path, data: bytes) -> None:
    """Write fresh: a hard-linked file shared with the previous generation is replaced, never
    modified in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    write_bytes(path, data)


class Store:
    """`site/disclosures` -> `site/.disclosures/gen-NNNNNN`, swapped atomically."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = Path(site_dir)
        self.link = self.site_dir / DISCLOSURES
        self.store = self.site_dir / STORE

    @contextmanager
    def locked(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the store's exclusive lock (waiting up to `timeout` seconds for it)."""
        self.site_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + (LOCK_TIMEOUT if timeout is None else timeout)
        with open(self.site_dir / LOCK, "a+b") as handle:
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(str(self.site_dir)) from None
                    time.sleep(0.05)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def current(self) -> Path | None:
        if self.link.is_symlink():
            target = self.link.resolve()
            return target if target.is_dir() else None
        if self.link.is_dir():  # an older layout: adopt it as the first generation
            self.store.mkdir(parents=True, exist_ok=True)
            adopted = self.store / "gen-000000"
            os.rename(self.link, adopted)
            self._point_at(adopted)
            return adopted
        return None

    def _point_at(self, generation: Path) -> None:
        temporary = self.site_dir / f".disclosures-link-{os.getpid()}"
        if temporary.is_symlink() or temporary.exists():
            temporary.unlink()
        os.symlink(os.path.relpath(generation, self.site_dir), temporary)
        os.replace(temporary, self.link)  # the one atomic step

    def _next_name(self, current: Path | None) -> Path:
        numbers = [int(m.group(1)) for p in self.store.glob("gen-*")
                   if (m := re.fullmatch(r"gen-(\d+)", p.name))]
        return self.store / f"gen-{max(numbers, default=0) + 1:06d}"

    def clean(self) -> None:
        """Remove every generation but the current one (a killed publish leaves one behind)."""
        current = self.current()
        for path in self.store.glob("*") if self.store.is_dir() else []:
            if current is None or path.resolve() != current:
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
        for stray in self.site_dir.glob(".disclosures-link-*"):
            stray.unlink()

    @contextmanager
    def transaction(self) -> Iterator[Path]:
        """A new generation to write into, a copy of the current one; swapped in on success."""
        self.site_dir.mkdir(parents=True, exist_ok=True)
        self.store.mkdir(parents=True, exist_ok=True)
        self.clean()
        current = self.current()
        generation = self._next_name(current)
        if current is not None:
            shutil.copytree(current, generation, copy_function=os.link, symlinks=True)
        else:
            generation.mkdir(parents=True)
        try:
            yield generation
            _swap(self, generation)
        except BaseException:
            if self.current() != generation.resolve():
                shutil.rmtree(generation, ignore_errors=True)
            raise
        if current is not None:
            shutil.rmtree(current, ignore_errors=True)


def _swap(store: Store, generation: Path) -> None:
    store._point_at(generation)


