"""INS actions: identity document check (RNIV), INS search through INSi, verification of a held INS."""

from __future__ import annotations

from typing import Literal

from bench.actions.registry import ActionContext, NoParams, Params, action


class IdentityDocumentParams(Params):
    # RNIV: the high-trust identity documents that allow an identity to be validated.
    document: Literal["carte nationale d'identité", "passeport", "titre de séjour"] = "carte nationale d'identité"


class SearchParams(Params):
    method: Literal["traits", "vitale"] = "traits"  # INSi search by traits, or from the Vitale card


@action(
    "record_identity_document",
    domain="ins",
    description="Enregistrer le contrôle d'une pièce d'identité à haut niveau de confiance (RNIV)",
    params=IdentityDocumentParams,
)
def record_identity_document(context: ActionContext, params: IdentityDocumentParams) -> None:
    context.adapter.record_identity_document(context.require_patient().fixture.ref, params.document)


@action(
    "search_ins",
    domain="ins",
    description="Rechercher l'INS du patient par le téléservice INSi",
    params=SearchParams,
    causes=("insi.search_traits", "insi.search_vitale"),
)
def search_ins(context: ActionContext, params: SearchParams) -> None:
    context.adapter.search_ins(context.require_patient().fixture.ref, params.method)


@action(
    "verify_ins",
    domain="ins",
    description="Vérifier l'INS détenue par le téléservice INSi (recherche sur les traits de l'identité détenue)",
    causes=("insi.search_traits",),
)
def verify_ins(context: ActionContext, params: NoParams) -> None:
    context.adapter.verify_ins(context.require_patient().fixture.ref)
