"""The command line's help in one language: French by default, English with --lang en, SEGUR_BENCH_LANG or an English
locale; every help text has both forms, and Typer's and Click's own words follow."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
import typer

from bench.cli import app
from bench.cli.help_texts import PAIRS
from bench.cli.language import FRENCH_BUILTINS, cli_language, help_texts, localise, untranslated

ENGLISH_WORDS = ("Usage:", "Show this message and exit", "Run a campaign", "Commands", "Install completion")
FRENCH_WORDS = ("Utilisation :", "Afficher cette aide et quitter", "Exécuter une campagne", "Commandes")


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        ([], {}, "fr"),
        ([], {"LANG": "C.UTF-8"}, "fr"),
        ([], {"LANG": "en_GB.UTF-8"}, "en"),
        ([], {"LANG": "fr_FR.UTF-8", "LC_ALL": "en_US.UTF-8"}, "en"),
        ([], {"LANGUAGE": "en:fr", "LANG": "fr_FR.UTF-8"}, "en"),
        ([], {"LANG": "de_DE.UTF-8"}, "fr"),
        ([], {"SEGUR_BENCH_LANG": "en", "LANG": "fr_FR.UTF-8"}, "en"),
        (["run", "--lang", "en"], {"LANG": "fr_FR.UTF-8"}, "en"),
        (["--lang=en", "check"], {}, "en"),
        (["run", "--lang", "fr"], {"SEGUR_BENCH_LANG": "en"}, "fr"),
        (["run", "--lang", "de"], {"LANG": "en_US"}, "en"),  # an unknown value decides nothing (the command refuses it)
        (["check", "--", "--lang", "en"], {}, "fr"),  # after "--", a file name
    ],
)
def test_the_language_comes_from_the_command_line_then_the_environment(
    argv: list[str], environ: dict[str, str], expected: str
) -> None:
    assert cli_language(argv, environ) == expected


def test_every_help_text_has_its_english_and_french_forms() -> None:
    missing = untranslated(typer.main.get_command(app))
    assert not missing, f"textes d'aide absents de bench/cli/help_texts.py : {missing}"


def test_a_text_missing_from_the_table_is_reported() -> None:
    command: Any = typer.main.get_command(app)
    command.commands["run"].params[0].help = "Un texte que la table ne connaît pas"
    assert untranslated(command) == ["Un texte que la table ne connaît pas"]


@pytest.mark.parametrize(("lang", "side"), [("fr", 1), ("en", 0)])
def test_localised_tree_speaks_one_language(lang: str, side: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import rich_utils

    for name in FRENCH_BUILTINS:  # restored after the test: other tests read Typer's own words
        if hasattr(rich_utils, name):
            monkeypatch.setattr(rich_utils, name, getattr(rich_utils, name))
    command = typer.main.get_command(app)
    localise(command, lang)
    wanted = {" ".join(pair[side].split()) for pair in PAIRS}
    other = [text for text in help_texts(command) if " ".join(text.split()) not in wanted]
    assert not other, other[:5]


def _help(args: list[str], **environ: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(environ, COLUMNS="200", TERM="dumb")
    done = subprocess.run(
        [sys.executable, "-c", "from bench.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["catalogue", "--help"]])
def test_help_is_french_under_a_c_locale(args: list[str]) -> None:
    shown = _help(args, LANG="C.UTF-8")
    assert "Utilisation :" in shown and "Afficher cette aide et quitter" in shown
    assert not [word for word in ENGLISH_WORDS if word in shown], shown[:400]


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["--lang", "en", "catalogue", "--help"]])
def test_help_is_english_under_an_english_locale_or_lang_en(args: list[str]) -> None:
    shown = _help(args, LANG="en_US.UTF-8") if "--lang" not in args else _help(args, LANG="fr_FR.UTF-8")
    assert "Usage:" in shown and "Show this message and exit" in shown
    assert not [word for word in FRENCH_WORDS if word in shown], shown[:400]
    assert "Dossier des campagnes" not in shown and "Profil de référencement" not in shown


def test_a_usage_error_speaks_french_and_a_plain_command_does_not_load_the_help_machinery() -> None:
    """Typer's words turn French when help or an error is shown, not at every start (its rich help weighs 50 ms)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env.update(LANG="C.UTF-8", COLUMNS="200", TERM="dumb")
    code = (
        "import sys; from bench.cli import main\ntry:\n    main()\n"
        "finally:\n    print('rich_utils' if 'typer.rich_utils' in sys.modules else 'light')"
    )
    plain = subprocess.run([sys.executable, "-c", code, "version"], capture_output=True, text=True, env=env, timeout=60)
    assert plain.stdout.split()[-1] == "light", plain.stdout
    wrong = subprocess.run(
        [sys.executable, "-c", code, "run", "--bogus"], capture_output=True, text=True, env=env, timeout=60
    )
    shown = " ".join((wrong.stdout + wrong.stderr).split())
    assert wrong.returncode == 2 and "Erreur" in shown and "Utilisation :" in shown and "Try '" not in shown
