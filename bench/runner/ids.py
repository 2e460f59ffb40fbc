"""Run ids: sortable by time, unique enough for one machine (``20261129-170521-3f2a``)."""

from __future__ import annotations

import datetime as dt
import secrets


def new_run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
