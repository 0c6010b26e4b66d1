"""Quarterly scoring, payment release and public disclosure of purchased social-assistance services."""

__version__ = "0.1.0"
