"""``report``: a sealed run's reports, and its HTML report printed to PDF for an auditor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.cli.common import app, console, out
from bench.exit_codes import EXIT_BENCH_ERROR
from bench.privacy import mask_identifiers

REPORT_FILES = ("report.html", "report.json", "junit.xml")


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="Dossier de la campagne ou du rejeu")],
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Imprimer le rapport HTML en PDF A4 (Chromium sans interface)")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Fichier PDF à écrire (défaut : RUN.pdf, à côté du dossier)")
    ] = None,
) -> None:
    """Check that a run's reports are intact, list them, and with --pdf print the HTML report to an A4 PDF (its
    metadata carry the run id and the SHA-256 of the sealed report.html). Exit 0 done, 2 not a run, 3 altered run or
    no PDF printed."""
    from bench.replay.verify import verify_run
    from reports.pdf import PdfError, print_report

    html = run_dir / "report.html"
    if not html.is_file():
        console.print(
            f"[red]{run_dir} : pas de report.html, ce n'est pas le dossier d'une campagne ou d'un rejeu[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    problems, _signer = verify_run(run_dir)
    if problems:
        for problem in problems:
            console.print(f"[red]{mask_identifiers(problem)}[/red]", soft_wrap=True)
        console.print(
            f"[red]{run_dir} altéré depuis son scellement : rapport non repris (segur-bench verify)[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BENCH_ERROR)
    for name in REPORT_FILES:
        if (run_dir / name).is_file():
            out.print(f"{name} : {run_dir / name}", soft_wrap=True)
    if not pdf:
        return
    folder = run_dir.resolve()
    target = (output or folder.with_name(folder.name + ".pdf")).resolve()
    if target.is_relative_to(folder):
        console.print(f"[red]{target} : le dossier scellé n'est jamais modifié, écrire le PDF ailleurs[/red]")
        raise typer.Exit(2)
    try:
        print_report(html, target, folder.name)
    except (PdfError, OSError) as exc:
        console.print(f"[red]PDF non produit : {exc}[/red]", soft_wrap=True)
        raise typer.Exit(EXIT_BENCH_ERROR) from exc
    out.print(f"PDF : {target}", soft_wrap=True)
