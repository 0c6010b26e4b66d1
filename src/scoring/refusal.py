"""One family for every refusal a user meets: `Refusal(code, message, hint)`.

A refusal is not a bug: a stage was asked to do something it must not (score a quarter whose
inputs have errors, pay from stale results, publish changed results without a revision...). The
command line prints the message, the hint and the code, and exits 1; tests assert the code.
Bad rows in the inputs are not refusals but problems (`scoring.inputs.problems`): they are
collected, all at once, into the validation report.
"""

from __future__ import annotations

import errno
import os
import re
from enum import StrEnum
from pathlib import Path


class Code(StrEnum):
    # the raw inputs and the validated layer
    NO_REGION = "no_region"  # the data directory does not exist
    NO_QUARTERS = "no_quarters"  # a region with no quarter folder
    BAD_QUARTER = "bad_quarter"  # a quarter written wrongly, or out of the supported range
    BAD_ARGUMENTS = "bad_arguments"  # options that do not go together
    INPUTS_HAVE_ERRORS = "inputs_have_errors"  # the validation report has errors
    NOT_VALIDATED = "not_validated"  # no validated layer for the quarter
    VALIDATED_STALE = "validated_stale"  # the raw inputs changed since they were validated
    LAYER_UNREADABLE = "layer_unreadable"  # a layer on disk is damaged or from another version
    # the results layer
    NOT_SCORED = "not_scored"  # no results layer for the quarter
    RESULTS_STALE = "results_stale"  # the results were made from another validated layer
    NOTEBOOK_FAILED = "notebook_failed"  # a notebook of the suite raised an error
    # the public layer, publishing and the site
    NOT_PUBLIC = "not_public"  # no public layer for the quarter
    PUBLIC_STALE = "public_stale"  # the public layer was made from other results
    NEEDS_REVISION = "needs_revision"  # changed results of a published quarter, without --revise
    REVISION_WITHOUT_REASON = "revision_without_reason"
    NOTHING_TO_PUBLISH = "nothing_to_publish"
    MISSING_CONTACT = "missing_contact"  # region.yaml has no contact: the public could not object
    PERSONAL_DATA = "personal_data"  # what would be published holds a personal value
    STORE_BUSY = "store_busy"  # another publication holds the store's lock
    DISCLOSURE_RISK = "disclosure_risk"  # a hidden small count could be worked out from the release
    SITE_BUILD_FAILED = "site_build_failed"  # mkdocs failed, a link is broken, or the scan found data
    SITE_CONFIG_MISSING = "site_config_missing"
    NOT_PUBLISHED = "not_published"  # scoring withdraw: nothing of that quarter is online
    # scoring payments: a published version's schedule is there with other figures (the quarter was
    # withdrawn and published again from version 1): finance may have paid from it, it stays
    PUBLISHED_SCHEDULE_DIFFERS = "published_schedule_differs"
    WITHDRAWAL_WITHOUT_REASON = "withdrawal_without_reason"
    # the machine
    CANNOT_WRITE = "cannot_write"  # a folder to write is read-only or not ours (EACCES, EPERM, EROFS)
    DISK_FULL = "disk_full"  # no space left on the disk, or the quota is used up (ENOSPC, EDQUOT)
    UNKNOWN_PROFILE = "unknown_profile"  # scoring generate with a profile that does not exist
    # a province run
    OUTPUT_NOT_REACHABLE = "output_not_reachable"  # an output root other than a path or file:// URL
    CLUSTER_UNREACHABLE = "cluster_unreachable"  # no Dask scheduler answers at --scheduler


class Refusal(Exception):
    """What was refused (`code`), why (`message`, a sentence a clerk can act on) and what to do
    (`hint`)."""

    def __init__(self, code: Code, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}{self.hint and ' ' + self.hint}"


# Writing failed: the folder, not the program, is at fault -----------------------------------------

_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}
_FULL = {errno.ENOSPC, errno.EDQUOT}
# how Python prints an OSError: "[Errno 28] No space left on device: '/some/file'"
_PRINTED = re.compile(r"\[Errno (\d+)\] ([^:\n]+)(?:: '([^'\n]*)')?")


def written_error(text: str) -> OSError | None:
    """The first write error printed in `text` (the output of a notebook or of mkdocs, which run
    in other processes), as an OSError, if it is one that `cannot_write` answers."""
    for match in _PRINTED.finditer(text):
        code = int(match.group(1))
        if code in _READ_ONLY | _FULL:
            return OSError(code, match.group(2), match.group(3))
    return None


def cannot_write(error: OSError, where: Path | None = None) -> Refusal | None:
    """The refusal for an error from writing to a read-only folder or a full disk, naming the
    folder (the nearest existing folder of the path that failed, else `where`); None for any other
    error, which is a bug and keeps its traceback."""
    if error.errno not in _READ_ONLY | _FULL:
        return None
    folder = _existing_folder(Path(error.filename).parent) if error.filename else where
    shown = _shown(folder) if folder is not None else "输出文件夹"
    if error.errno in _FULL:
        return Refusal(Code.DISK_FULL,
                       f"{shown} 所在的磁盘已满(或超出了磁盘配额),文件没有写完({os.strerror(error.errno)})。",
                       "请清理该磁盘的空间(例如删除 build/ 下不再需要的旧结果)后重新运行;"
                       "已公布的内容和已有的结果没有改动。")
    return Refusal(Code.CANNOT_WRITE,
                   f"不能写入 {shown}:该文件夹是只读的,或当前用户没有写入权限({os.strerror(error.errno)})。",
                   "请让管理员给这个文件夹写入权限,或在可写的目录中运行;已公布的内容和已有的结果没有改动。")


def _existing_folder(path: Path) -> Path:
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def _shown(folder: Path) -> str:
    """The folder as the clerk typed it: relative to where the command runs, when inside it."""
    relative = os.path.relpath(folder)
    return str(folder) if relative.startswith("..") else relative
