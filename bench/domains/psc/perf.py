"""Pro Santé Connect benchmark: access tokens issued per second through CIBA (backchannel request, then the poll
that redeems it: two HTTPS calls with client authentication, one keep-alive connection), and SMTP sessions per
second opened by XOAUTH2 with such a token (connect, STARTTLS, AUTH XOAUTH2 checked against the realm's key, QUIT).
The simulators run in their own process, as they would for a vendor's software."""

from __future__ import annotations

import multiprocessing
import smtplib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

CIBA_GRANT = "urn:openid:params:grant-type:ciba"


@dataclass(frozen=True)
class PscFigures:
    tokens: int
    tokens_per_s: float
    xoauth2_sessions: int
    xoauth2_sessions_per_s: float


def _serve(pki_dir: str, run_dir: str, ready: Any, stop: Any) -> None:
    from bench.domains.mss.simulators import MssSimulators
    from bench.domains.psc.simulators import PscSimulators
    from bench.runner.simulators import SimulatorHub
    from simulators.common.pki import ensure_pki

    with SimulatorHub(Path(run_dir), ensure_pki(Path(pki_dir))) as hub:
        psc = hub.of("psc", PscSimulators)
        ready.put((psc.discovery_url, psc.client_secret, hub.of("mss", MssSimulators).smtp))
        stop.wait()


def measure_psc(pki_dir: Path, tokens: int = 200, sessions: int = 200) -> PscFigures:
    from bench.domains.psc.simulators import CLIENT_ID
    from simulators.common.pki import ensure_pki
    from simulators.psc.professionals import load_professionals

    professional = next(iter(load_professionals().values()))
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    with tempfile.TemporaryDirectory(prefix="segur-bench-perf-psc-") as run_dir:
        server = context.Process(target=_serve, args=(str(pki_dir), run_dir, ready, stop), daemon=True)
        server.start()
        try:
            discovery, secret, smtp_url = ready.get(timeout=60)
            pki = ensure_pki(pki_dir)
            with httpx.Client(verify=str(pki.ca.cert), auth=(CLIENT_ID, secret), timeout=30) as http:
                meta = http.get(discovery).raise_for_status().json()
                ask = {"scope": "openid scope_all", "login_hint": professional.national_id}
                ask |= {"binding_message": "12", "channel": professional.channels[0]}
                token = ""
                clock = time.perf_counter()
                for _ in range(tokens):
                    started = http.post(meta["backchannel_authentication_endpoint"], data=ask).json()
                    poll = {"grant_type": CIBA_GRANT, "auth_req_id": started["auth_req_id"]}
                    token = http.post(meta["token_endpoint"], data=poll).raise_for_status().json()["access_token"]
                issued = time.perf_counter() - clock
            tls = pki.client_context()
            smtp = urlsplit(smtp_url)
            sasl = f"user={professional.mailbox}\x01auth=Bearer {token}\x01\x01"
            clock = time.perf_counter()
            for _ in range(sessions):
                with smtplib.SMTP(smtp.hostname or "", smtp.port or 0, timeout=30) as client:
                    client.starttls(context=tls)
                    client.ehlo()  # RFC 3207 §4.2: the session starts over after STARTTLS
                    client.auth("XOAUTH2", lambda challenge=None: sasl, initial_response_ok=True)
            opened = time.perf_counter() - clock
        finally:
            stop.set()
            server.join(timeout=10)
    return PscFigures(tokens, round(tokens / issued, 1), sessions, round(sessions / opened, 1))
