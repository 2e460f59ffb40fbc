"""Pro Santé Connect checks, from what the PSC simulator recorded (authentication requests, token issuances, session
ends) and what the other simulators saw of the identity the candidate carried: SEC-002 (SC.PSC.01/04: the
professional signs in through PSC and signs out), SEC-012 (SC.PSC.08: ``acr_values=eidas1``), DMP-035
(SC.DMP/PSC.01: the DMP is called with the PSC identity, in the AIR mode) and MSS-018 (SC.MSS/CONF.10/11: MSSanté
sessions end with the PSC session and are reopened with a new one)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.checks.base import CheckContext, Evidence
from bench.checks.registry import Verdict, check, failed, omitted, passed
from simulators.common.journal import Exchange

ACR = "eidas1"
CIBA_GRANT = "urn:openid:params:grant-type:ciba"
SIGN_IN_GRANTS = (CIBA_GRANT, "authorization_code")
AIR = "INDIRECTE_RENFORCEE"  # the VIHF's Authentification_mode with PSC (GIE SESAM-Vitale VIHF_INDIRECTE_RENFORCEE)


@dataclass(frozen=True)
class Session:
    """A PSC session as the journal shows it: opened by a token issuance, ended by a logout or a revocation."""

    sid: str
    national_id: str
    opened: Exchange
    ended_at: int | None  # seq of the exchange that ended it

    def open_at(self, seq: int) -> bool:
        return self.opened.seq < seq and (self.ended_at is None or seq < self.ended_at)


def sign_ins(evidence: Evidence) -> list[Exchange]:
    """Token issuances that opened a session: a CIBA poll answered or an authorization code redeemed."""
    return [
        x
        for x in evidence.select(channel="psc", transactions=("psc.token",))
        if x.outcome == "tokens" and x.meta.get("grant_type") in SIGN_IN_GRANTS and x.meta.get("sid")
    ]


def sessions(evidence: Evidence) -> list[Session]:
    ends: dict[str, int] = {}
    for x in evidence.select(channel="psc", transactions=("psc.logout", "psc.revoke", "psc.bench_control")):
        for sid in [x.meta.get("sid"), *(x.meta.get("sids") or [])]:
            if sid:
                ends.setdefault(str(sid), x.seq)
    return [
        Session(str(x.meta["sid"]), str(x.meta.get("national_id", "")), x, ends.get(str(x.meta["sid"])))
        for x in sign_ins(evidence)
    ]


def _request_before(evidence: Evidence, transaction: str, seq: int, client_id: object) -> Exchange | None:
    asked = [
        x
        for x in evidence.select(channel="psc", transactions=(transaction,), before_seq=seq)
        if x.meta.get("client_id") == client_id
    ]
    return asked[-1] if asked else None


def _sign_in_problems(evidence: Evidence, issued: Exchange) -> tuple[str, list[str]]:
    """How the session was opened and what its request lacked (SC.PSC.01 modalities: CIBA for desktop software,
    the code flow with PKCE, state and nonce for web and browser-based sign-in)."""
    client = issued.meta.get("client_id")
    if issued.meta.get("grant_type") == CIBA_GRANT:
        request = _request_before(evidence, "psc.ciba_auth", issued.seq, client)
        if request is None:
            return "CIBA", ["aucune demande CIBA journalisée avant l'émission des jetons"]
        problems = []
        if "openid" not in str(request.meta.get("scope") or "").split():
            problems.append("scope sans openid dans la demande CIBA")
        return "CIBA", problems
    pages = [
        x
        for x in evidence.select(channel="psc", transactions=("psc.authorize",), before_seq=issued.seq)
        if x.meta.get("method") == "GET"
    ]
    if not pages:
        return "code d'autorisation", ["aucune demande d'autorisation journalisée avant l'émission des jetons"]
    asked = pages[-1].meta
    problems = []
    if asked.get("code_challenge_method") != "S256":
        problems.append("PKCE S256 absent de la demande d'autorisation")
    if not asked.get("state_sent"):
        problems.append("state absent de la demande d'autorisation (protection CSRF)")
    if not asked.get("nonce_sent"):
        problems.append("nonce absent de la demande d'autorisation (rejeu du jeton d'identité)")
    return "code d'autorisation avec PKCE", problems


@check("psc.sign_in", requirements=("SEC-002",), title="Connexion par Pro Santé Connect (SC.PSC.01)")
def sign_in(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    issued = sign_ins(evidence)
    if not issued:
        said = (
            "aucune connexion Pro Santé Connect aboutie : le logiciel doit obtenir les jetons du professionnel par "
            "CIBA (client lourd) ou par code d'autorisation avec PKCE (SC.PSC.01)"
        )
        return [failed(said, context.focus)]
    findings = []
    modalities = set()
    for exchange in issued:
        modality, problems = _sign_in_problems(evidence, exchange)
        modalities.add(modality)
        findings += [failed(f"connexion PSC par {modality} : {p}", exchange) for p in problems]
    if findings:
        return findings
    return [passed(f"{len(issued)} connexion(s) Pro Santé Connect par {', '.join(sorted(modalities))}", issued[-1])]


@check("psc.sign_out", requirements=("SEC-002",), title="Déconnexion : la session Pro Santé Connect prend fin")
def sign_out(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """After the professional signed out, PSC must have been told (end-session or revocation): a session left open
    at PSC outlives the software's own sign-out."""
    known = sessions(evidence)
    if not known:
        return [omitted("aucune session Pro Santé Connect à juger", None)]
    focus = context.focus
    ended = [s for s in known if s.ended_at is not None]
    if not ended:
        said = (
            "déconnexion sans fin de session auprès de Pro Santé Connect : appeler l'end_session_endpoint (avec "
            "id_token_hint) ou révoquer le jeton de rafraîchissement"
        )
        return [failed(said, focus or known[-1].opened)]
    return [passed(f"{len(ended)} session(s) Pro Santé Connect terminée(s) à la déconnexion", focus)]


