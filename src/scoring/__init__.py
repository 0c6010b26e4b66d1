"""Quarterly scoring, payment release and public disclosure of purchased social-assistance services."""

from importlib.metadata import PackageNotFoundError, version

try:
    # set from the repository when the package is installed (setuptools-scm): "0.1.dev14+g2e8d822",
    # with ".d<date>" when the working tree had uncommitted changes
    __version__ = version("scoring")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"
