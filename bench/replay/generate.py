"""Synthetic capture bundles for benchmarks and tests: INSi verification exchanges (some with a wrong matricule key)
and CDA documents, in HAR files of a thousand entries, zipped as a field capture would be."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from bench.fixtures.documents import SAMPLE_PATIENT, build_cda
from simulators.common.soap import envelope
from simulators.insi.ins import ins_key
from simulators.insi.messages import result_body

VERIFY = (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
    '<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:ServiceIdentiteCertifiee:1.0.0:verifierIdentite'
    '</wsa:Action></soap:Header><soap:Body><v:VERIFICATION xmlns:v="http://www.cnamts.fr/INSiVerif">'
    "<v:NumIdentifiant>{nir}</v:NumIdentifiant><v:Cle>{key}</v:Cle><v:OID>1.2.250.1.213.1.4.10</v:OID>"
    "<v:NomNaissance>TEST</v:NomNaissance><v:Prenom>PATIENT</v:Prenom><v:Sexe>F</v:Sexe>"
    "<v:DateNaissance>1990-01-01</v:DateNaissance></v:VERIFICATION></soap:Body></soap:Envelope>"
)


def generate_bundle(path: Path, exchanges: int, *, documents_every: int = 50, wrong_key_every: int = 20) -> Path:
    """A zip of ``exchanges`` exchanges: INSi verifications, and a CDA document every ``documents_every``."""
    response = envelope(result_body("01", None)).decode()
    document = build_cda("consultation-report", SAMPLE_PATIENT)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries: list[dict[str, object]] = []
        part = 0
        for index in range(exchanges):
            if documents_every and index % documents_every == documents_every - 1:
                archive.writestr(f"documents/{index:07d}.xml", document)
                continue
            nir = f"2900199{index % 1_000_000:06d}"
            key = ins_key(nir) if index % wrong_key_every else f"{(int(ins_key(nir)) + 1) % 97:02d}"
            entries.append(
                {
                    "startedDateTime": "2026-11-24T08:00:00Z",
                    "time": 0,
                    "request": {
                        "method": "POST",
                        "url": "https://insi.example.invalid/insi",
                        "httpVersion": "HTTP/1.1",
                        "headers": [],
                        "cookies": [],
                        "queryString": [],
                        "headersSize": -1,
                        "bodySize": -1,
                        "postData": {"mimeType": "application/soap+xml", "text": VERIFY.format(nir=nir, key=key)},
                    },
                    "response": {
                        "status": 200,
                        "statusText": "",
                        "httpVersion": "HTTP/1.1",
                        "headers": [],
                        "cookies": [],
                        "content": {"size": len(response), "mimeType": "application/soap+xml", "text": response},
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": -1,
                    },
                    "cache": {},
                    "timings": {"send": 0, "wait": 0, "receive": 0},
                }
            )
            if len(entries) == 1000:
                archive.writestr(f"har/{part:05d}.har", json.dumps({"log": {"version": "1.2", "entries": entries}}))
                entries, part = [], part + 1
        if entries:
            archive.writestr(f"har/{part:05d}.har", json.dumps({"log": {"version": "1.2", "entries": entries}}))
    return path
