"""``perf``: the benchmarks, each figure beside its peer where vendors have one, and ``--json`` for machines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.cli.common import (
    app,
    bench_catalogue,
    bench_pki,
    out,
)


def _machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    return {
        "date": dt.date.today().isoformat(),
        "cores": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
    }


def _say(text: str) -> None:
    out.print(text, soft_wrap=True, markup=False, highlight=False)


@app.command()
def perf(
    round_trips: Annotated[int, typer.Option(help="Allers-retours INSi mesurés")] = 1000,
    cda_documents: Annotated[int, typer.Option(help="Documents CDA générés pour la mesure")] = 1000,
    pack: Annotated[Path | None, typer.Option(help="Paquet de validation CI-SIS (XSD, schématrons)")] = None,
    peer_documents: Annotated[
        int, typer.Option(help="Copies distinctes de chaque exemple officiel pour la comparaison aux outils (0 : non)")
    ] = 200,
    replay_exchanges: Annotated[
        int, typer.Option(help="Échanges du lot de captures généré (0 : pas de mesure)")
    ] = 100_000,
    dmp_feeds: Annotated[int, typer.Option(help="Alimentations ITI-41 de 100 Ko mesurées (0 : pas de mesure)")] = 1000,
    mss_messages: Annotated[int, typer.Option(help="Messages MSSanté de 200 Ko soumis (0 : pas de mesure)")] = 200,
    psc_tokens: Annotated[
        int, typer.Option(help="Jetons Pro Santé Connect émis par CIBA, et sessions SMTP XOAUTH2 (0 : pas de mesure)")
    ] = 200,
    hostile: Annotated[
        bool, typer.Option(help="Pic mémoire de check et replay sur un jeu de fichiers hostiles généré (bombes zip…)")
    ] = True,
    json_file: Annotated[Path | None, typer.Option("--json", help="Écrire aussi toutes les mesures en JSON")] = None,
    markdown_file: Annotated[
        Path | None, typer.Option("--markdown", help="Écrire aussi le tableau des mesures (Markdown, pour le README)")
    ] = None,
) -> None:
    """Benchmarks: campaign wall time, INSi round trips per second over mutual TLS on loopback, CDA documents per
    second (rules + XSD; `check` as users run it, with its peak memory), the schematron and the XSD beside Saxon-HE
    Java and xmllint on ANS's official-size examples (ratios measured side by side), DMP feeds per second and latency
    under 16 concurrent clients, MSSanté messages and IMAP fetches per second, replay throughput and memory, and the
    peak memory of check and replay on generated hostile files (zip bombs, overlapping entries...)."""
    from bench.perf import measure, measure_cda, measure_replay
    from bench.validation.packs import find_packs

    packs = find_packs([pack] if pack else [])
    chosen = packs[0] if packs else None
    figures: dict[str, Any] = {"machine": _machine()}
    _say(f"Machine : {figures['machine']['cores']} cœurs, {figures['machine']['cpu']}, {figures['machine']['date']}")

    campaign = measure(bench_catalogue(), bench_pki(), round_trips=round_trips, pack=chosen)
    figures["campaign_insi"] = dataclasses.asdict(campaign)
    _say(
        f"Campagne medecin-ville ({campaign.campaign_scenarios} scénarios) : {campaign.campaign_wall_s:.2f} s "
        "(objectif < 10 s avec les scénarios d'automatisation de l'issue 18 ; les fenêtres « rien ne doit arriver » "
        "finissent au signal du candidat, sauf quand il a encore du travail en attente)"
    )
    _say(
        f"INSi, TLS mutuel, boucle locale : {campaign.insi_round_trips_per_s:.0f} allers-retours/s sur "
        f"{campaign.insi_round_trips} (objectif ≥ 200) ; p50 {campaign.insi_latency_p50_ms} ms, "
        f"p95 {campaign.insi_latency_p95_ms} ms"
    )

    cda = measure_cda(chosen, documents=cda_documents)
    figures["cda"] = dataclasses.asdict(cda)
    xsd = "règles + XSD" if cda.with_xsd else "règles (sans paquet : pas de XSD)"
    _say(
        f"CDA, {xsd} : {cda.rules_xsd_per_s:.0f} documents/s sur un cœur ; segur-bench check sur {cda.documents} "
        f"fichiers : {cda.check_folder_s} s, pic mémoire {cda.check_folder_peak_rss_mib} Mio ; sur un seul "
        f"fichier : {cda.check_one_s} s, démarrage compris (objectif < 0,3 s)"
    )
    if chosen is not None and peer_documents:
        from bench.perf.peers import check_versus_saxon, saxon_jar, schematron_figures, xsd_figures

        whole = check_versus_saxon(chosen, copies=5 * peer_documents)
        if whole is not None:
            figures["check_vs_saxon"] = dataclasses.asdict(whole)
            saxon = f"{whole.saxon_s} s, rapport {whole.ratio} (objectif ≥ 2)" if whole.saxon_s else "non mesuré"
            _say(
                f"segur-bench check, toutes vérifications, {whole.documents} VAC officiels distincts, tous cœurs : "
                f"{whole.check_s} s, pic {whole.check_peak_rss_mib} Mio ; Saxon-HE Java, schématron VAC seul, une "
                f"JVM : {saxon}"
            )
        peers = xsd_figures(chosen, copies=peer_documents) + schematron_figures(chosen, copies=peer_documents)
        figures["peers"] = [dataclasses.asdict(p) for p in peers]
        if saxon_jar() is None:
            _say("Saxon-HE Java absent (apt-get install libsaxonhe-java) : schématrons mesurés sans leur pair")
        for peer in peers:
            ratio = f" ; rapport {peer.ratio} (> 1 : le banc est plus rapide)" if peer.ratio else ""
            against = f" ; {peer.peer} : {peer.peer_per_s} documents/s" if peer.peer_per_s else f" ; {peer.note}"
            _say(f"{peer.what}, {peer.documents} copies : {peer.bench} {peer.bench_per_s} documents/s{against}{ratio}")

    if dmp_feeds:
        from bench.domains.dmp.perf import measure_dmp

        dmp = measure_dmp(bench_pki().directory, feeds=dmp_feeds)
        figures["dmp_feeds"] = dataclasses.asdict(dmp)
        _say(
            f"DMP, ITI-41 de {dmp.document_kib} Ko en TLS mutuel (VIHF signé, MTOM) : {dmp.sequential_per_s:.0f}/s "
            f"avec un client ; {dmp.concurrent_per_s:.0f}/s avec {dmp.concurrent_clients} clients simultanés "
            f"(objectif ≥ 100/s), p50 {dmp.concurrent_p50_ms} ms, p95 {dmp.concurrent_p95_ms} ms (objectif < 100 ms)"
            + (f" ; {dmp.failures} échec(s)" if dmp.failures else "")
        )
    if mss_messages:
        from bench.domains.mss.perf import measure_mss

        mss = measure_mss(bench_pki().directory, messages=mss_messages)
        figures["mss_messages"] = dataclasses.asdict(mss)
        _say(
            f"MSSanté : {mss.messages_per_s:.0f} messages/s acceptés avec une pièce XDM de {mss.attachment_kib} Ko "
            f"(session complète STARTTLS + AUTH par message) ; {mss.fetches_per_s:.0f} FETCH IMAP/s sur TLS"
        )
    if psc_tokens:
        from bench.domains.psc.perf import measure_psc

        psc = measure_psc(bench_pki().directory, tokens=psc_tokens, sessions=psc_tokens)
        figures["psc_tokens"] = dataclasses.asdict(psc)
        _say(
            f"Pro Santé Connect : {psc.tokens_per_s:.0f} jetons/s émis par CIBA (demande + relève, client authentifié, "
            f"sur {psc.tokens}) ; {psc.xoauth2_sessions_per_s:.0f} sessions SMTP/s ouvertes en XOAUTH2 avec ce jeton "
            "(STARTTLS + AUTH)"
        )
    if replay_exchanges:
        replay = measure_replay(replay_exchanges)
        figures["replay"] = dataclasses.asdict(replay)
        dask = f"{replay.dask_per_s:.0f}/s" if replay.dask_per_s else "non mesuré"
        _say(
            f"Rejeu d'une capture de {replay.exchanges} échanges ({replay.bundle_mib} Mio) : "
            f"{replay.local_per_s:.0f}/s en local, {replay.process_per_s:.0f}/s sur 2 processus, "
            f"{dask} sur un cluster Dask local "
            f"(objectif ≥ 500/s) ; pic mémoire {replay.peak_rss_mib} Mio (processus de rejeu), "
            f"{replay.peak_worker_rss_mib} Mio (processus de travail)"
            + (
                f", Dask : {replay.dask_client_scheduler_peak_rss_mib} Mio (client et ordonnanceur), "
                f"{replay.dask_worker_peak_rss_mib} Mio (travailleurs)"
                if replay.dask_client_scheduler_peak_rss_mib
                else ""
            )
            + " (objectif < 300 Mio)"
        )
    if hostile:
        import tempfile

        from bench.perf.bombs import measure_hostile

        with tempfile.TemporaryDirectory(prefix="segur-bench-bombs-") as tmp:
            hostile_figures = measure_hostile(Path(tmp))
        figures["hostile"] = [dataclasses.asdict(f) for f in hostile_figures]
        worst = max(f.peak_rss_mib for f in hostile_figures)
        _say(
            f"Fichiers hostiles ({len(hostile_figures) // 2} : bombe zip, entrées superposées, 20 000 membres, "
            f"archives imbriquées, MIME et YAML imbriqués) : pic mémoire de check et replay ≤ {worst} Mio "
            "(objectif < 300 Mio)"
        )
        for figure in hostile_figures:
            _say(
                f"  {figure.command} {figure.file} ({figure.size_kib} Kio) : sortie {figure.exit_code}, "
                f"pic {figure.peak_rss_mib} Mio"
            )
    if json_file is not None:
        json_file.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        _say(f"Mesures écrites : {json_file}")
    if markdown_file is not None:
        from bench.perf.table import markdown

        # Through JSON, as a table rebuilt from a saved --json file would be.
        markdown_file.write_text(markdown(json.loads(json.dumps(figures))), encoding="utf-8")
        _say(f"Tableau écrit : {markdown_file}")
