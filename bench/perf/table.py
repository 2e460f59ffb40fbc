"""The README's performance table, written from ``segur-bench perf --json`` figures (so it is rebuilt, never
retyped): each figure with its aim, and its peer and ratio where vendors have one."""

from __future__ import annotations

from typing import Any


def _spread(value: dict[str, float] | None) -> str:
    return f"{value['median']:g} ({value['low']:g}–{value['high']:g})" if value else "—"


def markdown(figures: dict[str, Any]) -> str:
    machine = figures["machine"]
    rows = [
        "| Mesure | Banc | Pair | Rapport (> 1 : banc plus rapide) | Objectif |",
        "|---|---|---|---|---|",
    ]
    if (c := figures.get("campaign_insi")) is not None:
        campaign = f"Campagne medecin-ville ({c['campaign_scenarios']} scénarios)"
        rows.append(f"| {campaign} | {c['campaign_wall_s']} s | — | — | < 10 s |")
        insi = f"{c['insi_round_trips_per_s']:.0f} allers-retours/s, p95 {c['insi_latency_p95_ms']} ms"
        rows.append(f"| INSi, TLS mutuel | {insi} | — | — | ≥ 200/s |")
    if (d := figures.get("cda")) is not None:
        rows.append(f"| CDA règles + XSD, un cœur | {d['rules_xsd_per_s']:.0f} documents/s | — | — | ≥ 300/s |")
        rows.append(
            f"| `check` sur {d['documents']} fichiers (processus neuf) | {d['check_folder_s']} s, "
            f"pic {d['check_folder_peak_rss_mib']} Mio | — | — | mémoire plate |"
        )
        rows.append(f"| `check` sur un fichier, démarrage compris | {d['check_one_s']} s | — | — | < 0,3 s |")
    if (w := figures.get("check_vs_saxon")) is not None:
        rows.append(
            f"| `check`, toutes vérifications, {w['documents']} VAC officiels, tous cœurs | {w['check_s']} s, "
            f"pic {w['check_peak_rss_mib']} Mio | Saxon-HE Java, schématron seul, une JVM : "
            f"{w['saxon_s'] if w['saxon_s'] else '—'} s | {w['ratio'] if w['ratio'] else '—'} | ≥ 2 |"
        )
    for p in figures.get("peers", []):
        rows.append(
            f"| {p['what']}, {p['documents']} copies | {_spread(p['bench_per_s'])} documents/s | {p['peer']} : "
            f"{_spread(p['peer_per_s'])} documents/s | {_spread(p['ratio'])} | — |"
        )
    if (m := figures.get("dmp_feeds")) is not None:
        what = f"DMP ITI-41 de {m['document_kib']} Ko, {m['concurrent_clients']} clients"
        measured = f"{m['concurrent_per_s']:.0f}/s, p95 {m['concurrent_p95_ms']} ms"
        rows.append(f"| {what} | {measured} | — | — | ≥ 100/s, p95 < 100 ms |")
    if (s := figures.get("mss_messages")) is not None:
        rows.append(
            f"| MSSanté, XDM de {s['attachment_kib']} Ko | {s['messages_per_s']:.0f} messages/s, "
            f"{s['fetches_per_s']:.0f} FETCH/s | — | — | — |"
        )
    if (t := figures.get("psc_tokens")) is not None:
        measured = f"{t['tokens_per_s']:.0f} jetons/s (CIBA), {t['xoauth2_sessions_per_s']:.0f} sessions XOAUTH2/s"
        rows.append(f"| Pro Santé Connect | {measured} | — | — | — |")
    if (r := figures.get("replay")) is not None:
        dask = f", Dask {r['dask_per_s']:.0f}/s" if r.get("dask_per_s") else ""
        if r.get("dask_client_scheduler_peak_rss_mib"):
            dask += (
                f" (pic client + ordonnanceur {r['dask_client_scheduler_peak_rss_mib']} Mio, "
                f"travailleurs {r['dask_worker_peak_rss_mib']} Mio)"
            )
        rows.append(
            f"| Rejeu de {r['exchanges']} échanges | {r['local_per_s']:.0f}/s local, {r['process_per_s']:.0f}/s "
            f"2 processus{dask} ; pic {r['peak_rss_mib']} Mio | — | — | ≥ 500/s, < 300 Mio |"
        )
    if hostile := figures.get("hostile"):
        worst = max(h["peak_rss_mib"] for h in hostile)
        rows.append(
            f"| `check` et `replay` sur {len(hostile) // 2} fichiers hostiles | pic ≤ {worst} Mio | — | — | < 300 Mio |"
        )
    head = f"Mesuré le {machine['date']} : {machine['cores']} cœurs, {machine['cpu']}, Python {machine['python']}."
    return head + "\n\n" + "\n".join(rows) + "\n"
