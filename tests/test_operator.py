"""Operator mode through a pseudo-terminal: the test is the person at the keyboard and, when told to, the software
that calls INSi. Covers a timeout, attestations, an interrupted run and its resumption."""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import pexpect
import pytest

from bench.candidates.reference.insi_client import InsiClient
from bench.fixtures.documents import RecordTargetData, build_cda
from simulators.common.pki import BenchPki

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Operator:
    """Answers the bench's prompts, and plays the software when an exchange is expected."""

    def __init__(self, args: list[str], cwd: Path, pki: BenchPki) -> None:
        env = {**os.environ, "COLUMNS": "200", "LINES": "50", "NO_COLOR": "1", "TERM": "dumb"}
        self.child = pexpect.spawn(
            sys.executable,
            ["-c", "from bench.cli import main; main()", *args],
            cwd=str(cwd),
            env=env,
            encoding="utf-8",
            timeout=60,
            dimensions=(50, 200),
            # A person's terminal delivers Ctrl-C. Under pytest-xdist the worker ignores SIGINT, and an ignored signal
            # stays ignored across exec: the child would never see the interruption it is tested on.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        self.pki = pki
        self.insi_url = ""
        self.cwd = cwd
        self.prompts: list[str] = []

    def expect(self, pattern: str) -> str:
        try:
            self.child.expect(pattern)
        except pexpect.EOF:
            pytest.fail(f"the bench ended before {pattern!r}:\n{self._ended_output()}")
        return ANSI.sub("", str(self.child.before or "") + str(self.child.after or ""))

    def _ended_output(self) -> str:
        """All the bench printed, and the traceback it kept if it stopped on an error of its own: a failure in CI must
        be diagnosable from its log alone."""
        output = ANSI.sub("", str(self.child.before or ""))
        for kept in re.findall(r"détails : (\S+\.txt)", output):
            output += f"\n--- {kept}\n" + Path(kept).read_text(encoding="utf-8")
        return output

    def enter(self) -> None:
        self.expect("Appuyez sur Entrée")
        self.child.sendline("")

    def answer(self, prompt: str, value: str) -> None:
        self.expect(re.escape(prompt))
        self.child.sendline(value)

    def configure(self) -> None:
        text = self.expect(r"Téléservice INSi \(SOAP 1\.2, TLS mutuel\) : (https://\S+)")
        self.insi_url = re.findall(r"(https://\S+)", text)[-1].rstrip("│ ")
        self.enter()

    def search(self, birth_name: str, first_name: str, sex: str, birth_date: str, *, announced: bool = False) -> None:
        if not announced:
            self.expect("Recherche de l'INS")
        client = InsiClient(self.insi_url, self.pki.client_context())
        client.call(
            "traits",
            [("NomNaissance", birth_name), ("Prenom", first_name), ("Sexe", sex), ("DateNaissance", birth_date)],
        )
        client.close()

    def record(self, status: str, traits: tuple[str, str, str, str, str]) -> None:
        """What the screen shows, typed as a person would (nothing is pre-filled; choices in any case and accent):
        ``traits`` birth name, first name, sex, birth date, birth place."""
        text = self.expect(r"Statut de l'identité \(([^)]*)\) : ")
        self.child.sendline(status)
        name, first, sex, born, place = traits
        for prompt, value in (
            ("Matricule INS (vide si aucun)", ""),
            ("Nom de naissance", name),
            ("Prénoms de naissance", first),
            ("Premier prénom de naissance", first),
            ("Sexe", sex),
            ("Date de naissance", born),
            ("Lieu de naissance", place),
        ):
            self.answer(prompt, value)
        self.answer("Pièce d'identité contrôlée", "Non")
        self.prompts.append(text)

    def give_up_waiting(self) -> None:
        """The software sends nothing: the person says so (Enter), then chooses to go on."""
        self.expect("Entrée quand c'est fait")
        self.child.sendline("")
        self.answer("Attendre encore (r) ou continuer (c)", "C")

    def document(self, path: Path) -> None:
        self.answer("Chemin du fichier CDA produit", str(path))

    def attest(self) -> None:
        """The INS domain's attestations: INS-008 (two items), INS-009 (one)."""
        self.answer("Constaté", "OUI")
        self.answer("Commentaire", "capture d'écran jointe au dossier")
        self.answer("Constaté", "o")
        self.answer("Commentaire", "")
        self.answer("Constaté", "o")
        self.answer("Commentaire", "appel INSi après connexion PSC")

    def finish(self) -> tuple[int, str]:
        self.child.expect(pexpect.EOF, timeout=60)
        self.child.close()
        return int(self.child.exitstatus or 0), ANSI.sub("", str(self.child.before or ""))


@pytest.fixture
def unknown_patient_document(tmp_path: Path) -> Path:
    # What the software exports for the unknown patient of INS-SC-05: no INS (identity not qualified).
    patient = RecordTargetData("LOC1", None, None, "Inconnu-Sans-Ins", "Paul", "Paul", "M", "2000-01-01", "75056")
    path = tmp_path / "cr.xml"
    path.write_bytes(build_cda("consultation-report", patient))
    return path


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "segur-bench.yaml"
    config.write_text("candidate:\n  kind: operator\nout: runs\ntimeout_factor: 0.4\n", encoding="utf-8")
    return config


def _play_sc05(op: Operator, document: Path, *, call_insi: bool) -> None:
    op.enter()  # new scenario
    op.expect(r"INS-SC-05 \(1/\d\) · étape 1/\d+ : ")  # every panel says where the person is
    op.enter()  # register the patient
    op.enter()  # identity document
    if call_insi:
        op.search("INCONNU-SANS-INS", "PAUL", "M", "2000-01-01")
    else:
        op.give_up_waiting()
    traits = ("INCONNU-SANS-INS", "PAUL", "m", "2000-01-01", "75056")
    op.record("Validée", traits)
    op.document(document)
    op.record("VALIDEE", traits)  # the record as it stands after the document


def test_operator_run_with_a_timeout_and_attestations(
    tmp_path: Path, pki: BenchPki, unknown_patient_document: Path
) -> None:
    _config(tmp_path)
    op = Operator(["run", "--scenario", "INS-SC-05"], tmp_path, pki)
    op.configure()
    _play_sc05(op, unknown_patient_document, call_insi=False)  # the software never calls INSi: timeout
    op.attest()
    status, output = op.finish()
    assert status == 1, output
    assert "INS-001" in output and "Non conforme" in output and "Rapport HTML :" in output
    report = next((tmp_path / "runs").glob("*/report.json")).read_text(encoding="utf-8")
    assert "aucun échange insi.search_traits au simulateur insi : l'opérateur a indiqué avoir terminé" in report
    assert "capture d'écran jointe au dossier" in report and '"verdict": "conforme"' in report
    assert all("provisoire / recuperee / validee / qualifiee" in prompt for prompt in op.prompts)  # choices shown


def test_interrupted_operator_run_is_resumed(tmp_path: Path, pki: BenchPki, unknown_patient_document: Path) -> None:
    _config(tmp_path)
    op = Operator(["run", "--scenario", "INS-SC-05", "--scenario", "INS-SC-06"], tmp_path, pki)
    op.configure()
    _play_sc05(op, unknown_patient_document, call_insi=True)
    op.expect("Nouveau scénario")
    op.child.sendintr()  # Ctrl-C at the first prompt of INS-SC-06
    status, output = op.finish()
    assert status == 130, output
    run_dir = re.findall(r"segur-bench resume (\S+)", output)[-1]
    assert (tmp_path / run_dir / "progress" / "INS-SC-05.json").is_file()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = Operator(["resume", str(tmp_path / run_dir)], elsewhere, pki)  # from another directory
    again.expect("1 scénario\\(s\\) déjà joué\\(s\\)")
    again.configure()
    assert again.insi_url == op.insi_url, "a resumed campaign listens where the interrupted one did"
    again.enter()  # new scenario
    again.enter()  # register M. Martin
    again.enter()  # identity document
    # A person takes their time: the search leaves 20 s after the prompt, ten times the scenario's 2 s window; the
    # bench waits for the person (operator_timeout), and the step is judged on what they did.
    again.expect("Recherche de l'INS")
    time.sleep(20)
    again.search("MARTIN", "PIERRE", "M", "1980-01-01", announced=True)  # homonyms: INSi answers 02
    traits = ("MARTIN", "PIERRE", "M", "1980-01-01", "")
    again.record("validee", traits)
    again.document(unknown_patient_document)
    again.record("validee", traits)
    again.attest()
    status, output = again.finish()
    assert status == 0, output
    report = (tmp_path / run_dir / "report.json").read_text(encoding="utf-8")
    assert '"id": "INS-SC-05"' in report and '"id": "INS-SC-06"' in report and '"id": "ATTESTATIONS"' in report
    data = json.loads(report)
    assert data["interruptions"] and {"interrupted", "resumed"} <= set(data["interruptions"][0])
    html = (tmp_path / run_dir / "report.html").read_text(encoding="utf-8")
    assert "interrompue le" in html and "reprise le" in html
