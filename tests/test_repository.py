"""The repository holds everything a user needs: the README's commands are the ones CI runs, and
its links stay inside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_the_readme_starts_with_the_two_commands():
    install_and_demo, tests = readme_commands()[:2]
    assert install_and_demo.endswith("&& scoring demo") and "requirements/main.txt" in install_and_demo
    assert tests.endswith("&& python -m pytest -n auto") and "requirements/test.txt" in tests
    assert tests.startswith("sh .ci/system-packages"), "system packages are part of the one command"


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_the_readme_links_only_inside_the_repository():
    links = re.findall(r"\]\(([^)]+)\)", README)
    assert links
    for link in links:
        assert not link.startswith(("http://", "https://", "../")), link
        assert (ROOT / link.split("#")[0]).exists(), link
