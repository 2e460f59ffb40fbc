"""Where the bench finds its content (requirements, scenarios) and keeps its per-user state (PKI)."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def content_root() -> Path:
    """The folder holding ``requirements/`` and ``scenarios/``: ``$SEGUR_BENCH_CONTENT`` if set, the checkout
    when running from one, else the copy shipped inside the installed package."""
    override = os.environ.get("SEGUR_BENCH_CONTENT")
    if override:
        return Path(override)
    checkout = _PACKAGE.parent
    if (checkout / "requirements").is_dir() and (checkout / "scenarios").is_dir():
        return checkout
    return _PACKAGE / "content"


def state_dir() -> Path:
    """Per-user state (test PKI): ``$SEGUR_BENCH_HOME``, else ``$XDG_STATE_HOME/segur-bench``."""
    override = os.environ.get("SEGUR_BENCH_HOME")
    if override:
        return Path(override)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "segur-bench"


CONFIG_NAME = "segur-bench.yaml"  # the configuration file a folder may hold
