"""One family for every refusal a user meets: `Refusal(code, message, hint)`.

A refusal is not a bug: a stage was asked to do something it must not (score a quarter whose
inputs have errors, pay from stale results, publish changed results without a revision...). The
command line prints the message, the hint and the code, and exits 1; tests assert the code.
Bad rows in the inputs are not refusals but problems (`scoring.inputs.problems`): they are
collected, all at once, into the validation report.
"""

from __future__ import annotations

from enum import StrEnum


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
    PERSONAL_DATA = "personal_data"  # what would be published holds a personal value
    STORE_BUSY = "store_busy"  # another publication holds the store's lock
    DISCLOSURE_RISK = "disclosure_risk"  # a hidden small count could be worked out from the release
    SITE_BUILD_FAILED = "site_build_failed"  # mkdocs failed, a link is broken, or the scan found data
    SITE_CONFIG_MISSING = "site_config_missing"
    UNKNOWN_PROFILE = "unknown_profile"  # scoring generate with a profile that does not exist


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
