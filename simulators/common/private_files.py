"""Files that hold a private key: created once, readable by their owner only from their first byte."""

from __future__ import annotations

import os
from pathlib import Path


def create_private_once(path: Path, data: bytes) -> None:
    """Create a file holding a private key, readable by its owner only (0600) from its first byte, unless it exists:
    two processes starting together (O_EXCL) keep one key and never overwrite each other's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
