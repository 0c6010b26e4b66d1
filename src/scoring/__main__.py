"""`python -m scoring` is the `scoring` command."""

from .cli import app

app(prog_name="scoring")
