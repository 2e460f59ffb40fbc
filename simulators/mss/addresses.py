"""MSSanté addressing rules (Référentiel socle MSSanté #2, ANS; Mon espace santé messaging for professionals).

Every address of the space of trust is in an MSSanté domain: professionals' and organisations' mailboxes in an
operator's subdomain of ``mssante.fr``, and the patient's *Mon espace santé* mailbox at
``<matricule INS>@patient.mssante.fr``, whose local part must be a well-formed matricule (15 characters, right key).
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr

from simulators.insi.ins import matricule_problems

MSSANTE_DOMAIN = "mssante.fr"
PATIENT_DOMAIN = "patient.mssante.fr"
# The bench's own operator domain: the candidate's mailbox and the correspondents the scenarios use.
BENCH_DOMAIN = "segur-bench.mssante.fr"
CANDIDATE_MAILBOX = f"cabinet.martin@{BENCH_DOMAIN}"  # the software under test's mailbox
CORRESPONDENT = f"dr.confrere@{BENCH_DOMAIN}"  # the professional who writes to it and receives from it


@dataclass(frozen=True)
class AddressVerdict:
    """What the domain rules say of one address: accepted, or refused with an SMTP reply a client can show."""

    address: str
    kind: str  # "professional" | "patient" | "outside"
    problem: str | None = None

    @property
    def accepted(self) -> bool:
        return self.problem is None


def bare_address(value: str) -> str:
    """``Dr X <a@b>`` or ``<a@b>`` -> ``a@b`` (lower-cased domain, local part kept as written)."""
    address = parseaddr(value)[1] or value.strip().strip("<>")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}" if local else address


def judge_address(value: str) -> AddressVerdict:
    """Whether an MSSanté server accepts ``value`` as a recipient (or a sender) of the space of trust.

    >>> judge_address("169082A00401229@patient.mssante.fr").accepted
    True
    >>> judge_address("123@patient.mssante.fr").problem
    "boîte patient : le matricule compte 3 caractères au lieu de 15"
    """
    address = bare_address(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return AddressVerdict(address, "outside", "adresse mal formée")
    if domain == PATIENT_DOMAIN:
        problems = matricule_problems(local)
        if problems:
            return AddressVerdict(address, "patient", "boîte patient : " + "; ".join(p.message for p in problems))
        return AddressVerdict(address, "patient")
    if domain == MSSANTE_DOMAIN or domain.endswith("." + MSSANTE_DOMAIN):
        return AddressVerdict(address, "professional")
    return AddressVerdict(address, "outside", f"domaine {domain!r} hors de l'espace de confiance MSSanté")


def patient_matricule(address: str) -> str | None:
    """The matricule of a patient mailbox address, or None for any other address."""
    local, _, domain = bare_address(address).rpartition("@")
    return local.upper() if domain == PATIENT_DOMAIN and local else None