@check("psc.acr_values", requirements=("SEC-012",), title="acr_values=eidas1 dans la demande d'authentification")
def acr_values(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    requests = [
        x
        for x in evidence.select(channel="psc", transactions=("psc.ciba_auth", "psc.authorize"))
        if x.transaction == "psc.ciba_auth" or x.meta.get("method") == "GET"
    ]
    if not requests:
        return [omitted("aucune demande d'authentification Pro Santé Connect à juger", None)]
    findings = []
    for request in requests:
        asked = str(request.meta.get("acr_values") or "").split()
        if ACR not in asked:
            said = f"acr_values {' '.join(asked) or 'absent'} : la demande d'authentification doit porter "
            findings.append(failed(said + "acr_values=eidas1 (SC.PSC.08)", request))
    if findings:
        return findings
    return [passed(f"{len(requests)} demande(s) d'authentification avec acr_values=eidas1", requests[-1])]


@check(
    "psc.dmp_identity",
    requirements=("DMP-035",),
    title="Appels DMP avec l'identité Pro Santé Connect (mode AIR)",
    applies_to=("dmp.td02", "dmp.td03", "dmp.iti41", "dmp.iti18", "dmp.iti43", "dmp.iti57"),
)
def dmp_identity(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Once the professional is signed in through PSC, each DMP call's VIHF is in the AIR mode
    (``Authentification_mode`` INDIRECTE_RENFORCEE) and names, as its subject, the professional of a PSC session open
    at the time of the call (UserInfo's SubjectNameID). The DMP cannot see PSC sessions; the bench can."""
    from bench.domains.dmp.checks import vihf_of

    known = sessions(evidence)
    if not known:
        return [omitted("aucune session Pro Santé Connect : l'identité portée au DMP n'est pas jugée ici", None)]
    first = min(s.opened.seq for s in known)
    keys = context.patient.keys if context.patient else None
    calls = [x for x in evidence.select(channel="dmp", keys=keys) if x.seq > first and x.transaction.startswith("dmp.")]
    calls = [x for x in calls if "vihf" in x.meta or x.files.get("request")]
    if not calls:
        return [omitted("aucun appel au DMP après la connexion Pro Santé Connect", None)]
    findings = []
    judged = []
    for call in calls:
        vihf = vihf_of(evidence, call) or {}
        open_now = [s for s in known if s.open_at(call.seq)]
        if open_now:
            judged.append(call)
        mode, subject = vihf.get("authentication_mode"), vihf.get("subject")
        if not open_now:
            if mode == AIR:  # signed out: its own means (CPS card, INDIRECTE) are fine, a PSC identity is not
                findings.append(failed("VIHF en mode AIR sans session Pro Santé Connect ouverte", call))
        elif mode != AIR:
            said = f"VIHF en mode {mode or 'absent'} alors que le professionnel est connecté par Pro Santé Connect"
            findings.append(failed(f"{said} : mode AIR (Authentification_mode {AIR}) attendu", call))
        elif subject not in {s.national_id for s in open_now}:
            said = "le VIHF ne nomme pas le professionnel connecté par Pro Santé Connect (NameID ≠ SubjectNameID)"
            findings.append(failed(said, call))
    if findings:
        return findings
    if not judged:
        return [omitted("aucun appel au DMP pendant une session Pro Santé Connect", None)]
    return [passed(f"{len(judged)} appel(s) au DMP en mode AIR avec l'identité Pro Santé Connect", judged[-1])]


def _mss_uses(evidence: Evidence) -> list[tuple[Exchange, str]]:
    """Every MSSanté exchange made under a PSC token, with the token's session: SMTP sessions authenticated by XOAUTH2
    and every IMAP command of a connection opened by XOAUTH2 (a connection held open keeps using its session)."""
    uses = []
    for x in evidence.select(channel="mss"):
        sid = (x.meta.get("auth") or {}).get("psc_session") or x.meta.get("psc_session")
        if sid and x.outcome not in ("refused", "no", "bad"):
            uses.append((x, str(sid)))
    return uses


@check(
    "psc.mss_follows_session",
    requirements=("MSS-018",),
    title="Sessions MSSanté fermées avec la session PSC, puis rouvertes",
)
def mss_follows_session(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """Once PSC has refused to refresh a session (its refresh token is no longer valid), nothing more may reach
    MSSanté under that session's token (no new SMTP or IMAP session, no command on a connection it opened); MSSanté is
    then reached again under a new session (reopened automatically)."""
    refusals = [
        x
        for x in evidence.select(channel="psc", transactions=("psc.token",))
        if x.meta.get("grant_type") == "refresh_token" and x.outcome == "error:invalid_grant" and x.meta.get("sid")
    ]
    if not refusals:
        return [omitted("aucun refus de rafraîchissement Pro Santé Connect à juger", None)]
    refused_at: dict[str, int] = {}
    for x in refusals:
        refused_at.setdefault(str(x.meta["sid"]), x.seq)
    uses = _mss_uses(evidence)
    findings = []
    reported: set[str] = set()  # one finding per SMTP session or IMAP connection
    for exchange, sid in uses:
        where = str(exchange.meta.get("connection") or exchange.id)
        if sid in refused_at and exchange.seq > refused_at[sid] and where not in reported:
            reported.add(where)
            said = (
                f"{exchange.transaction} sous le jeton d'une session Pro Santé Connect dont le rafraîchissement a "
                "été refusé : fermer les sessions SMTP et IMAP, en rouvrir après une nouvelle connexion PSC "
                "(SC.MSS/CONF.10)"
            )
            findings.append(failed(said, exchange))
    if findings:
        return findings
    last_refusal = max(refused_at.values())
    reopened = [x for x, sid in uses if x.seq > last_refusal and sid not in refused_at]
    if not reopened:
        said = "aucune session MSSanté rouverte sous une nouvelle session Pro Santé Connect après le refus"
        said += " (SC.MSS/CONF.11)"
        return [failed(said, refusals[-1])]
    said = "sessions MSSanté arrêtées au refus du rafraîchissement PSC, puis rouvertes sous une nouvelle session"
    return [passed(said, reopened[0])]


FLAWS_SAID = {
    "signature": "signé d'une clé étrangère au realm",
    "audience": "émis pour un autre client (aud)",
}


def _uses_of(evidence: Evidence, session: Session, known: list[Session]) -> list[Exchange]:
    """What went on under a session after it was opened: a refresh or UserInfo call with its tokens, MSSanté under its
    access token, a DMP call in the AIR mode naming its professional while no other session was open."""
    used = [x for x, sid in _mss_uses(evidence) if sid == session.sid]
    used += [
        x
        for x in evidence.select(channel="psc", transactions=("psc.token", "psc.userinfo"))
        if x.seq > session.opened.seq and x.meta.get("sid") == session.sid
    ]
    others = [s for s in known if s.sid != session.sid and not s.opened.meta.get("id_token_flaw")]
    from bench.domains.dmp.checks import vihf_of

    for call in evidence.select(channel="dmp"):
        if not session.open_at(call.seq) or any(s.open_at(call.seq) for s in others):
            continue
        vihf = vihf_of(evidence, call) or {}
        if vihf.get("authentication_mode") == AIR and vihf.get("subject") == session.national_id:
            used.append(call)
    return sorted(used, key=lambda x: x.seq)


@check("psc.id_token_verified", requirements=("SEC-002",), title="Jeton d'identité Pro Santé Connect vérifié")
def id_token_verified(evidence: Evidence, context: CheckContext) -> list[Verdict]:
    """The bench gave the latest probed sign-in an ID token that does not verify (``psc_flaw_next_id_token``) while
    its access and refresh tokens stay valid: the software must refuse that sign-in (OIDC Core §3.1.3.7: signature
    against PSC's JWKS, issuer, audience), so nothing may go on under that session."""
    known = sessions(evidence)
    probed = next((s for s in reversed(known) if s.opened.meta.get("id_token_flaw")), None)  # the latest probe
    if probed is None:
        return [omitted("aucune connexion sondée par un jeton d'identité invalide", None)]
    flaw = FLAWS_SAID.get(str(probed.opened.meta["id_token_flaw"]), "invalide")
    used = _uses_of(evidence, probed, known)
    if used:
        said = (
            f"connexion Pro Santé Connect acceptée malgré un jeton d'identité {flaw} : la session a servi "
            f"({used[0].transaction}) ; vérifier la signature du jeton d'identité contre le JWKS de PSC, son "
            "émetteur et son audience, et refuser la connexion sinon"
        )
        return [failed(said, used[0])]
    return [passed(f"connexion au jeton d'identité {flaw} refusée : la session n'a pas servi", probed.opened)]
