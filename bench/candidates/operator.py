"""The ``operator`` adapter: for software that cannot be automated, a person performs each step.

The bench says what to do in the software, shows the simulator endpoints and certificates to configure, and waits for
the exchange at the simulator with a visible countdown. What only a person can see (the identity status on screen,
INS-008) becomes an attestation whose answer and comment go into the report. Ctrl-C ends the run cleanly; the run is
saved and ``segur-bench resume RUN`` continues it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.panel import Panel
from rich.text import Text

from bench.candidates.base import (
    IDENTITY_STATUSES,
    AdapterError,
    Artifact,
    Capability,
    Environment,
    PatientInput,
    PatientRecordView,
    ReceivedDocument,
    ReceivedDocumentsView,
    SearchMethod,
)
from bench.fixtures.kinds import DOCUMENT_KINDS

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024


def _document_label(kind: str, default: str | None = None) -> str:
    known = DOCUMENT_KINDS.get(kind)
    return known.label if known else (default if default is not None else kind)


class OperatorAdapter:
    """Tells a person what to do, step by step, and asks what only a person can read on screen."""

    name = "operator"
    capabilities: frozenset[Capability] = frozenset({"attest", "waiting"})

    def __init__(
        self, *, timeout: float = 300.0, console: Console | None = None, ask: Callable[[str], str] | None = None
    ) -> None:
        self.console = console or Console(highlight=False)
        self._ask = ask or (lambda prompt: self.console.input(prompt))
        self.timeout = timeout
        self._patients: dict[str, PatientInput] = {}

    # helpers ---------------------------------------------------------------------------------------------
    def _say(self, title: str, body: str) -> None:
        self.console.print(Panel(body, title=title, title_align="left", border_style="cyan"))

    def _confirm(self) -> None:
        self._ask("Appuyez sur Entrée quand c'est fait. ")

    def _who(self, ref: str) -> str:
        patient = self._patients.get(ref)
        if patient is None:
            return f"le patient {ref}"
        return f"{' '.join(patient.first_names)} {patient.birth_name} (né(e) le {patient.birth_date})"

    def _field(self, label: str, *, default: str = "", allowed: tuple[str, ...] = ()) -> str:
        hint = f" [{'/'.join(allowed)}]" if allowed else ""
        shown = f" (Entrée : {default})" if default else ""
        while True:
            answer = self._ask(f"{label}{hint}{shown} : ").strip() or default
            if not allowed or answer in allowed:
                return answer
            self.console.print(f"[red]réponse attendue parmi : {', '.join(allowed)}[/red]")

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

    def produce_document(self, ref: str, kind: str) -> Artifact:
        label = _document_label(kind, kind)
        self._say("Document", f"Produisez {label} pour {self._who(ref)} et exportez-le au format CDA (fichier XML).")
        return self._exported_document(label)

    def _exported_document(self, label: str) -> Artifact:
        while True:
            answer = self._ask("Chemin du fichier CDA produit (vide : aucun document) : ").strip()
            if not answer:
                raise AdapterError(f"l'opérateur n'a pas fourni {label}")
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

    def configure_dmp(self, url: str) -> None:
        self._say("Adresse du DMP", f"Faites pointer votre logiciel vers ce DMP : {url}")
        self._confirm()

    def send_document(self, ref: str, kind: str, recipient: str) -> None:
        label = _document_label(kind, kind)
        to = "la messagerie de santé du patient (Mon espace santé)" if recipient == "patient" else recipient
        self._say("Envoi MSSanté", f"Envoyez {label} de {self._who(ref)} par MSSanté à {to}.")

    def check_mailbox(self) -> None:
        self._say(
            "Réception MSSanté", "Relevez la messagerie MSSanté du logiciel et laissez-le intégrer ce qu'il reçoit."
        )
        self._confirm()

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
                return ReceivedDocumentsView(filed=filed, pending=pending)
            unique_id = self._field("Identifiant du document (id CDA racine^extension, vide si illisible)")
            where = self._field("Dossier (référence du patient) ou « attente »")
            if where == "attente":
                pending.append(ReceivedDocument(message_id, unique_id or None, None, self._field("Motif affiché")))
            else:
                filed.append(ReceivedDocument(message_id, unique_id or None, where))

    def configure_mss(self, smtp_url: str, imap_url: str) -> None:
        self._say("Serveurs MSSanté", f"Faites pointer votre logiciel vers ces serveurs : {smtp_url} et {imap_url}")
        self._confirm()

    def read_patient_record(self, ref: str) -> PatientRecordView:
        self._say("Identité enregistrée", f"Recopiez ce que votre logiciel affiche pour {self._who(ref)}.")
        patient = self._patients.get(ref)
        status = self._field("Statut de l'identité", allowed=IDENTITY_STATUSES)
        matricule = self._field("Matricule INS (vide si aucun)")
        oid = self._field("OID de l'INS", default="1.2.250.1.213.1.4.10") if matricule else ""
        birth_name = self._field("Nom de naissance", default=patient.birth_name if patient else "")
        first_names = self._field("Prénoms de naissance", default=" ".join(patient.first_names) if patient else "")
        first_name = self._field(
            "Premier prénom de naissance", default=first_names.split(" ")[0] if first_names else ""
        )
        sex = self._field("Sexe", default=patient.sex if patient else "", allowed=("M", "F"))
        birth_date = self._field("Date de naissance (AAAA-MM-JJ)", default=patient.birth_date if patient else "")
        birth_place = self._field(
            "Lieu de naissance (code INSEE, vide si aucun)", default=patient.birth_place or "" if patient else ""
        )
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

    @contextmanager
    def waiting(self, what: str, seconds: float) -> Iterator[None]:
        """Show a countdown while the runner waits for ``what`` at a simulator."""
        deadline = time.monotonic() + seconds

        class Countdown:
            def __rich__(self) -> Text:
                left = max(0, int(deadline - time.monotonic()))
                return Text(f"En attente : {what} — {left} s restantes", style="yellow")

        with Live(Countdown(), console=self.console, refresh_per_second=4, transient=True):
            yield

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
