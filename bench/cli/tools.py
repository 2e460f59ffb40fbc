"""Setting up: ``init``, ``config-schema``, ``serve`` (the simulators alone), ``hook-sample``, ``pki export``,
``version``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from bench import __version__
from bench.cli.common import (
    app,
    bench_pki,
    console,
    out,
    pki_app,
    settings_from,
)
from bench.paths import CONFIG_NAME
from bench.runner.ids import new_run_id


@app.command("hook-sample")
def hook_sample(
    host: Annotated[str, typer.Option(help="Adresse d'écoute")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute")] = 8765,
    defect: Annotated[list[str] | None, typer.Option(help="Défaut du candidat de référence (répétable)")] = None,
) -> None:
    """Serve the sample hook service (the candidate API in front of the reference candidate), as an example."""
    import uvicorn

    from bench.candidates.hook_service import create_hook_app

    out.print(
        f"service d'exemple du candidat : http://{host}:{port} (API : bench/candidates/api/candidate-api.yaml)",
        soft_wrap=True,
    )
    uvicorn.run(create_hook_app(defect or []), host=host, port=port, log_level="warning")


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Fichier à écrire")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="Écraser un fichier existant")] = False,
) -> None:
    """Write a commented segur-bench.yaml to start from."""
    from bench.config import init_template

    if path.exists() and not force:
        console.print(f"[red]{path} existe déjà (--force pour l'écraser)[/red]")
        raise typer.Exit(2)
    path.write_text(init_template(), encoding="utf-8")
    out.print(f"configuration écrite : {path}", soft_wrap=True)


@app.command("config-schema")
def config_schema() -> None:
    """Print the JSON Schema of segur-bench.yaml, for editors."""
    from bench.config import BenchConfig

    print(json.dumps(BenchConfig.model_json_schema(), indent=2, ensure_ascii=False))


def parse_ports(values: list[str]) -> dict[str, int]:
    """``["a=8443", "b=0"]`` as ``{"a": 8443, "b": 0}``; a malformed or unknown one is a usage error."""
    from bench.config import unknown_ports
    from bench.domains import registry as domains

    ports: dict[str, int] = {}
    for value in values:
        name, _, number = value.partition("=")
        if not name or not number.isdigit() or int(number) > 65535:
            raise typer.BadParameter(f"{value!r} : attendu NOM=PORT (exemple : nom=8443)", param_hint="--port")
        ports[name.strip()] = int(number)
    unknown = unknown_ports(ports)
    if unknown:
        declared = ", ".join(f"{p.name} ({p.label})" for d in domains.load().values() for p in d.ports)
        raise typer.BadParameter(f"inconnu(s) : {', '.join(unknown)} ; ports connus : {declared}", param_hint="--port")
    return ports


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Adresse d'écoute (défaut : configuration)")] = None,
    port: Annotated[
        list[str] | None,
        typer.Option(help="Port fixe d'un simulateur, NOM=PORT, répétable (0 : libre ; noms : segur-bench init)"),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Dossier des preuves")] = None,
    config: Annotated[Path | None, typer.Option(help="Fichier de configuration (défaut : ./segur-bench.yaml)")] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Écrire aussi les adresses dans ce fichier JSON (pour les scripts)")
    ] = None,
) -> None:
    """Start the simulators alone, for real software, and print their endpoints, one line each. Ctrl-C stops them."""
    from bench.runner.simulators import SimulatorHub

    settings = settings_from(config)
    pki = bench_pki()
    run_dir = (out_dir or settings.out) / f"serve-{new_run_id()}"
    ports = {**settings.simulators.ports, **parse_ports(port or [])}
    hub = SimulatorHub(
        run_dir, pki, host=host or settings.simulators.host, ports=ports, strict_tls=settings.simulators.strict_tls
    )
    with hub:
        endpoints = hub.endpoints()
        files = {"ca_cert": str(pki.ca.cert), "client_cert": str(pki.client.cert), "client_key": str(pki.client.key)}
        # One line each, never wrapped nor read as markup, whatever the terminal (a password may hold brackets).
        for endpoint in endpoints:
            _line(f"{endpoint.label} : {endpoint.value}")
        _line(f"AC à approuver : {files['ca_cert']}")
        _line(f"Certificat client : {files['client_cert']} (clé : {files['client_key']})")
        _line(f"Preuves : {run_dir}")
        if json_file is not None:
            described = {
                "endpoints": {e.key: {"value": e.value, "label": e.label} for e in endpoints},
                **files,
                "evidence": str(run_dir),
            }
            json_file.write_text(json.dumps(described, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            _line(f"Adresses écrites dans {json_file}")
        _line("Ctrl-C pour arrêter.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            out.print(f"Arrêt. {len(hub.journal.exchanges)} échange(s) enregistré(s) dans {run_dir}")


def _line(text: str) -> None:
    out.print(text, soft_wrap=True, markup=False, highlight=False)


@pki_app.command("export")
def pki_export(
    destination: Annotated[Path, typer.Argument(help="Dossier où écrire l'AC et le certificat client")],
    password: Annotated[str | None, typer.Option(help="Mot de passe du fichier PKCS#12")] = None,
) -> None:
    """Hand a vendor the bench CA (to trust the simulators) and a client certificate (to be trusted by them)."""
    from simulators.common.pki import export_client_bundle

    written = export_client_bundle(bench_pki(), destination, password.encode() if password else None)
    for path in written:
        out.print(str(path))


@app.command()
def version() -> None:
    """Print the bench version."""
    out.print(__version__)
