"""Hand-built INSi requests for the simulator's tests (independent of the reference candidate's client)."""

from __future__ import annotations

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ACTION = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
CONTEXT = (
    '<ctx:ContexteLPS xmlns:ctx="urn:siram:lps:ctxlps"><ctx:LPS><ctx:IDAM R="4">TEST</ctx:IDAM>'
    "<ctx:Nom>urn:lps:test:1</ctx:Nom></ctx:LPS></ctx:ContexteLPS>"
)
HEADERS = {"Content-Type": "application/soap+xml; charset=utf-8"}


def search_traits(
    birth_name: str,
    first_name: str,
    sex: str,
    birth_date: str,
    *,
    action: str | None = ACTION,
    context: bool = True,
    envelope_ns: str = SOAP12,
) -> bytes:
    header = (CONTEXT if context else "") + (
        f'<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">{action}</wsa:Action>' if action else ""
    )
    return (
        f'<soap:Envelope xmlns:soap="{envelope_ns}"><soap:Header>{header}</soap:Header><soap:Body>'
        '<i:RECSANSVITALE xmlns:i="http://www.cnamts.fr/INSiRecSans">'
        f"<i:NomNaissance>{birth_name}</i:NomNaissance><i:Prenom>{first_name}</i:Prenom><i:Sexe>{sex}</i:Sexe>"
        f"<i:DateNaissance>{birth_date}</i:DateNaissance></i:RECSANSVITALE></soap:Body></soap:Envelope>"
    ).encode()
