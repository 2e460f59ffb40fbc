"""Synthetic capture bundles for benchmarks and tests: INSi traits searches, as a software verifying the INS it holds
sends them, and the CDA documents it produced (some carrying an INS with a wrong key), in HAR files of a thousand
entries, zipped as a field capture would be."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from bench.fixtures.documents import SAMPLE_PATIENT, build_cda
from simulators.common.soap import envelope
from simulators.insi.ins import ins_key
from simulators.insi.messages import result_body

SEARCH = (
    '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Header>'
    '<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing">'
    "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
    '</wsa:Action></soap:Header><soap:Body><r:RECSANSVITALE xmlns:r="http://www.cnamts.fr/INSiRecSans">'
    "<r:NomNaissance>TEST{index}</r:NomNaissance><r:Prenom>PATIENT</r:Prenom><r:Sexe>F</r:Sexe>"
    "<r:DateNaissance>1990-01-01</r:DateNaissance></r:RECSANSVITALE></soap:Body></soap:Envelope>"
)


def generate_bundle(path: Path, exchanges: int, *, documents_every: int = 50, wrong_key_every: int = 20) -> Path:
    """A zip of ``exchanges`` exchanges: INSi traits searches, and a CDA document every ``documents_every`` whose
    recordTarget carries an INS, with a wrong key every ``wrong_key_every`` documents."""
    response = envelope(result_body("01", None)).decode()
    held = SAMPLE_PATIENT.ins_matricule or ""
    template = build_cda("consultation-report", SAMPLE_PATIENT)
    if held.encode() not in template:
        raise RuntimeError("le document modèle ne porte pas l'INS à remplacer")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        entries: list[dict[str, object]] = []
        part = 0
        for index in range(exchanges):
            if documents_every and index % documents_every == documents_every - 1:
                number = index // documents_every
                nir = f"2900199{number % 1_000_000:06d}"
                key = ins_key(nir) if number % wrong_key_every else f"{(int(ins_key(nir)) + 1) % 97:02d}"
                archive.writestr(f"documents/{index:07d}.xml", template.replace(held.encode(), (nir + key).encode()))
                continue
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
                        "postData": {"mimeType": "application/soap+xml", "text": SEARCH.format(index=index)},
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
