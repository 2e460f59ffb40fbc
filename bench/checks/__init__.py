"""The check framework: evidence, context and findings (``base``), and the registry with its bound verdict helpers
(``registry``). The checks themselves live in their domains (``bench/domains/<domain>/checks.py``)."""

from bench.checks.base import CheckContext, Evidence, Finding, Outcome

__all__ = ["CheckContext", "Evidence", "Finding", "Outcome"]
