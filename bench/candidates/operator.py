"""The ``operator`` adapter: for software that cannot be automated, a person performs each step.

The bench says what to do in the software, shows the simulator endpoints and certificates to configure, and waits for
the exchange at the simulator with a visible countdown. What only a person can see (the identity status on screen,
INS-008) becomes an attestation whose answer and comment go into the report. Ctrl-C ends the run cleanly; the run is
saved and ``segur-bench resume RUN`` continues it.
"""

from __future__ import annotations

import select
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bench.candidates.base import (
    IDENTITY_STATUSES,
    ActionNotPerformed,
    Artifact,
    Capability,
    DashboardView,
    Environment,
    Notification,
    PatientInput,
    PatientRecordView,
    ReceivedDocument,
    ReceivedDocumentsView,
    SearchMethod,
    Waiting,
)
from bench.fixtures.kinds import DOCUMENT_KINDS

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


_CHOICE_NAMES = {"o": "oui", "n": "non"}


def _plain(text: str) -> str:
    """Lower case without accents: ``Qualifiée`` and ``qualifiee`` are the same answer."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def _choice(answer: str, allowed: tuple[str, ...]) -> str | None:
    said = _plain(answer)
    for value in allowed:
        if said in (_plain(value), _plain(_CHOICE_NAMES.get(value, value))):
            return value
    return None


def _document_label(kind: str, default: str | None = None) -> str:
    known = DOCUMENT_KINDS.get(kind)
    return known.label if known else (default if default is not None else kind)


class _PersonWait:
    """One wait a person follows: a live countdown, Enter to end it, a line that stays saying how it ended."""

    def __init__(self, adapter: OperatorAdapter, what: str, seconds: float) -> None:
        self.adapter, self.what = adapter, what
        self.deadline = time.monotonic() + seconds
        self._stopped = False

    def __rich__(self) -> Text:
        left = max(0, int(self.deadline - time.monotonic()))
        said = f"{self.what} — {left} s restantes"
        return Text(said, style="yellow")

    def stopped(self) -> bool:
        if not self._stopped and self.adapter.key_pressed():
            self._stopped = True
        return self._stopped

    def ended(self, received: str | None, waited_s: float, *, must_come: bool) -> bool:
        console = self.adapter.console
        if received is not None:
            console.print(f"[green]reçu : {escape(received)}[/green] (après {waited_s:.0f} s)")
            return False
        if not must_come:
            console.print(f"rien reçu en {waited_s:.0f} s, comme attendu : {escape(self.what)}")
            return False
        console.print(f"[yellow]rien reçu en {waited_s:.0f} s : {escape(self.what)}[/yellow]")
        return self.adapter.retry_wanted()


class OperatorAdapter:
    """Tells a person what to do, step by step, and asks what only a person can read on screen."""

    name = "operator"
    capabilities: frozenset[Capability] = frozenset({"attest", "waiting"})

    def __init__(
        self, *, timeout: float = 300.0, console: Console | None = None, ask: Callable[[str], str] | None = None
    ) -> None:
        self.console = console or Console(highlight=False)
        self._ask = ask or (lambda prompt: self.console.input(prompt))
        self._keyboard = ask is None and sys.stdin is not None and sys.stdin.isatty()
        self.timeout = timeout
        self._where = ""  # the scenario and step being run, shown under every panel
        self._patients: dict[str, PatientInput] = {}

    # helpers ---------------------------------------------------------------------------------------------
    def _say(self, title: str, body: str) -> None:
        where = escape(self._where) if self._where else None
        self.console.print(
            Panel(body, title=title, title_align="left", subtitle=where, subtitle_align="left", border_style="cyan")
        )

    def at_step(self, where: str) -> None:
        self._where = where

    def _confirm(self) -> None:
        said = self._ask("Appuyez sur Entrée quand c'est fait (ou tapez « impossible »). ")
        if _plain(said.strip()) == "impossible":
            raise ActionNotPerformed("l'opérateur a indiqué ne pas pouvoir réaliser l'action dans le logiciel")

    def key_pressed(self) -> bool:
        """Whether the person pressed Enter since the wait began (a terminal only; elsewhere a wait runs its time)."""
        if not self._keyboard:
            return False
        try:
            ready, _, _ = select.select([sys.stdin], [], [], 0)
        except (OSError, ValueError):  # no select on this console's input (Windows): the wait runs its time
            self._keyboard = False
            return False
        if ready:
            sys.stdin.readline()
        return bool(ready)

    def retry_wanted(self) -> bool:
        return self._field("Attendre encore (r) ou continuer (c)", allowed=("r", "c")) == "r"

    def _who(self, ref: str) -> str:
        patient = self._patients.get(ref)
        if patient is None:
            return f"le patient {ref}"
        return f"{' '.join(patient.first_names)} {patient.birth_name} (né(e) le {patient.birth_date})"

    def _field(self, label: str, *, allowed: tuple[str, ...] = ()) -> str:
        """What the person types, never pre-filled (a read-back must come from the screen, not from Enter). With
        ``allowed``, the choices are shown and an answer is taken whatever its case and accents (``Qualifiée``,
        ``OUI``)."""
        hint = f" ({' / '.join(_CHOICE_NAMES.get(a, a) for a in allowed)})" if allowed else ""
        while True:
            answer = self._ask(escape(f"{label}{hint} : ")).strip()
            if not allowed:
                return answer
            chosen = _choice(answer, allowed)
            if chosen is not None:
                return chosen
            self.console.print(f"[red]réponse attendue parmi : {escape(', '.join(allowed))}[/red]")

    # lifecycle -------------------------------------------------------------------------------------------
    def start(self, environment: Environment) -> None:
        self._say(
            "Configurez votre logiciel",
            "\n".join(
                [
                    *(f"{environment.labels.get(key, key)} : {value}" for key, value in environment.endpoints.items()),
                    f"Autorité de certification à approuver : {environment.ca_file}",
                    f"Certificat client : {environment.client_cert_file}",
                    f"Clé privée : {environment.client_key_file}",
                    "(segur-bench pki export DOSSIER fournit aussi un fichier PKCS#12.)",
                ]
            ),
        )
        self._confirm()

    def stop(self) -> None:
        self.console.print("[green]Fin de la campagne : merci.[/green]")

    def reset(self) -> None:
        self._patients.clear()
        self._say("Nouveau scénario", "Partez d'un cabinet sans les patients de test des scénarios précédents.")
        self._confirm()

    # actions ---------------------------------------------------------------------------------------------
    def register_patient(self, patient: PatientInput) -> None:
        self._patients[patient.ref] = patient
        lines = [
            f"Nom de naissance : {patient.birth_name}",
            f"Prénom(s) de naissance : {' '.join(patient.first_names)}",
            f"Sexe : {patient.sex}",
            f"Date de naissance : {patient.birth_date}",
        ]
        if patient.birth_place:
            lines.append(f"Lieu de naissance (code INSEE) : {patient.birth_place}")
        if patient.vitale:
            lines.append(
                f"Carte Vitale : bénéficiaire {patient.vitale.beneficiary or '-'}, "
                f"ouvrant droit {patient.vitale.insured or '-'}, rang {patient.vitale.rank}"
            )
        if patient.held_ins:
            lines.append(f"Dossier repris avec l'INS {patient.held_ins.matricule} (OID {patient.held_ins.oid})")
        self._say("Créez le dossier du patient, avec les traits tels que saisis", "\n".join(lines))
        self._confirm()

    def record_identity_document(self, ref: str, document: str) -> None:
        self._say(
            "Pièce d'identité", f"Enregistrez le contrôle de la pièce d'identité ({document}) de {self._who(ref)}."
        )
        self._confirm()

    def search_ins(self, ref: str, method: SearchMethod) -> None:
        how = "à partir de la carte Vitale" if method == "vitale" else "à partir des traits d'identité"
        self._say("Recherche de l'INS", f"Lancez la recherche de l'INS de {self._who(ref)} {how}.")

    def verify_ins(self, ref: str) -> None:
        self._say("Vérification de l'INS", f"Lancez la vérification de l'INS de {self._who(ref)}.")

    def produce_document(
        self, ref: str, kind: str, *, business_date: str | None = None, recipients: Sequence[str] = ()
    ) -> Artifact:
        label = _document_label(kind, kind)
        if recipients:
            label += f", adressé(e) à {', '.join(recipients)}"
        dated = (
            f", document historique daté du {'/'.join(reversed(business_date.split('-')))}," if business_date else ""
        )
        self._say(
            "Document", f"Produisez {label} pour {self._who(ref)}{dated} et exportez-le au format CDA (fichier XML)."
        )
        return self._exported_document(label)

    def _exported_document(self, label: str) -> Artifact:
        while True:
            answer = self._ask("Chemin du fichier CDA produit (vide : aucun document) : ").strip()
            if not answer:
                raise ActionNotPerformed(f"l'opérateur n'a pas fourni {label}")
            path = Path(answer).expanduser()
            if path.is_file() and path.stat().st_size <= MAX_DOCUMENT_BYTES:
                return Artifact(data=path.read_bytes(), media_type="application/xml", name=path.name)
            self.console.print(f"[red]{path} : fichier introuvable ou trop volumineux[/red]")

    def open_patient_record(self, ref: str) -> None:
        self._say("Ouverture du dossier", f"Ouvrez le dossier de {self._who(ref)}, sans autre action.")

    def consult_dmp(self, ref: str, access_mode: str) -> None:
        how = " en mode bris de glace (urgence)" if access_mode == "bris_de_glace" else ""
        self._say(
            "Consultation du DMP",
            f"Depuis le dossier de {self._who(ref)}, consultez son DMP{how} et intégrez les documents trouvés.",
        )

    def replace_document(self, ref: str, kind: str) -> Artifact:
        label = _document_label(kind, kind)
        self._say("Nouvelle version", f"Corrigez {label} de {self._who(ref)} : votre logiciel doit le remplacer.")
        return self._exported_document(label)

    def mask_document(self, ref: str, kind: str) -> None:
        label = _document_label(kind, kind)
        self._say("Masquage", f"Masquez {label} de {self._who(ref)} aux autres professionnels dans le DMP.")

    def delete_document(self, ref: str, kind: str) -> None:
        label = _document_label(kind, kind)
        self._say("Suppression", f"Supprimez du DMP {label} de {self._who(ref)} (bouton de suppression du logiciel).")

    def integrate_dmp_document(self, ref: str, kind: str) -> None:
        label = _document_label(kind, kind)
        self._say(
            "Intégration d'un document du DMP",
            f"Dans la liste du DMP de {self._who(ref)}, sélectionnez {label} d'un confrère et intégrez-le au dossier.",
        )

    def open_dmp_document(self, ref: str, kind: str) -> None:
        label = _document_label(kind, kind)
        self._say(
            "Document intégré du DMP",
            f"Dans le dossier de {self._who(ref)}, ouvrez {label} intégré(e) depuis le DMP.",
        )

    def configure_dmp(self, url: str) -> None:
        self._say("Adresse du DMP", f"Faites pointer votre logiciel vers ce DMP : {url}")
        self._confirm()

    def send_document(self, ref: str, kind: str, recipient: str, *, no_reply: bool = False) -> None:
        label = _document_label(kind, kind)
        to = "la messagerie de santé du patient (Mon espace santé)" if recipient == "patient" else recipient
        wish = ", en indiquant que vous ne souhaitez pas de réponse du patient" if no_reply else ""
        self._say("Envoi MSSanté", f"Envoyez {label} de {self._who(ref)} par MSSanté à {to}{wish}.")

    def check_mailbox(self) -> None:
        self._say(
            "Réception MSSanté", "Relevez la messagerie MSSanté du logiciel et laissez-le intégrer ce qu'il reçoit."
        )
        self._confirm()

    def reply_to_message(self, message_id: str, subject: str) -> None:
        self._say(
            "Réponse MSSanté",
            f"Répondez par MSSanté, en texte simple, au message reçu « {subject} » (Message-ID {message_id}).",
        )

    def record_dmp_choice(self, ref: str, choice: str) -> None:
        self._record_choice(
            ref, "Consentement DMP", choice, "à l'accès des professionnels à son DMP", "à l'accès à son DMP"
        )

    def record_mss_choice(self, ref: str, choice: str) -> None:
        self._record_choice(
            ref, "Opposition MSSanté", choice, "à l'envoi de ses documents par messagerie", "à l'envoi par messagerie"
        )

    def _record_choice(self, ref: str, title: str, choice: str, opposed_to: str, agreed_to: str) -> None:
        said = (
            f"l'opposition du patient {opposed_to}"
            if choice == "opposition"
            else f"l'accord du patient {agreed_to} (son opposition est levée)"
        )
        self._say(title, f"Enregistrez dans le dossier de {self._who(ref)} {said}.")
        self._confirm()

    def search_dmp(self, ref: str, kind: str, since: str) -> None:
        label = _document_label(kind, kind)
        day = "/".join(reversed(since.split("-")))
        self._say(
            "Recherche dans le DMP",
            f"Recherchez dans le DMP de {self._who(ref)} {label} créé(e)s depuis le {day} (recherche multicritère).",
        )

    def find_order_reports(self, ref: str, order: str) -> None:
        self._say(
            "Comptes rendus d'une demande d'imagerie",
            f"Depuis la demande d'imagerie n° {order} de {self._who(ref)}, retrouvez dans le DMP ses comptes rendus "
            "(recherche par le numéro de la demande).",
        )

    def psc_sign_in(self) -> None:
        self._say(
            "Connexion Pro Santé Connect",
            "Connectez-vous au logiciel par Pro Santé Connect (bouton de connexion PSC), puis validez sur la carte CPS "
            "ou l'application e-CPS. Avec CIBA, le banc valide la demande de son côté, ou vous le faites à l'adresse "
            "de contrôle CIBA affichée au démarrage.",
        )
        self._confirm()

    def psc_sign_out(self) -> None:
        self._say("Déconnexion Pro Santé Connect", "Déconnectez-vous depuis le logiciel (zone de déconnexion).")
        self._confirm()

    def read_received_documents(self) -> ReceivedDocumentsView:
        self._say(
            "Documents reçus",
            "Pour chaque document reçu, indiquez le dossier où il est classé, ou « attente » s'il attend un "
            "rapprochement. Laissez l'identifiant vide pour terminer.",
        )
        filed: list[ReceivedDocument] = []
        pending: list[ReceivedDocument] = []
        while True:
            message_id = self._field("Message-ID du message reçu (vide pour terminer)")
            if not message_id:
                return ReceivedDocumentsView(filed=filed, pending=pending, notifications=self._notifications())
            unique_id = self._field("Identifiant du document (id CDA racine^extension, vide si illisible)")
            subject = self._field("Objet du message tel que la liste l'affiche")
            where = self._field("Dossier (référence du patient) ou « attente »")
            if where == "attente":
                reason = self._field("Motif affiché")
                pending.append(ReceivedDocument(message_id, unique_id or None, None, reason, subject or None))
            else:
                kind = self._field("Sous-dossier où il est classé (code du type de document, ex. 11488-4)")
                filed.append(
                    ReceivedDocument(message_id, unique_id or None, where, None, subject or None, kind or None)
                )

    def read_dashboard(self) -> DashboardView:
        from bench.domains.registry import dashboard_counters

        self._say("Tableau de bord", "Lisez les compteurs du tableau de bord du logiciel, depuis le début du scénario.")
        counters = {}
        for counter in dashboard_counters():
            while True:
                said = self._field(counter.label)
                if said.isdigit():
                    counters[counter.key] = int(said)
                    break
                self.console.print("Un nombre entier, s'il vous plaît.")
        return DashboardView(counters=counters)

    def _notifications(self) -> list[Notification]:
        self._say(
            "Accusés reçus",
            "Pour chaque accusé de remise, de lecture ou d'échec de remise affiché avec un message envoyé, "
            "indiquez-le. Laissez le Message-ID vide pour terminer.",
        )
        found: list[Notification] = []
        while True:
            original = self._field("Message-ID du message envoyé (vide pour terminer)")
            if not original:
                return found
            kind = self._field("Type d'accusé", allowed=("remise", "echec", "lecture"))
            recipient = self._field("Destinataire concerné")
            reason = self._field("Motif affiché") if kind == "echec" else None
            found.append(Notification(original, kind, recipient, reason or None))

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        self._say("Serveurs MSSanté", f"Faites pointer votre logiciel vers ces serveurs : {smtp_url} et {imap_url}")
        self._confirm()

    def read_patient_record(self, ref: str) -> PatientRecordView:
        self._say(
            "Identité enregistrée",
            f"Recopiez ce que votre logiciel affiche pour {self._who(ref)}, tel quel (rien n'est prérempli).",
        )
        status = self._field("Statut de l'identité", allowed=IDENTITY_STATUSES)
        matricule = self._field("Matricule INS (vide si aucun)")
        oid = self._field("OID de l'INS affiché") if matricule else ""
        birth_name = self._field("Nom de naissance")
        first_names = self._field("Prénoms de naissance")
        first_name = self._field("Premier prénom de naissance")
        sex = self._field("Sexe", allowed=("M", "F"))
        birth_date = self._field("Date de naissance (AAAA-MM-JJ)")
        birth_place = self._field("Lieu de naissance (code INSEE, vide si aucun)")
        checked = self._field("Pièce d'identité contrôlée", allowed=("o", "n")) == "o"
        return PatientRecordView(
            ref=ref,
            status=status,  # type: ignore[arg-type]  # one of IDENTITY_STATUSES, checked by _field
            birth_name=birth_name,
            first_name=first_name,
            first_names=first_names,
            sex=sex,
            birth_date=birth_date,
            birth_place=birth_place or None,
            ins_matricule=matricule or None,
            ins_oid=oid or None,
            identity_document_checked=checked,
            documents=None,  # what the record holds is attested by the operator, not listed here
        )

    # what the runner asks of an interactive adapter ------------------------------------------------------
    def perform(self, action: str, ref: str | None, params: Mapping[str, str]) -> Mapping[str, Any] | None:
        """An action of a domain added to the bench: its description and parameters, then the person confirms."""
        from bench.actions.registry import get

        lines = [get(action).description]
        if ref:
            lines.append(f"Patient : {self._who(ref)}")
        lines += [f"{name} : {value}" for name, value in params.items()]
        self._say(action, "\n".join(lines))
        self._confirm()
        return None

    @property
    def patience(self) -> float:
        """How long a person is given to make the software send an exchange (``operator_timeout``)."""
        return self.timeout

    @contextmanager
    def waiting(self, what: str, seconds: float) -> Iterator[Waiting]:
        """A live line while the runner waits for ``what``: time left, and Enter to say "done" (or "cannot")."""
        wait = _PersonWait(self, what, seconds)
        self.console.print(
            f"En attente : {escape(what)} (au plus {seconds:.0f} s) — Entrée quand c'est fait, ou si c'est impossible"
        )
        with Live(wait, console=self.console, refresh_per_second=4, transient=True):
            yield wait

    def attest(self, requirement_id: str, title: str, checklist: list[str]) -> list[tuple[str, bool, str]]:
        """Ask the person to attest each checklist item; answers and comments go into the report."""
        self._say(f"Attestation {requirement_id}", title)
        answers = []
        for item in checklist:
            self.console.print(f"• {item}")
            ok = self._field("Constaté", allowed=("o", "n")) == "o"
            comment = self._field("Commentaire (vide si aucun)")
            answers.append((item, ok, comment))
        return answers
