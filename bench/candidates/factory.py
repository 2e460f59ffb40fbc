"""Build the adapter a configuration asks for."""

from __future__ import annotations

from bench.candidates.base import AdapterError, CandidateAdapter
from bench.config import CandidateConfig


def make_adapter(config: CandidateConfig) -> CandidateAdapter:
    """The adapter for ``config.kind``; raises AdapterError when its settings are missing or wrong."""
    if config.kind == "reference":
        from bench.candidates.reference import ReferenceCandidate

        return ReferenceCandidate(defects=config.defects)
    if config.defects:
        raise AdapterError("les défauts ne s'appliquent qu'au candidat de référence")
    if config.kind == "http-hook":
        if not config.hook_url:
            raise AdapterError("candidat http-hook : hook_url manquant (configuration ou --hook-url)")
        from bench.candidates.http_hook import HttpHookAdapter

        return HttpHookAdapter(config.hook_url, token=config.hook_token)
    if config.kind == "command":
        if not config.commands:
            raise AdapterError("candidat command : aucune commande configurée (candidate.commands)")
        from bench.candidates.command import CommandAdapter

        return CommandAdapter(config.commands, timeout=config.command_timeout)
    from bench.candidates.operator import OperatorAdapter

    return OperatorAdapter(timeout=config.operator_timeout)
