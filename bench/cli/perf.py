"""``perf``: the benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bench.cli.common import (
    app,
    bench_catalogue,
    bench_pki,
    out,
)


@app.command()
def perf(
    round_trips: Annotated[int, typer.Option(help="Allers-retours INSi mesurés")] = 1000,
    cda_documents: Annotated[int, typer.Option(help="Documents CDA générés pour la mesure")] = 1000,
    pack: Annotated[Path | None, typer.Option(help="Paquet de validation CI-SIS (XSD, schématrons)")] = None,
    replay_exchanges: Annotated[
        int, typer.Option(help="Échanges du lot de captures généré (0 : pas de mesure)")
    ] = 100_000,
    dmp_feeds: Annotated[int, typer.Option(help="Alimentations ITI-41 de 100 Ko mesurées (0 : pas de mesure)")] = 1000,
    mss_messages: Annotated[int, typer.Option(help="Messages MSSanté de 200 Ko soumis (0 : pas de mesure)")] = 200,
    hostile: Annotated[
        bool, typer.Option(help="Pic mémoire de check et replay sur un jeu de fichiers hostiles généré (bombes zip…)")
    ] = True,
) -> None:
    """Benchmarks: campaign wall time, INSi round trips per second over mutual TLS on loopback, CDA documents per
    second (rules + XSD, schematron in-process and Saxon-HE from Java, one process per document), DMP feeds per
    second and latency under 16 concurrent clients, MSSanté messages and IMAP fetches per second, replay throughput and
    memory, and the peak memory of check and replay on generated hostile files (zip bombs, overlapping entries...)."""
    from bench.perf import measure, measure_cda, measure_replay
    from bench.validation.packs import find_packs

    packs = find_packs([pack] if pack else [])
    figures = measure(bench_catalogue(), bench_pki(), round_trips=round_trips, pack=packs[0] if packs else None)
    out.print(
        f"Campagne medecin-ville ({figures.campaign_scenarios} scénarios) : {figures.campaign_wall_s:.2f} s"
        " (objectif < 5 s)",
        soft_wrap=True,
    )
    out.print(
        f"INSi, TLS mutuel, boucle locale : {figures.insi_round_trips_per_s:.0f} allers-retours/s sur "
        f"{figures.insi_round_trips} (objectif ≥ 200) ; p50 {figures.insi_latency_p50_ms} ms, "
        f"p95 {figures.insi_latency_p95_ms} ms",
        soft_wrap=True,
    )
    cda = measure_cda(packs[0] if packs else None, documents=cda_documents)
    xsd = "règles + XSD" if cda.with_xsd else "règles (sans paquet : pas de XSD)"
    out.print(
        f"CDA, {xsd} : {cda.rules_xsd_per_s:.0f} documents/s sur un cœur (objectif ≥ 300) ; "
        f"segur-bench check sur {cda.documents} fichiers : {cda.check_folder_s} s, "
        f"pic mémoire tracé {cda.check_folder_peak_mib} Mio",
        soft_wrap=True,
    )
    if cda.schematron_per_s is not None:
        java = (
            f"{cda.java_saxon_per_s} documents/s"
            if cda.java_saxon_per_s is not None
            else "non mesuré (Saxon-HE Java absent : apt-get install libsaxonhe-java)"
        )
        out.print(
            f"Schématron {cda.schematron_name} : {cda.schematron_per_s:.0f} documents/s dans le banc ; "
            f"Saxon-HE Java, un processus par document : {java}",
            soft_wrap=True,
        )
    if dmp_feeds:
        from bench.domains.dmp.perf import measure_dmp

        dmp = measure_dmp(bench_pki().directory, feeds=dmp_feeds)
        out.print(
            f"DMP, ITI-41 de {dmp.document_kib} Ko en TLS mutuel (VIHF signé, MTOM) : {dmp.sequential_per_s:.0f}/s "
            f"avec un client ; {dmp.concurrent_per_s:.0f}/s avec {dmp.concurrent_clients} clients simultanés "
            f"(objectif ≥ 100/s), p50 {dmp.concurrent_p50_ms} ms, p95 {dmp.concurrent_p95_ms} ms (objectif < 100 ms)"
            + (f" ; {dmp.failures} échec(s)" if dmp.failures else ""),
            soft_wrap=True,
        )
    if mss_messages:
        from bench.domains.mss.perf import measure_mss

        mss = measure_mss(bench_pki().directory, messages=mss_messages)
        out.print(
            f"MSSanté : {mss.messages_per_s:.0f} messages/s acceptés avec une pièce XDM de {mss.attachment_kib} Ko "
            f"(session complète STARTTLS + AUTH par message) ; {mss.fetches_per_s:.0f} FETCH IMAP/s sur TLS",
            soft_wrap=True,
        )
    if replay_exchanges:
        replay = measure_replay(replay_exchanges)
        dask = f"{replay.dask_per_s:.0f}/s" if replay.dask_per_s else "non mesuré"
        out.print(
            f"Rejeu d'une capture de {replay.exchanges} échanges ({replay.bundle_mib} Mio) : "
            f"{replay.local_per_s:.0f}/s en local, {replay.process_per_s:.0f}/s sur 2 processus, "
            f"{dask} sur un cluster Dask local "
            f"(objectif ≥ 500/s) ; pic mémoire {replay.peak_rss_mib} Mio (processus de rejeu), "
            f"{replay.peak_worker_rss_mib} Mio (processus de travail) (objectif < 300 Mio)",
            soft_wrap=True,
        )
    if hostile:
        import tempfile

        from bench.perf.bombs import measure_hostile

        with tempfile.TemporaryDirectory(prefix="segur-bench-bombs-") as tmp:
            hostile_figures = measure_hostile(Path(tmp))
        worst = max(f.peak_rss_mib for f in hostile_figures)
        out.print(
            f"Fichiers hostiles ({len(hostile_figures) // 2} : bombe zip, entrées superposées, 20 000 membres, "
            f"archives imbriquées, MIME et YAML imbriqués) : pic mémoire de check et replay ≤ {worst} Mio "
            "(objectif < 300 Mio)",
            soft_wrap=True,
        )
        for figure in hostile_figures:
            out.print(
                f"  {figure.command} {figure.file} ({figure.size_kib} Kio) : sortie {figure.exit_code}, "
                f"pic {figure.peak_rss_mib} Mio",
                soft_wrap=True,
            )
