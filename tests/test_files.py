"""Writing files: a directory or file is replaced whole or not at all, and a write that fails
because of the machine (a read-only folder, a full disk) is a refusal that names the folder, with
what was there before untouched. The disks here are real: a tmpfs of a few megabytes, a read-only
bind mount (tests run as root, where chmod stops no write); without root they are skipped."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import helpers
import pytest
import sitebuild
from typer.testing import CliRunner

from scoring import files
from scoring.files import replace_directory, written_aside, written_file
from scoring.orchestration.cli import app
from scoring.refusal import Code, cannot_write, written_error

Q = helpers.QUARTER


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes()
            for p in sorted(Path(directory).rglob("*")) if p.is_file()}


def hashes(directory: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """sha256 of every file under `directory`, following links (the disclosures link)."""
    found = {}
    for folder, _, names in os.walk(directory, followlinks=True):
        for name in names:
            path = Path(folder) / name
            relative = path.relative_to(directory).as_posix()
            if relative not in skip:
                found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


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


# the machine's errors as refusals --------------------------------------------------------------


@pytest.mark.parametrize("number, code", [
    (errno.EROFS, Code.CANNOT_WRITE), (errno.EACCES, Code.CANNOT_WRITE), (errno.EPERM, Code.CANNOT_WRITE),
    (errno.ENOSPC, Code.DISK_FULL), (errno.EDQUOT, Code.DISK_FULL)])
def test_a_write_error_is_a_refusal_naming_the_nearest_existing_folder(tmp_path, number, code):
    (tmp_path / "build" / "payments").mkdir(parents=True)
    missing = tmp_path / "build" / "payments" / "county" / "2026Q2" / "schedule.xlsx"
    refusal = cannot_write(OSError(number, os.strerror(number), str(missing)))
    assert refusal.code == code and str(tmp_path / "build" / "payments") in refusal.message


def test_other_os_errors_stay_bugs():
    assert cannot_write(OSError(errno.ENOENT, "No such file or directory", "x")) is None


def test_a_write_error_printed_by_another_process_is_read_back():
    printed = "Traceback ...\nOSError: [Errno 28] No space left on device: '/srv/build/.site.ab/x.html'\n"
    error = written_error(printed)
    assert error.errno == errno.ENOSPC and error.filename == "/srv/build/.site.ab/x.html"
    assert written_error("FileNotFoundError: [Errno 2] No such file or directory: 'x'") is None


def test_a_full_disk_during_a_write_names_the_file(tmp_path, monkeypatch):
    # write() on a full disk raises an OSError without a file name; the helper adds it
    real_open = open

    class FullDisk:
        def __init__(self, *args, **kwargs):
            self.handle = real_open(*args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("builtins.open", FullDisk)
    with pytest.raises(OSError) as caught:
        files.write_bytes(tmp_path / "a.json", b"{}")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "a.json")


# the commands that write, on a real full disk and in a real read-only folder -------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with one scored region (data/county), the command line run from it."""
    region = helpers.write_region(tmp_path / "data" / "county")
    helpers.score(region, tmp_path / "build")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*arguments: str):
    return CliRunner().invoke(app, list(arguments))


def refused_with(result, code: Code) -> None:
    assert result.exit_code == 1, result.output
    assert f"({code})" in result.output, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError), result.output


def test_publish_on_a_full_disk_is_refused_and_the_publication_is_untouched(project):
    with helpers.small_disk(project / "site", "4m"):
        assert invoke("publish", "data/county", "--quarter", Q).exit_code == 0
        with open(project / "data" / "county" / "region.yaml", "a", encoding="utf-8") as handle:
            handle.write("rules:\n  payout_ratios: {优秀: 1.0, 良好: 0.9, 合格: 0.8, 不合格: 0.5}\n")
        helpers.score(project / "data" / "county", project / "build")
        filler = helpers.fill_disk(project / "site")
        before = hashes(project / "site")
        result = invoke("publish", "data/county", "--quarter", Q, "--revise", "--reason", "调整拨付比例")
        refused_with(result, Code.DISK_FULL)
        assert "site" in result.output
        assert hashes(project / "site") == before  # no byte changed, no generation left behind
        filler.unlink()
        assert invoke("publish", "data/county", "--quarter", Q, "--revise", "--reason", "调整拨付比例").exit_code == 0


def test_payments_into_a_read_only_folder_are_refused_and_the_schedule_is_untouched(project):
    assert invoke("payments", "data/county", "--quarter", Q).exit_code == 0
    before = hashes(project / "build" / "payments")
    with helpers.read_only(project / "build" / "payments"):
        result = invoke("payments", "data/county", "--quarter", Q)
        refused_with(result, Code.CANNOT_WRITE)
        assert "build/payments/county/2026Q2" in result.output
    assert hashes(project / "build" / "payments") == before


def test_payments_on_a_full_disk_are_refused_and_the_schedule_is_untouched(project):
    with helpers.small_disk(project / "build" / "payments", "1m"):
        assert invoke("payments", "data/county", "--quarter", Q).exit_code == 0
        filler = helpers.fill_disk(project / "build" / "payments")
        before = hashes(project / "build" / "payments")
        refused_with(invoke("payments", "data/county", "--quarter", Q), Code.DISK_FULL)
        assert hashes(project / "build" / "payments") == before
        filler.unlink()


@pytest.mark.slow
def test_run_into_a_read_only_results_folder_is_refused(project):
    # the notebook of the scores writes build/results/ in its kernel: its OSError comes back as
    # the notebook's error, and is answered as the refusal it is
    (project / "build" / "results").mkdir(parents=True, exist_ok=True)
    with helpers.read_only(project / "build" / "results"):
        result = invoke("run", "data/county", "--quarter", Q, "--workers", "1")
    refused_with(result, Code.CANNOT_WRITE)
    assert "build/results" in result.output


def test_run_into_a_read_only_build_folder_is_refused(project):
    with helpers.read_only(project / "build"):
        refused_with(invoke("run", "data/county", "--quarter", Q, "--workers", "1"), Code.CANNOT_WRITE)


@pytest.mark.slow
def test_site_on_a_full_disk_is_refused_and_the_built_site_is_untouched(tmp_path, monkeypatch):
    project = sitebuild.new_project(tmp_path)
    region = helpers.write_region(tmp_path / "data" / "county")
    sitebuild.score_and_publish(region, Q, project, tmp_path / "build")
    monkeypatch.chdir(project)
    with helpers.small_disk(project / "build", "24m"):
        assert invoke("site", "--data", str(tmp_path / "data")).exit_code == 0
        filler = helpers.fill_disk(project / "build")
        before = hashes(project / "build")
        # mkdocs runs in its own process: its error comes back in its output
        refused_with(invoke("site", "--data", str(tmp_path / "data")), Code.DISK_FULL)
        assert hashes(project / "build") == before  # the previous site, whole; no folder beside it
        filler.unlink()
        with helpers.read_only(project / "build"):
            refused_with(invoke("site", "--data", str(tmp_path / "data")), Code.CANNOT_WRITE)
        assert hashes(project / "build") == {k: v for k, v in before.items() if k != "filler.bin"}
