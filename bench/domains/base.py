"""What a domain (INS, DMP, MSSanté, ...) declares to the engine, in one place (pytest's ``hookspec``, Inferno's
test kits): its report labels, the requirement ids it owns, the journal channels and transactions its simulators
record, and the modules that register its checks and actions. The engine, replay and security checks read these
declarations and name no domain themselves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# How a channel's exchanges are exported and re-imported in a capture bundle (DESIGN.md: standard formats only):
# ``http`` as HAR 1.2 entries, ``mail`` as RFC 5322 files with a JSON sidecar, ``candidate`` as the candidate's own
# artefacts and answers (documents, read-only views).
ChannelKind = Literal["http", "mail", "candidate"]


@dataclass(frozen=True)
class Channel:
    """A journal channel: where a simulator (or the bench's candidate view) records exchanges."""

    name: str
    kind: ChannelKind
    # A server whose certificate no candidate should trust: anything past the TLS handshake there is a finding.
    untrusted: bool = False
    # Transactions that carry no data (what a client may say before STARTTLS: RFC 3207, RFC 3501).
    before_tls: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaptureFile:
    """A standalone file of a field capture that a domain recognises by its name's ending (``.eml``: an MSSanté
    message), and the transaction and evidence part it becomes."""

    suffix: str
    transaction: str
    part: str
    media_type: str


@dataclass(frozen=True)
class Domain:
    """A domain's declaration. ``modules`` are imported when the domain loads: they register the domain's checks
    and actions (decorators), so the declaration stays the one list of what the domain brings."""

    name: str
    label: str  # French, as the report shows it
    label_en: str
    requirement_prefixes: tuple[str, ...]
    modules: tuple[str, ...] = ()
    channels: tuple[Channel, ...] = ()
    transaction_prefixes: tuple[str, ...] = ()  # its transactions' names start so (``dmp.``: ``dmp.iti41``...)
    # Which of its transactions a captured HTTP request is, from the body and content type (None: not this domain's).
    identify_http: Callable[[bytes, str], str | None] | None = None
    capture_files: tuple[CaptureFile, ...] = ()

    def owns_transaction(self, transaction: str) -> bool:
        return transaction.startswith(self.transaction_prefixes) if self.transaction_prefixes else False
