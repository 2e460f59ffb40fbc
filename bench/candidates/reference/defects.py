"""Named defect switches of the reference candidate. Each makes it misbehave one way, so that tests can prove
that the check meant for that behaviour catches it, and that nothing else changes verdict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    flips: frozenset[str]  # the requirements it turns Non conforme
    # Those it leaves with nothing to judge (Non testé instead of Conforme): a cascade that is no fault of theirs.
    untestable: frozenset[str] = frozenset()
    # The profile whose campaign shows it: a defect in a document kind only that profile's software produces.
    profile: str = "medecin-ville"


DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect(
            "ins.qualify_without_insi",
            "Qualifie l'identité à partir de la carte Vitale et des traits saisis, sans appeler INSi",
            frozenset({"INS-001"}),
        ),
        Defect(
            "ins.skip_verify",
            "Déclare l'INS vérifiée sans interroger INSi (aucune recherche sur les traits détenus)",
            frozenset({"INS-002"}),
        ),
        Defect(
            "ins.keep_typed_traits",
            "Garde les traits saisis au lieu des traits renvoyés par INSi",
            frozenset({"INS-003"}),
        ),
        Defect(
            "ins.corsica_key",
            "Recalcule la clé du matricule sans la règle corse (2A/2B)",
            frozenset({"INS-003", "INS-006", "CDA-003"}),  # the wrong key also reaches the documents' recordTarget
        ),
        Defect(
            "ins.qualify_on_multiple",
            "Qualifie l'identité sur un retour INSi 02 (plusieurs identités)",
            frozenset({"INS-004"}),
        ),
        Defect(
            "ins.share_unqualified",
            "Transmet l'INS dans les documents alors que l'identité n'est que récupérée",
            frozenset({"INS-005"}),
        ),
        Defect(
            "ins.production_oid",
            "Émet l'OID de production du NIR/NIA avec des données de test",
            frozenset({"INS-006"}),
        ),
        Defect(
            "mss.attachment_not_xdm",
            "Joint le paquet XDM sous un autre nom (documents.zip, application/octet-stream) que IHE_XDM.ZIP",
            frozenset({"MSS-001"}),
        ),
        Defect(
            "mss.xdm_wrong_hash",
            "Déclare dans METADATA.XML une empreinte qui n'est pas celle du document",
            frozenset({"MSS-002"}),
        ),
        Defect(
            "mss.patient_mailbox_unqualified",
            "Écrit à la messagerie du patient avec une INS récupérée mais non qualifiée",
            frozenset({"MSS-003"}),
        ),
        Defect(
            "mss.no_auto_integration",
            "Relève les messages mais laisse chaque document reçu en attente de rapprochement manuel",
            frozenset({"MSS-004"}),
            # nothing is filed: no filing by type, no origin, no version history to judge
            untestable=frozenset({"MSS-042", "MSS-043", "MSS-045"}),
        ),
        Defect(
            "mss.file_unknown_silently",
            "Classe un document reçu pour un patient inconnu ou sans INS dans le premier dossier venu",
            frozenset({"MSS-005"}),
        ),
        Defect(
            "mss.accept_any_certificate",
            "Accepte le certificat de n'importe quel serveur MSSanté (aucune vérification)",
            frozenset({"MSS-006", "SEC-001"}),
        ),
        Defect(
            "mss.x_mss_ins_always_o",
            "Met X-MSS-INS: O sur tout message, même quand le document joint ne porte pas d'INS qualifiée",
            frozenset({"MSS-007"}),
        ),
        Defect("mss.no_x_mss_codecda", "N'ajoute pas l'en-tête X-MSS-CODECDA", frozenset({"MSS-008"})),
        Defect("mss.no_x_mss_nil", "N'ajoute pas l'en-tête X-MSS-NIL", frozenset({"MSS-009"})),
        Defect(
            "mss.no_insi_check_on_receipt",
            "Classe un document reçu sur la foi de son INS, sans la vérifier auprès d'INSi",
            frozenset({"MSS-010"}),
        ),
        Defect(
            "mss.integrate_duplicates",
            "Intègre une seconde fois un document reçu déjà intégré (même identifiant)",
            frozenset({"MSS-011"}),
        ),
        Defect("mss.latin1_body", "Encode le texte des messages en ISO-8859-1 au lieu d'UTF-8", frozenset({"MSS-012"})),
        Defect("mss.no_ack_request", "N'envoie aucune demande d'accusé (ni DSN, ni MDN)", frozenset({"MSS-046"})),
        Defect(
            "cda.schema_order",
            "Place le titre avant le code du document, contre le schéma CDA",
            frozenset({"CDA-001"}),
        ),
        Defect(
            "cda.no_timezone",
            "Date du document (effectiveTime) sans fuseau horaire",
            frozenset({"CDA-002"}),
        ),
        Defect(
            "cda.gender_without_system",
            "Sexe du patient (administrativeGenderCode) sans système de codage",
            frozenset({"CDA-003"}),
        ),
        Defect(
            "cda.author_without_national_id",
            "Auteur identifié par un identifiant local au lieu de son RPPS",
            frozenset({"CDA-004"}),
        ),
        Defect(
            "cda.body_not_pdf",
            "Corps déclaré application/pdf contenant une page HTML",
            frozenset({"CDA-005"}),
        ),
        Defect(
            "cda.vaccine_without_lot",
            "Note de vaccination structurée sans numéro de lot du vaccin (volet VAC-NOTE)",
            frozenset({"CDA-006"}),
        ),
        Defect(
            "cda.lab_result_unnamed",
            "Compte rendu de biologie dont le résultat est codé LOINC sans son libellé (volet CR-BIO 2024.01)",
            frozenset({"CDA-006"}),
            profile="biologie",
        ),
        Defect(
            "cda.imaging_without_conclusion",
            "Compte rendu d'imagerie sans la section de conclusion du radiologue (volet IMG-CR-IMG 2024.01)",
            frozenset({"CDA-006"}),
            profile="imagerie",
        ),
        Defect(
            "cda.discharge_without_treatments",
            "Lettre de liaison à la sortie sans la section des traitements de sortie (volet LDL-SES 2022.01)",
            frozenset({"CDA-006"}),
            profile="hopital",
        ),
        Defect(
            "dmp.imaging_references_missing",
            "Alimente le DMP d'un compte rendu d'imagerie sans ses identifiants de demande et d'examen "
            "(referenceIdList) ni sa modalité et sa région (eventCodeList)",
            frozenset({"DMP-037"}),
            profile="imagerie",
        ),
        Defect(
            "dmp.order_query_unselective",
            "Cherche les comptes rendus d'une demande d'imagerie en listant tous ceux du patient dans le DMP, sans "
            "sélectionner l'Order Placer Number de la demande",
            frozenset({"DMP-039"}),
            profile="imagerie",
        ),
        Defect(
            "cda.prescription_as_pdf",
            "Produit la prescription de médicaments en PDF (structuration minimale N1) au lieu du N3 eP-MED-DM",
            frozenset({"CDA-009"}),
        ),
        Defect(
            "ins.ignore_fault",
            "Ignore une faute ou une indisponibilité INSi et qualifie avec le numéro de la carte Vitale",
            frozenset({"INS-007"}),
        ),
        Defect(
            "dmp.no_access_test",
            "N'effectue pas le test d'existence et d'autorisation DMP (TD0.2) avant d'alimenter ou de consulter",
            # Without the access test, a missing authorisation is never set and diverging traits never seen, and the
            # access test does not resume once a patient lifts their opposition (DMP-024).
            frozenset({"DMP-001", "DMP-014", "DMP-024", "DMP-025"}),
            untestable=frozenset({"DMP-026"}),  # no access test, so no DMP state to compare the record with
        ),
        Defect(
            "mss.password_auth",
            "Ouvre la messagerie par le mot de passe de la boîte, sans le jeton Pro Santé Connect (XOAUTH2)",
            frozenset({"MSS-015", "MSS-018"}),  # a mailbox opened by password outlives the PSC session too
        ),
        Defect(
            "mss.no_sasl_ir",
            "Ouvre la boîte IMAP par AUTHENTICATE XOAUTH2 en attendant la relance du serveur, sans SASL-IR",
            frozenset({"MSS-017"}),
        ),
        Defect(
            "psc.no_acr_values",
            "Demande l'authentification Pro Santé Connect sans acr_values=eidas1",
            frozenset({"SEC-012"}),
        ),
        Defect(
            "psc.local_sign_out",
            "À la déconnexion, oublie les jetons sans mettre fin à la session Pro Santé Connect",
            frozenset({"SEC-002"}),
        ),
        Defect(
            "dmp.vihf_ignores_psc",
            "Connecté par PSC, appelle le DMP en mode INDIRECTE avec l'identité configurée, pas celle de PSC",
            frozenset({"DMP-035"}),
        ),
        Defect(
            "mss.ignores_psc_refusal",
            "Garde le jeton MSSanté d'une session Pro Santé Connect dont le rafraîchissement a été refusé",
            frozenset({"MSS-018"}),
        ),
        Defect(
            "psc.id_token_unchecked",
            "Accepte la connexion Pro Santé Connect sans vérifier le jeton d'identité (signature, audience)",
            frozenset({"SEC-002"}),
        ),
        Defect(
            "mss.no_x_mss_mes",
            "N'ajoute pas X-MSS-MES: FIN quand le professionnel ne souhaite pas de réponse du patient",
            frozenset({"MSS-021"}),
        ),
        Defect(
            "mss.subject_prefix_shown",
            "Affiche l'objet des messages XDM avec le préfixe XDM/1.0/DDM+",
            frozenset({"MSS-039"}),
        ),
        Defect(
            "mss.filed_without_type",
            "Intègre les documents reçus sans les classer par type (typeCode)",
            frozenset({"MSS-043"}),
        ),
        Defect(
            "mss.received_shown_as_own",
            "Montre les documents reçus par MSSanté dans le dossier comme des documents du cabinet",
            frozenset({"MSS-045"}),
        ),
        Defect(
            "mss.outage_freezes",
            "Après une erreur de connexion à la messagerie, n'appelle plus INSi ni le DMP (le logiciel reste bloqué)",
            frozenset({"MSS-016"}),
        ),
        Defect(
            "mss.no_read_receipt",
            "Ne renvoie pas d'accusé de lecture (MDN) quand un message lu en demande un",
            frozenset({"MSS-025"}),
        ),
        Defect(
            "mss.delivery_failure_hidden",
            "N'affiche pas les échecs de remise (DSN « failed ») reçus pour ses messages",
            frozenset({"MSS-029"}),
        ),
        Defect(
            "mss.ignores_size_limit",
            "Soumet le message sans tenir compte de la taille maximale annoncée par l'opérateur (SIZE)",
            frozenset({"MSS-024"}),
        ),
        Defect(
            "mss.reply_without_references",
            "Répond à un message reçu sans In-Reply-To ni References (la réponse n'est pas rattachée au fil)",
            frozenset({"MSS-023"}),
        ),
        Defect(
            "mss.ignores_opposition",
            "Envoie par messagerie les documents d'un patient qui s'y oppose",
            frozenset({"MSS-027"}),
        ),
        Defect(
            "gen.dashboard_not_reset",
            "Tableau de bord qui compte depuis le lancement du logiciel, pas depuis la remise à zéro du cabinet",
            frozenset({"GEN-003"}),
        ),
        Defect(
            "cda.recipients_unnamed",
            "Ne nomme pas dans le document les destinataires auxquels il est adressé",
            frozenset({"CDA-008"}),
        ),
        Defect(
            "mss.no_retry",
            "Abandonne un message que l'opérateur refuse temporairement (451) au lieu de le renvoyer",
            frozenset({"MSS-016"}),
        ),
        Defect(
            "cda.imports_dated_on_receipt",
            "Classe les documents intégrés du DMP ou reçus par MSSanté à leur date d'arrivée, pas à celle du CDA",
            frozenset({"CDA-013"}),
        ),
        Defect(
            "mss.new_version_beside_old",
            "Classe la nouvelle version d'un document reçu à côté de l'ancienne, sans la marquer remplacée",
            frozenset({"MSS-042"}),
        ),
        Defect(
            "dmp.integrate_everything",
            "Intègre tous les documents de la liste du DMP au lieu de ceux que l'utilisateur a choisis",
            frozenset({"DMP-032"}),
        ),
        Defect(
            "dmp.integrate_duplicates",
            "Retélécharge et intègre une seconde fois un document du DMP déjà intégré",
            frozenset({"DMP-032"}),
        ),
        Defect(
            "dmp.integrated_changes_ignored",
            "Ne vérifie jamais auprès du DMP si un document intégré y a été remplacé ou supprimé",
            frozenset({"DMP-034"}),
        ),
        Defect(
            "dmp.state_confused",
            "Montre un accès au DMP non autorisé comme une absence de DMP",
            frozenset({"DMP-026"}),
        ),
        Defect(
            "dmp.history_dated_today",
            "Date un document historique du jour de sa saisie au lieu de sa date métier",
            frozenset({"DMP-018"}),
        ),
        Defect(
            "dmp.delete_locally_only",
            "Retire le document de l'écran sans le supprimer du DMP (aucune transaction TD3.3c)",
            frozenset({"DMP-017"}),
        ),
        Defect(
            "dmp.search_without_criteria",
            "Recherche dans le DMP sans y porter le type de document demandé (filtre après coup)",
            frozenset({"DMP-031"}),
        ),
        Defect(
            "dmp.ignores_opposition",
            "Consulte le DMP (test d'accès, recherche) d'un patient opposé à l'accès à son DMP",
            frozenset({"DMP-024"}),
        ),
        Defect(
            "mss.any_cipher_suite",
            "Offre à l'opérateur MSSanté toutes les suites TLS de sa bibliothèque, pas seulement celles du référentiel",
            frozenset({"MSS-013"}),
        ),
        Defect(
            "dmp.ignore_traits_divergence",
            "Ignore les traits divergents que le DMP renvoie au test d'accès et alimente sans avertir",
            frozenset({"DMP-014"}),
        ),
        Defect(
            "dmp.no_authorisation_request",
            "Ne pose pas l'autorisation d'accès (TD0.3) quand le test d'accès n'en trouve aucune",
            frozenset({"DMP-025"}),
        ),
        Defect(
            "dmp.feed_on_user_request",
            "N'envoie un document au DMP que lorsque l'utilisateur agit dessus (bouton « envoyer au DMP »)",
            # Nor, then, a queued one when the DMP comes back (DMP-013), nor a historical one (DMP-018).
            frozenset({"DMP-002", "DMP-013", "DMP-018"}),
        ),
        Defect(
            "dmp.feed_vihf_unsigned",
            "Envoie les alimentations (ITI-41) avec un VIHF non signé",
            # The DMP refuses every feed: no document was sent, so none can be deleted (DMP-017's TD3.3c).
            frozenset({"DMP-003", "DMP-017"}),
        ),
        Defect(
            "dmp.metadata_without_class",
            "Omet le classCode des métadonnées XDS du document",
            frozenset({"DMP-004", "DMP-017"}),  # refused feeds: nothing sent to delete
        ),
        Defect(
            "dmp.wrong_hash",
            "Déclare un hash qui n'est pas celui du document",
            frozenset({"DMP-005", "DMP-017"}),  # refused feeds: nothing sent to delete
        ),
        Defect(
            "dmp.retry_storm",
            "Réessaie en boucle sur un refus du DMP (fermé, opposition) sans en informer l'utilisateur",
            frozenset({"DMP-006"}),
        ),
        Defect(
            "dmp.replace_without_rplc",
            "Envoie la nouvelle version d'un document sans association RPLC (doublon)",
            frozenset({"DMP-007"}),
        ),
        Defect("dmp.mask_ignored", "Ignore la demande de masquage aux professionnels", frozenset({"DMP-008"})),
        Defect(
            "dmp.consult_local_id",
            "Consulte le DMP avec l'identifiant local du dossier au lieu de l'INS",
            frozenset({"DMP-009", "DMP-011"}),  # the DMP finds nothing for that id: nothing is integrated either
        ),
        Defect(
            "dmp.always_break_glass",
            "Déclare le mode d'accès bris de glace à chaque consultation",
            frozenset({"DMP-010"}),
        ),
        Defect(
            "dmp.republish_integrated",
            "Renvoie au DMP, comme les siens, les documents qu'il y a récupérés",
            frozenset({"DMP-011"}),
        ),
        Defect(
            "dmp.no_deferred_feed",
            "Abandonne l'envoi d'un document quand le DMP est injoignable, sans le renvoyer à son retour",
            frozenset({"DMP-013"}),
        ),
        Defect(
            "dmp.no_server_verification",
            "Ne vérifie pas le certificat du serveur DMP",
            frozenset({"DMP-012", "SEC-001"}),
        ),
    )
}


def unknown_defects(names: list[str]) -> list[str]:
    return [name for name in names if name not in DEFECTS]
