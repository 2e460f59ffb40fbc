"""The command line's help in one language.

French by default (the bench's users and ANS write French); English with ``--lang en``, ``SEGUR_BENCH_LANG=en`` or an
English locale. Every help text is looked up in ``bench.cli.help_texts`` by either of its two forms; Typer's and
Click's own words (usage line, panel titles, the help option) are set for French here, the one place that knows
their names: the attributes are looked up defensively, and a test reads the rendered help, so a Typer release that
renames them shows up as a failing test, never as a crash."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn

from bench.cli.help_texts import PAIRS

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANG_ENV = "SEGUR_BENCH_LANG"

FRENCH_BUILTINS = {  # typer.rich_utils attribute -> French
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commandes",
    "ERRORS_PANEL_TITLE": "Erreur",
    "ABORTED_TEXT": "Interrompu.",
    "DEFAULT_STRING": "[défaut : {}]",
    "REQUIRED_LONG_STRING": "[obligatoire]",
    "DEPRECATED_STRING": "(obsolète) ",
    "ENVVAR_STRING": "[variable d'environnement : {}]",
    "RICH_HELP": "Aide : [blue]'{command_path} {help_option}'[/]",
}
FRENCH_HELP_OPTION = "Afficher cette aide et quitter."
FRENCH_USAGE = "Utilisation : "
FRENCH_SUBCOMMAND_METAVAR = "COMMANDE [ARGS]..."


def cli_language(argv: Sequence[str], environ: Mapping[str, str]) -> str:
    """``--lang`` on the command line, else ``SEGUR_BENCH_LANG``, else the locale (LANGUAGE, LC_ALL, LC_MESSAGES,
    LANG, as gettext reads them), else French."""
    for index, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        else:
            continue
        if value in LANGUAGES:
            return value
    if environ.get(LANG_ENV) in LANGUAGES:
        return environ[LANG_ENV]
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").split(":")[0].lower()
        if value[:2] in LANGUAGES:
            return value[:2]
        if value and name != "LANGUAGE":
            break  # the locale in force names another language (or C): the default
    return DEFAULT_LANGUAGE


def _flat(text: str) -> str:
    return " ".join(text.split())


@functools.cache
def _table(lang: str) -> dict[str, str]:
    """A text in the other language (whitespace ignored) -> its form in ``lang``."""
    pick = 0 if lang == "en" else 1
    return {_flat(pair[1 - pick]): pair[pick] for pair in PAIRS}


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(_flat(form) for pair in PAIRS for form in pair)


def translate(text: str, lang: str) -> str:
    """``text`` in ``lang`` (a text already in ``lang`` is kept as written, line breaks included)."""
    return _table(lang).get(_flat(text), text)


def commands(root: Any) -> Iterator[Any]:
    """``root`` and every command under it."""
    yield root
    for sub in getattr(root, "commands", {}).values():
        yield from commands(sub)


def help_texts(root: Any) -> Iterator[str]:
    """Every help text of the tree (commands' helps and options' helps)."""
    for command in commands(root):
        for attr in ("help", "short_help", "epilog"):
            if getattr(command, attr, None):
                yield getattr(command, attr)
        for param in command.params:
            if getattr(param, "help", None):
                yield param.help


def untranslated(root: Any) -> list[str]:
    """Help texts of the tree that ``help_texts.PAIRS`` lacks."""
    return sorted({text for text in help_texts(root) if _flat(text) not in _known()})


def localise(root: Any, lang: str) -> None:
    """Put every help text of the command tree ``root`` (a Typer-built Click command) in ``lang``."""
    for command in commands(root):
        for attr in ("help", "short_help", "epilog"):
            if getattr(command, attr, None):
                setattr(command, attr, translate(getattr(command, attr), lang))
        for param in command.params:
            if getattr(param, "help", None):
                param.help = translate(param.help, lang)
        if lang == "fr":
            _french_builtins_of(command)


def _french_builtins_of(command: Any) -> None:
    command.context_class = _french_context(command.context_class)
    if hasattr(command, "subcommand_metavar") and command.subcommand_metavar == "COMMAND [ARGS]...":
        command.subcommand_metavar = FRENCH_SUBCOMMAND_METAVAR
    help_option = command.get_help_option(command.context_class(command))
    if help_option is not None:  # kept by the command once made (Click >= 8.1.8 and Typer's own copy)
        help_option.help = FRENCH_HELP_OPTION
    parse = command.parse_args

    def parse_args(ctx: Any, args: list[str]) -> Any:
        """A usage error (unknown option, bad value) is shown with Typer's words in French too."""
        try:
            return parse(ctx, args)
        except Exception:
            _french_typer_words()
            raise

    command.parse_args = parse_args


@functools.cache
def _french_context(base: Any) -> type:
    formatter: Any = base.formatter_class

    class FrenchFormatter(formatter):  # type: ignore[misc]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, FRENCH_USAGE if prefix is None else prefix)

    class FrenchContext(base):  # type: ignore[misc]
        """Typer's own words turn French only when help or an error is shown: importing its rich help costs 50 ms,
        which a command that shows neither must not pay at start-up."""

        formatter_class = FrenchFormatter

        def get_help(self) -> str:
            _french_typer_words()
            help_text: str = super().get_help()
            return help_text

        def fail(self, message: str) -> NoReturn:
            _french_typer_words()
            super().fail(message)
            raise AssertionError("unreachable: fail raises")  # for type checkers that do not follow the base

    return FrenchContext


def _french_typer_words() -> None:
    try:
        from typer import rich_utils
    except ImportError:  # a Typer without rich help: Click's words only
        return
    for name, french in FRENCH_BUILTINS.items():
        if hasattr(rich_utils, name):
            setattr(rich_utils, name, french)
