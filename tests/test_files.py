"""Writing files: a directory or file is replaced whole or not at all, and a write that fails
because of the machine (a read-only folder, a full disk) is a refusal that names the folder, with
what was there before untouched. The disks here are real: a tmpfs of a few megabytes, a read-only
bind mount (tests run as root, where chmod stops no write); without root they are skipped."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from scoring import files
from scoring.files import replace_directory, written_aside, written_file


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(Path(directory).rglob("*")) if p.is_file()}


# replacing whole directories and files ---------------------------------------------------------


def make(directory: Path, files_: dict[str, str]) -> Path:
    for name, text in files_.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


@pytest.mark.parametrize("exchange", [True, False], ids=["one-swap", "two-renames"])
def test_a_directory_is_replaced_whole_and_nothing_is_left_beside_it(tmp_path, monkeypatch, exchange):
    if not exchange:  # a system or file system without renameat2's exchange
        monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    target = make(tmp_path / "site", {"old.html": "old", "sub/a.html": "a"})
    new = make(tmp_path / ".site.new", {"new.html": "new"})
    replace_directory(new, target)
    assert tree(target) == {"new.html": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_block_leaves_the_directory_and_removes_what_it_wrote(tmp_path):
    target = make(tmp_path / "results", {"scores.csv": "1"})
    with pytest.raises(KeyboardInterrupt):
        with written_aside(target) as aside:
            (aside / "scores.csv").write_text("2", encoding="utf-8")
            raise KeyboardInterrupt  # killed halfway
    assert tree(target) == {"scores.csv": b"1"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_file_is_replaced_whole_or_not_at_all(tmp_path):
    target = tmp_path / "schedule.csv"
    target.write_bytes(b"before")
    with pytest.raises(OSError):
        with written_file(target) as aside:
            aside.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == b"before" and sorted(p.name for p in tmp_path.iterdir()) == ["schedule.csv"]
    with written_file(target) as aside:
        aside.write_bytes(b"after")
    assert target.read_bytes() == b"after" and sorted(p.name for p in tmp_path.iterdir()) == ["schedule.csv"]

