"""The check library: registered, pure functions over evidence that return findings.

Importing this package registers every check module.
"""

from bench.checks import cda as _cda  # noqa: F401  (registers the CDA checks)
from bench.checks import dmp as _dmp  # noqa: F401  (registers the DMP checks)
from bench.checks import ins as _ins  # noqa: F401  (registers the INS checks)
from bench.checks import mss as _mss  # noqa: F401  (registers the MSSanté checks)
from bench.checks import sec as _sec  # noqa: F401  (registers the security checks)
from bench.checks.base import CheckContext, Evidence, Finding, Outcome

__all__ = ["CheckContext", "Evidence", "Finding", "Outcome"]
