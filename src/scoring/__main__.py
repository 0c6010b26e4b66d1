"""`python -m scoring` is the `scoring` command."""

from scoring.orchestration.cli import app

app(prog_name="scoring")
