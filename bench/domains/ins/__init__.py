"""INS: the INSi identity teleservice (simulator ``simulators/insi``), qualification and use of the INS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulators.common.journal import Exchange

from bench.domains.base import Channel, DashboardCounter, Domain, Port, RunningSimulators, SimulatorSetup
from bench.domains.ins.fixtures import InsiPatientFixture


def _identify_http(body: bytes, content_type: str) -> str | None:
    """An INSi call is recognised by the operation in its SOAP body."""
    from simulators.common.soap import SoapError
    from simulators.insi.messages import request_from_envelope

    if content_type.lower().startswith("multipart/related"):
        return None
    try:
        return request_from_envelope(body, max_bytes=len(body) + 1).transaction
    except (SoapError, ValueError):
        return None


PORT = Port("insi", "Port du simulateur INSi")
TLS_REFUSED = "insi.tls_refused"
CPS_PORT = Port("insi_cps", "Port du simulateur INSi en mode assertion CPS")


def _start_simulators(setup: SimulatorSetup) -> RunningSimulators:
    from bench.domains.ins.simulators import InsiSimulators

    return InsiSimulators(setup)


def _identity_traits(run_dir: Path, exchange: Exchange) -> list[dict[str, str | None]]:
    """The traits an INSi call asked about, and those INSi answered."""
    from simulators.common.journal import read_part
    from simulators.insi.messages import read_result, request_from_envelope

    request = read_part(run_dir, exchange, "request") or b""
    parsed = request_from_envelope(request, max_bytes=len(request) + 1)
    found: list[dict[str, str | None]] = [
        {
            "birth_name": parsed.birth_name,
            "birth_date": parsed.birth_date,
            "other_first_names": "|".join(parsed.first_names),
            "birth_place": parsed.birth_place,
        }
    ]
    response = read_part(run_dir, exchange, "response")
    result = read_result(response) if response else None
    if result and result.identity:
        identity = result.identity
        found.append(
            {
                "birth_name": identity.birth_name,
                "first_name": identity.first_name,
                "first_names": identity.first_names,
                "birth_date": identity.birth_date,
                "birth_place": identity.birth_place,
            }
        )
    return found


DOMAIN = Domain(
    name="ins",
    outcomes=(
        ("CR00", "INSi : une identité trouvée, INS et traits renvoyés"),
        ("CR01", "INSi : aucune identité trouvée"),
        ("CR02", "INSi : plusieurs identités trouvées, aucune renvoyée"),
        ("fault:*", "INSi : refus SOAP, code SIRAM après « fault: »"),
        ("refused", "connexion TLS refusée à la négociation"),
    ),
    label="Identité nationale de santé (INSi)",
    label_en="National health identity (INSi)",
    requirement_prefixes=("INS",),
    modules=("bench.domains.ins.checks", "bench.domains.ins.actions"),
    dashboard_counters=(DashboardCounter("insi_calls", "Appels au téléservice INSi"),),
    # A refused TLS handshake is journaled and carries nothing: the refusal itself (SEC-001).
    channels=(Channel("insi", "http", before_tls=(TLS_REFUSED,)),),
    transaction_prefixes=("insi.",),
    identify_http=_identify_http,
    identity_traits=_identity_traits,
    patient_fixture=InsiPatientFixture,
    start_simulators=_start_simulators,
    ports=(PORT, CPS_PORT),
)
