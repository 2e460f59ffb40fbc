"""Every help text of the command line in English and in French, as (English, French) pairs.

The commands' docstrings are written in English and most option helps in French; ``bench.cli.language`` shows the whole
help in one language by looking each text up here by either side (whitespace ignored). A test walks every command and
option and fails on a text missing from this table, so a new option cannot bring its language back into the other."""

from __future__ import annotations

PAIRS: tuple[tuple[str, str], ...] = (
    # The application and its groups
    (
        "segur-bench: conformance bench for the Ségur wave 2 (INSi, DMP, MSSanté, CDA).",
        "segur-bench : banc de conformité Ségur vague 2 (INSi, DMP, MSSanté, CDA).",
    ),
    ("The catalogue of requirements and scenarios.", "Le catalogue des exigences et des scénarios."),
    ("The bench's test PKI.", "La PKI de test du banc."),
    (
        "The CI-SIS validation packs (XSD, schematrons, value sets).",
        "Les paquets de validation CI-SIS (XSD, schématrons, jeux de valeurs).",
    ),
    (
        "Language of the help: fr or en (default: the locale, else fr)",
        "Langue de l'aide : fr ou en (défaut : la locale, sinon fr)",
    ),
    # Typer's shell completion options
    ("Install completion for the current shell.", "Installer la complétion pour le shell courant."),
    (
        "Show completion for the current shell, to copy it or customize the installation.",
        "Afficher la complétion pour le shell courant, pour la copier ou adapter l'installation.",
    ),
    # run, resume
    (
        "Run a campaign and write its reports. Exit 0 all good, 1 a requirement is Non conforme, 3 bench error, "
        "130 interrupted (resume it with `segur-bench resume RUN`).",
        "Exécuter une campagne et écrire ses rapports. Sortie 0 tout est bon, 1 une exigence est Non conforme, "
        "3 erreur du banc, 130 interrompue (la reprendre avec `segur-bench resume RUN`).",
    ),
    (
        "Candidate: reference, http-hook, command or operator (default: configuration)",
        "Candidat : reference, http-hook, command ou operator (défaut : configuration)",
    ),
    ("Referencing profile", "Profil de référencement"),
    ("Only these scenarios (repeatable)", "Limiter à ces scénarios (répétable)"),
    ("Defect of the reference candidate (repeatable)", "Défaut du candidat de référence (répétable)"),
    ("Folder of the runs", "Dossier des campagnes"),
    ("Language of the HTML report: fr or en", "Langue du rapport HTML : fr ou en"),
    ("CI-SIS validation pack for the CDA checks", "Paquet de validation CI-SIS pour les vérifications CDA"),
    (
        "CSV export of ANS's grid: its scenarios and proofs in the report",
        "Export CSV de la grille ANS : ses scénarios et preuves dans le rapport",
    ),
    ("http-hook: URL of the candidate's service", "http-hook : URL du service du candidat"),
    ("Configuration file (default: ./segur-bench.yaml)", "Fichier de configuration (défaut : ./segur-bench.yaml)"),
    (
        "Continue an interrupted campaign: completed scenarios are kept, the rest run, the reports cover everything.",
        "Poursuivre une campagne interrompue : les scénarios terminés sont gardés, les autres s'exécutent, "
        "les rapports couvrent le tout.",
    ),
    ("Folder of the interrupted run", "Dossier de la campagne interrompue"),
    # export, replay
    (
        "Export a run's exchanges as a capture bundle in standard formats (HAR 1.2, CDA .xml, .eml, manifest), and/or "
        "its report with every piece of evidence as one .zip an auditor can open and verify (--report-zip). "
        "The capture bundle of a replay (field data) is pseudonymised unless --no-pseudonymise.",
        "Exporter les échanges d'une campagne en lot de captures aux formats standard (HAR 1.2, CDA .xml, .eml, "
        "manifeste), et/ou son rapport avec toutes ses preuves en un .zip qu'un auditeur peut ouvrir et vérifier "
        "(--report-zip). Le lot d'un rejeu (données de terrain) est pseudonymisé, sauf --no-pseudonymise.",
    ),
    ("Folder of the run", "Dossier de la campagne"),
    ("Folder or .zip file of the capture bundle to write", "Dossier ou fichier .zip du lot de captures à écrire"),
    (
        ".zip archive of the report and its evidence, links kept, to send",
        "Archive .zip du rapport et de ses preuves, liens conservés, à envoyer",
    ),
    (
        "Export of a replay: identities in clear (pseudonymised by default)",
        "Export d'un rejeu : identités en clair (pseudonymisées par défaut)",
    ),
    ("Pseudonymisation key (default: the user's key)", "Clé de pseudonymisation (défaut : clé de l'utilisateur)"),
    (
        "Replay captured exchanges through the checks and write the usual reports (identities pseudonymised). "
        "A bundle exported from a run is judged step by step exactly as the run was; a field capture is streamed and "
        "each exchange judged by the checks that apply on their own, locally, on a process pool or on a Dask cluster.",
        "Rejouer des échanges capturés à travers les vérifications et écrire les rapports habituels (identités "
        "pseudonymisées).\n\nUn lot exporté d'une campagne est jugé étape par étape, exactement comme la campagne ; "
        "une capture de terrain est lue en flux et chaque échange jugé par les vérifications qui s'appliquent seules, "
        "en local, sur un pool de processus ou sur un cluster Dask.",
    ),
    (
        "Capture bundle: folder or .zip (HAR 1.2, .xml, .eml, manifest)",
        "Lot de captures : dossier ou .zip (HAR 1.2, .xml, .eml, manifest)",
    ),
    (
        "Identities in clear in the reports (pseudonymised by default)",
        "Identités en clair dans les rapports (pseudonymisées par défaut)",
    ),
    (
        "Field captures: local, process (process pool) or dask (--scheduler)",
        "Captures de terrain : local, process (pool de processus) ou dask (--scheduler)",
    ),
    ("dask: address of the scheduler (tcp://host:port)", "dask : adresse de l'ordonnanceur (tcp://hôte:port)"),
    ("process/dask: batches processed in parallel", "process/dask : lots traités en parallèle"),
    ("Profile a field capture is reported against", "Profil auquel rapporter une capture de terrain"),
    (
        "Field capture: production (default) or test; an INS under the other one's OID is a finding",
        "Capture de terrain : production (défaut) ou test ; une INS sous l'OID de l'autre est un constat",
    ),
    # check
    (
        "Check standalone artifacts without a run. Exit 0 nothing fails, 1 a check fails, 2 an input is unreadable, "
        "3 the bench could not judge (an incomplete validation pack, for example).",
        "Vérifier des artefacts seuls, sans campagne. Sortie 0 rien n'échoue, 1 une vérification échoue, 2 une entrée "
        "est illisible, 3 le banc n'a pas pu juger (un paquet de validation incomplet, par exemple).",
    ),
    (
        "Files or folders: CDA .xml, XDM .zip archives, .eml messages",
        "Fichiers ou dossiers : CDA .xml, archives XDM .zip, messages .eml",
    ),
    ("text or json", "text ou json"),
    (
        "CI-SIS validation pack (XSD, schematrons, value sets)",
        "Paquet de validation CI-SIS (XSD, schématrons, jeux de valeurs)",
    ),
    (
        "Volet schematron to apply (file name without .sch) instead of the automatic choice",
        "Schématron de volet à appliquer (nom de fichier sans .sch) au lieu du choix auto",
    ),
    (
        "INS/NIR numbers in clear (masked by default: these outputs are often shared)",
        "Matricules INS/NIR en clair (masqués par défaut : ces sorties sont souvent partagées)",
    ),
    (
        "Environment of the documents: test (default) or production (INS OIDs expected)",
        "Environnement des documents : test (défaut) ou production (OID INS attendus)",
    ),
    (
        "Checking processes in parallel (0: one per core; from 32 files)",
        "Processus de vérification en parallèle (0 : un par cœur ; dès 32 fichiers)",
    ),
    # verify, report
    (
        "Tell whether a report and its evidence, or a capture bundle, are intact: the journal's chain, every file as "
        "the signed seal (or the bundle's signed manifest) lists it, the signer. Exit 0 intact, 3 altered (not to be "
        "trusted).",
        "Dire si un rapport et ses preuves, ou un lot de captures, sont intacts : la chaîne du journal, chaque "
        "fichier tel que le sceau signé (ou le manifeste signé du lot) le liste, le signataire. Sortie 0 intact, "
        "3 altéré (à ne pas croire).",
    ),
    (
        "Run or replay (folder), or capture bundle (folder, zip)",
        "Campagne ou rejeu (dossier), ou lot de captures (dossier, zip)",
    ),
    (
        "Fingerprint (SHA256:…) of the expected key; without it, the fingerprint found is printed",
        "Empreinte (SHA256:…) de la clé attendue ; sans elle, l'empreinte trouvée est affichée",
    ),
    (
        "Check that a run's reports are intact, list them, and with --pdf print the HTML report to an A4 PDF (its "
        "metadata carry the run id and the SHA-256 of the sealed report.html). Exit 0 done, 2 not a run, 3 altered run "
        "or no PDF printed.",
        "Vérifier que les rapports d'une campagne sont intacts, les lister, et avec --pdf imprimer le rapport HTML en "
        "PDF A4 (ses métadonnées portent l'id de la campagne et le SHA-256 du report.html scellé). Sortie 0 fait, "
        "2 pas une campagne, 3 campagne altérée ou PDF non produit.",
    ),
    ("Folder of the run or replay", "Dossier de la campagne ou du rejeu"),
    (
        "Print the HTML report to an A4 PDF (headless Chromium)",
        "Imprimer le rapport HTML en PDF A4 (Chromium sans interface)",
    ),
    (
        "PDF file to write (default: RUN.pdf, beside the folder)",
        "Fichier PDF à écrire (défaut : RUN.pdf, à côté du dossier)",
    ),
    # perf
    (
        "Benchmarks: campaign wall time, INSi round trips per second over mutual TLS on loopback, CDA documents per "
        "second (rules + XSD; `check` as users run it, with its peak memory), the schematron and the XSD beside "
        "Saxon-HE Java and xmllint on ANS's official-size examples (ratios measured side by side), DMP feeds per "
        "second and latency under 16 concurrent clients, MSSanté messages and IMAP fetches per second, replay "
        "throughput and memory, and the peak memory of check and replay on generated hostile files (zip bombs, "
        "overlapping entries...).",
        "Mesures : durée d'une campagne, allers-retours INSi par seconde en TLS mutuel sur la boucle locale, documents "
        "CDA par seconde (règles + XSD ; `check` comme les utilisateurs le lancent, avec son pic mémoire), le "
        "schématron et le XSD à côté de Saxon-HE Java et de xmllint sur les exemples officiels de l'ANS (rapports "
        "mesurés côte à côte), alimentations DMP par seconde et latence sous 16 clients simultanés, messages "
        "MSSanté et lectures IMAP par seconde, débit et mémoire du rejeu, et pic mémoire de check et replay sur des "
        "fichiers hostiles générés (bombes zip, entrées qui se chevauchent…).",
    ),
    ("INSi round trips measured", "Allers-retours INSi mesurés"),
    ("CDA documents generated for the measure", "Documents CDA générés pour la mesure"),
    ("CI-SIS validation pack (XSD, schematrons)", "Paquet de validation CI-SIS (XSD, schématrons)"),
    (
        "Distinct copies of each official example for the comparison with the tools (0: none)",
        "Copies distinctes de chaque exemple officiel pour la comparaison aux outils (0 : non)",
    ),
    (
        "Exchanges of the generated capture bundle (0: no measure)",
        "Échanges du lot de captures généré (0 : pas de mesure)",
    ),
    ("ITI-41 feeds of 100 KB measured (0: no measure)", "Alimentations ITI-41 de 100 Ko mesurées (0 : pas de mesure)"),
    ("MSSanté messages of 200 KB submitted (0: no measure)", "Messages MSSanté de 200 Ko soumis (0 : pas de mesure)"),
    (
        "Pro Santé Connect tokens issued through CIBA, and SMTP XOAUTH2 sessions (0: no measure)",
        "Jetons Pro Santé Connect émis par CIBA, et sessions SMTP XOAUTH2 (0 : pas de mesure)",
    ),
    (
        "Peak memory of check and replay on a generated set of hostile files (zip bombs…)",
        "Pic mémoire de check et replay sur un jeu de fichiers hostiles généré (bombes zip…)",
    ),
    ("Also write every measure as JSON", "Écrire aussi toutes les mesures en JSON"),
    (
        "Also write the table of measures (Markdown, for the README)",
        "Écrire aussi le tableau des mesures (Markdown, pour le README)",
    ),
    # hook-sample, init, config-schema, serve, version
    (
        "Serve the sample hook service (the candidate API in front of the reference candidate), as an example.",
        "Servir le service d'exemple de l'API candidat (devant le candidat de référence), comme modèle.",
    ),
    ("Listening address", "Adresse d'écoute"),
    ("Listening port", "Port d'écoute"),
    ("Write a commented segur-bench.yaml to start from.", "Écrire un segur-bench.yaml commenté pour commencer."),
    ("File to write", "Fichier à écrire"),
    ("Overwrite an existing file", "Écraser un fichier existant"),
    (
        "Print the JSON Schema of segur-bench.yaml, for editors.",
        "Afficher le schéma JSON de segur-bench.yaml, pour les éditeurs.",
    ),
    (
        "Start the simulators alone, for real software, and print their endpoints, one line each. Ctrl-C stops them.",
        "Démarrer les simulateurs seuls, pour un vrai logiciel, et afficher leurs adresses, une ligne chacune. Ctrl-C "
        "les arrête.",
    ),
    ("Listening address (default: configuration)", "Adresse d'écoute (défaut : configuration)"),
    (
        "Fixed port of a simulator, NAME=PORT, repeatable (0: any free port; names: segur-bench init)",
        "Port fixe d'un simulateur, NOM=PORT, répétable (0 : libre ; noms : segur-bench init)",
    ),
    ("Folder of the evidence", "Dossier des preuves"),
    (
        "Also write the addresses to this JSON file (for scripts)",
        "Écrire aussi les adresses dans ce fichier JSON (pour les scripts)",
    ),
    ("Print the bench version.", "Afficher la version du banc."),
    # catalogue
    (
        "Validate requirements and scenarios; print every defect as file:line.",
        "Valider exigences et scénarios ; afficher chaque défaut en fichier:ligne.",
    ),
    ("List requirements (and scenarios).", "Lister les exigences (et les scénarios)."),
    ("Only this profile", "Seulement ce profil"),
    ("Show one requirement or scenario in full.", "Afficher une exigence ou un scénario en entier."),
    ("Requirement or scenario id", "Id d'exigence ou de scénario"),
    (
        "Print the JSON Schema of a requirements file or a scenario file, for editors.",
        "Afficher le schéma JSON d'un fichier d'exigences ou de scénario, pour les éditeurs.",
    ),
    ("requirements or scenario", "requirements ou scenario"),
    (
        "What a new catalogue release changes: requirements added, removed, reworded, renumbered, and other fields.\n"
        "With --grid, the catalogue OLD against an ANS grid export instead: approved rows carried, left out "
        "(and why),\n"
        "missing; official ids the grid only knows as obsolete. Exit 1 when an approved row is missing.",
        "Ce que change une nouvelle version du catalogue : exigences ajoutées, retirées, reformulées, renumérotées, et "
        "autres champs.\nAvec --grid, le catalogue OLD comparé à un export de la grille ANS : lignes approuvées "
        "portées, écartées (et pourquoi),\nmanquantes ; identifiants officiels que la grille ne connaît plus "
        "qu'obsolètes. Sortie 1 si une ligne approuvée manque.",
    ),
    ("Old catalogue (root folder or requirements/)", "Ancien catalogue (dossier racine ou requirements/)"),
    (
        "New catalogue (root folder or requirements/); none with --grid",
        "Nouveau catalogue (dossier racine ou requirements/) ; absent avec --grid",
    ),
    (
        "CSV export of ANS's grid (prepub_va2_avec_scenarios) to compare with",
        "Export CSV de la grille ANS (prepub_va2_avec_scenarios) à comparer",
    ),
    (
        "REM of the grid compared (LGC, BIO, RIS, DB, DPI, PFI)",
        "REM de la grille comparé (LGC, BIO, RIS, DB, DPI, PFI)",
    ),
    (
        "Per profile: how many requirements are automated, attested, documentary, or not yet covered.",
        "Par profil : combien d'exigences sont automatisées, attestées, documentaires, ou pas encore couvertes.",
    ),
    (
        "List the actions a scenario step may name: domain, who performs it, parameters with their allowed values.",
        "Lister les actions qu'une étape de scénario peut nommer : domaine, qui l'exécute, paramètres et leurs valeurs "
        "admises.",
    ),
    ("text | json", "text | json"),
    (
        "List the registered domains: requirement prefixes, channels, simulator ports.",
        "Lister les domaines enregistrés : préfixes d'exigences, canaux, ports des simulateurs.",
    ),
    # pki, packs
    (
        "Hand a vendor the bench CA (to trust the simulators) and a client certificate (to be trusted by them).",
        "Remettre à un éditeur l'AC du banc (pour faire confiance aux simulateurs) et un certificat client "
        "(pour qu'ils lui fassent confiance).",
    ),
    ("Folder where the CA and the client certificate are written", "Dossier où écrire l'AC et le certificat client"),
    ("Password of the PKCS#12 file", "Mot de passe du fichier PKCS#12"),
    (
        "Packs the bench finds: $SEGUR_BENCH_PACKS, then the per-user store.",
        "Les paquets que le banc trouve : $SEGUR_BENCH_PACKS, puis le magasin de l'utilisateur.",
    ),
    ("Copy a pack folder into the per-user store.", "Copier le dossier d'un paquet dans le magasin de l'utilisateur."),
    ("Folder of the pack (as ANS publishes it)", "Dossier du paquet (tel que publié par ANS)"),
    ("Name in the store", "Nom dans le magasin"),
    (
        "Download a release archive, check its digest and unpack it safely into the per-user store.",
        "Télécharger une archive de publication, vérifier son empreinte et la décompresser sans risque dans le magasin "
        "de l'utilisateur.",
    ),
    ("URL of a release archive (.zip, .tar.gz)", "URL d'une archive de publication (.zip, .tar.gz)"),
    ("Expected SHA-256 of the archive", "Empreinte SHA-256 attendue de l'archive"),
)
