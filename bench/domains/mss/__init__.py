"""MSSanté: secure health messaging (simulator ``simulators/mss``: SMTP and IMAP over TLS, IHE XDM attachments)."""

from __future__ import annotations

from bench.domains.base import (
    CandidateView,
    CaptureFile,
    Channel,
    DashboardCounter,
    Domain,
    Port,
    RunningSimulators,
    SimulatorSetup,
)

# One port per listener, so that real software is configured once (issue 15): names as MssSimulator's listeners.
PORTS = (
    Port("mss_smtp", "Port SMTP MSSanté (STARTTLS)"),
    Port("mss_smtps", "Port SMTP MSSanté (TLS implicite)"),
    Port("mss_imap", "Port IMAP MSSanté (STARTTLS)"),
    Port("mss_imaps", "Port IMAP MSSanté (TLS implicite)"),
    Port("mss_smtp_untrusted", "Port SMTP MSSanté au certificat non reconnu"),
    Port("mss_imap_untrusted", "Port IMAP MSSanté au certificat non reconnu"),
    Port("mss_smtp_weak", "Port SMTP MSSanté aux suites TLS hors SC.MSS/CONF.03"),
)

# What a client may say before TLS on a STARTTLS port (RFC 3207, RFC 3501): nothing that carries data.
BEFORE_TLS = ("mss.smtp.session", "mss.imap.capability", "mss.imap.starttls", "mss.imap.noop", "mss.imap.logout")


# Both carry an RFC 5322 message: which way it went (sent by the candidate, or put in its mailbox by the bench) is what
# the simulator saw, not something the bytes say.
MESSAGE_TRANSACTIONS = ("mss.smtp.message", "mss.delivery")


def _identify_mail(label: str, parts: dict[str, bytes]) -> str | None:
    """A mail record's transaction from its parts: an SMTP transcript is a session, an IMAP command line names its
    command (``a1 UID FETCH`` → ``mss.imap.uid_fetch``), a message is one of MESSAGE_TRANSACTIONS; None when the parts
    fit no transaction the label could be."""
    if "message" in parts:
        return label if label in MESSAGE_TRANSACTIONS else None
    if "transcript" in parts:
        return "mss.smtp.session"
    if "request" in parts:
        words = parts["request"].split(maxsplit=3)
        if len(words) < 2:
            return None
        command = words[1].decode("ascii", "replace").lower()
        if command == "uid" and len(words) > 2:
            command += "_" + words[2].decode("ascii", "replace").lower()
        return f"mss.imap.{command}"
    return label if label == "mss.notification_error" and not parts else None


def _start_simulators(setup: SimulatorSetup) -> RunningSimulators:
    from bench.domains.mss.simulators import MssSimulators

    return MssSimulators(setup)


# The read-only reception queue: what was filed in which record, and what awaits matching.
RECEIVED_VIEW = CandidateView("candidate.received_documents", "received", "application/json", "received/", ".json")
# The received message the bench asked the software to answer (the reply must refer to it).
REPLY_VIEW = CandidateView("candidate.mss_reply", "reply", "application/json", "replies/", ".json")
# The MSSanté servers the bench pointed the software to (trusted, untrusted, weak, down), in order.
SERVERS_VIEW = CandidateView("candidate.mss_servers", "servers", "application/json", "mss-servers/", ".json")

DOMAIN = Domain(
    name="mss",
    outcomes=(
        ("ok", "commande acceptée par le serveur"),
        ("no", "commande refusée par le serveur (NO)"),
        ("bad", "commande mal formée (BAD)"),
        ("accepted", "message accepté par le serveur SMTP"),
        ("message", "message soumis, journalisé"),
        ("delivered", "message remis dans la boîte par le banc (correspondant simulé)"),
        ("no_message", "session terminée sans message"),
        ("deferred", "message refusé temporairement (451) par l'opérateur : à renvoyer"),
        ("refused", "connexion ou authentification refusée"),
    ),
    label="Messagerie sécurisée de santé (MSSanté)",
    label_en="Secure health messaging (MSSanté)",
    requirement_prefixes=("MSS",),
    modules=("bench.domains.mss.checks", "bench.domains.mss.actions"),
    channels=(
        Channel("mss", "mail", before_tls=BEFORE_TLS),
        Channel("mss-untrusted", "mail", untrusted=True, before_tls=BEFORE_TLS),
        # A trusted certificate but only suites outside SC.MSS/CONF.03: the handshake is where a client must stop.
        Channel("mss-weak", "mail", before_tls=BEFORE_TLS),
    ),
    transaction_prefixes=("mss.",),
    identify_mail=_identify_mail,
    # A field capture's message (RFC 5322), judged on what a message alone proves.
    capture_files=(CaptureFile(".eml", "mss.message", "message", "message/rfc822"),),
    candidate_views=(RECEIVED_VIEW, REPLY_VIEW, SERVERS_VIEW),
    dashboard_counters=(DashboardCounter("mss_messages", "Messages MSSanté envoyés"),),
    start_simulators=_start_simulators,
    ports=PORTS,
)
