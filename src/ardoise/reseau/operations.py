"""The ``ardoise reseau`` operations on a selection of switches (the CLI, the demo and the tests call these).

Each one runs through the worker pool (execution.py), records a run of genre ``reseau`` in the results store
(``commencer``/``enregistrer``/``terminer``) and journals every apply, rollback and confirmation
(``Magasin.journaliser``: who, when, device, diff, result).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from ardoise.erreurs import ErreurUsage
from ardoise.reseau import confirmation
from ardoise.reseau.application import (
    ErreurLecture,
    appliquer_un,
    lire_configuration,
    restaurer_un,
    sauvegarder_un,
)
from ardoise.reseau.connexion import Session
from ardoise.reseau.diff import comparer
from ardoise.reseau.execution import Contexte, executer
from ardoise.reseau.rendu import Cible
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.secrets import masquer


def _run(ctx: Contexte, genre_action: str, cibles: list[Cible], operation, selection: dict | None = None,
         travailleurs: int = 20) -> list[ResultatHote]:  # fmt: skip
    execution_id = None
    if ctx.magasin is not None:
        execution_id = ctx.magasin.commencer("reseau", {"action": genre_action, **(selection or {})})
    ctx.charger_secrets(cibles)
    resultats = executer(ctx, cibles, operation, travailleurs, execution_id)
    if ctx.magasin is not None:
        resume = {"action": genre_action, "total": len(resultats),
                  "echecs": sum(1 for r in resultats if r.echoue), "changes": sum(1 for r in resultats if r.change)}  # fmt: skip
        ctx.magasin.terminer(execution_id, "termine", resume)
    return resultats


def sauvegarder(
    ctx: Contexte, cibles: list[Cible], travailleurs: int = 20
) -> tuple[list[ResultatHote], str | None]:
    """Pull every running config into the store; ONE commit for the run (none if nothing changed)."""

    def une(c: Contexte, cible: Cible) -> ResultatHote:
        from ardoise.reseau.diff import masquer_config

        debut = time.monotonic()
        try:  # a read that fails or comes back cut short never replaces the previous backup
            texte = masquer_config(c.preparation(cible), lire_configuration(c, cible))
        except ErreurLecture as e:
            return ResultatHote(cible.nom, StatutHote.echec, etape="sauvegarde", raison=masquer(str(e)),
                                duree_s=time.monotonic() - debut)  # fmt: skip
        change = c.depot.ecrire(c.relatif(cible), texte)
        return ResultatHote(
            cible.nom, StatutHote.ok, change=change, raison="modifiée" if change else "inchangée"
        )

    resultats = _run(ctx, "sauvegarder", cibles, une, travailleurs=travailleurs)
    chemins = [ctx.relatif(c) for c, r in zip(cibles, resultats, strict=True) if r.change]
    ref = None
    if chemins:
        date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        ref = ctx.depot.valider(
            f"sauvegarde du {date} : {len(chemins)} configuration(s) modifiée(s)", chemins
        )
    return resultats, ref


def diff(ctx: Contexte, cibles: list[Cible]) -> list[ResultatHote]:
    """Per device: the remediation and its rollback, nothing sent."""

    def une(c: Contexte, cible: Cible) -> ResultatHote:
        with Session(c.acces(cible), c.delai, c.delai_lecture) as s:
            comp = comparer(c.preparation(cible), s.running(), c.voulue(cible))
        texte = "\n".join(comp.remediation)
        if comp.retour:
            texte += "\n--- retour arrière ---\n" + "\n".join(comp.retour)
        return ResultatHote(cible.nom, StatutHote.ok, change=False, diff=masquer(texte) if texte else None,
                            raison="conforme" if comp.conforme else f"{len(comp.remediation)} ligne(s) à envoyer",
                            details={"remediation": comp.remediation, "retour": comp.retour})  # fmt: skip

    return _run(ctx, "diff", cibles, une)


def conformite(ctx: Contexte, cibles: list[Cible]) -> list[ResultatHote]:
    """Drift report: compliant or not, and why (hier_config + the VLAN table parsed with ntc-templates)."""

    def une(c: Contexte, cible: Cible) -> ResultatHote:
        p = c.acces(cible).plateforme
        with Session(c.acces(cible), c.delai, c.delai_lecture) as s:
            courante = s.running()
            table = s.commande(p.show_vlans, textfsm=True)
        comp = comparer(c.preparation(cible), courante, c.voulue(cible))
        verifs = []
        if isinstance(table, list):
            vus = {int(v[p.vlans_textfsm["id"]]): v[p.vlans_textfsm["nom"]] for v in table}
            voulus = {v.id: v.nom for v in cible.ecole.modele.vlans}
            for vid, nom in sorted(voulus.items()):
                if vid not in vus:
                    verifs.append(
                        Verification(
                            "vlan",
                            f"VLAN {vid}",
                            Niveau.CRITIQUE,
                            f"VLAN {vid} ({nom}) absent de l'équipement",
                        )
                    )
                elif vus[vid] != nom:
                    verifs.append(Verification("vlan", f"VLAN {vid}", Niveau.ATTENTION,
                                               f"VLAN {vid} nommé « {vus[vid]} » au lieu de « {nom} »"))  # fmt: skip
            for vid in sorted(set(vus) - set(voulus) - {1, 1002, 1003, 1004, 1005}):
                verifs.append(Verification("vlan", f"VLAN {vid}", Niveau.ATTENTION,
                                           f"VLAN {vid} ({vus[vid]}) présent mais absent du manifeste"))  # fmt: skip
        for e in comp.ecarts:
            if not e["chemin"].startswith("vlan "):
                quoi = (
                    "manquant sur l'équipement" if e["nature"] == "manquant" else "en trop sur l'équipement"
                )
                verifs.append(
                    Verification("config", e["chemin"], Niveau.ATTENTION, f"{e['chemin']} : {quoi}")
                )
        return ResultatHote(cible.nom, StatutHote.ok, change=False, verifications=verifs,
                            raison="conforme" if comp.conforme else f"non conforme : {len(verifs)} écart(s)",
                            diff=masquer("\n".join(comp.remediation)) or None,
                            details={"conforme": comp.conforme, "ecarts": comp.ecarts})  # fmt: skip

    return _run(ctx, "conformite", cibles, une)


def appliquer(ctx: Contexte, cibles: list[Cible], essai: bool = False, confirmer_dans: float | None = None,
              qui: str | None = None, dossier_attente: Path | None = None) -> list[ResultatHote]:  # fmt: skip
    """Safe apply on every switch; with ``confirmer_dans`` (seconds) the change waits for ``confirmer``."""
    dossier = dossier_attente or confirmation.dossier_par_defaut()
    deja = {e["nom"] for e in confirmation.en_attente(dossier)}
    bloques = [c.nom for c in cibles if c.nom in deja]
    if bloques and not essai:
        raise ErreurUsage(f"changement en attente de confirmation sur {', '.join(bloques)} : "
                          "« ardoise reseau confirmer » ou attendez le retour arrière")  # fmt: skip

    minuteur = threading.Lock()
    minuteur_lance = False

    def une(c: Contexte, cible: Cible) -> ResultatHote:
        nonlocal minuteur_lance
        r = appliquer_un(c, cible, essai=essai, en_attente=confirmer_dans is not None)
        if not essai and r.change and confirmer_dans is not None:
            confirmation.ecrire_attente(dossier, {
                "nom": cible.nom, "uai": cible.ecole.uai, "commune": cible.ecole.commune,
                "echeance": time.time() + confirmer_dans, "sauvegarde": r.details["sauvegarde"],
                "relatif": c.relatif(cible), "perimetre": c.perimetre.value, "inventaire": str(c.territoire.racine),
                "depot": str(c.depot.dossier), "acces": str(c.fichier_acces) if c.fichier_acces else None,
                "magasin": getattr(c.magasin, "url", None), "qui": qui, "delai": c.delai,
                "delai_lecture": c.delai_lecture,
            })  # fmt: skip
            r.details["echeance"] = datetime.fromtimestamp(time.time() + confirmer_dans, UTC).isoformat()
            with minuteur:  # the timer runs from the first pending change, not after the whole run
                if not minuteur_lance:
                    confirmation.demarrer_minuteur(dossier)
                    minuteur_lance = True
        if not essai and c.magasin is not None and (r.change or r.echoue):
            action = "reseau.application" if not r.details.get("retour_arriere") else "reseau.retour_arriere"
            c.magasin.journaliser(action, "ok" if not r.echoue else "echec", cible=cible.nom,
                                  commune=cible.ecole.commune, qui=qui,
                                  details={"uai": cible.ecole.uai, "diff": r.diff, "etape": r.etape,
                                           "raison": r.raison, "sauvegarde": r.details.get("sauvegarde"),
                                           "en_attente": confirmer_dans is not None})  # fmt: skip
        return r

    resultats = _run(ctx, "essai" if essai else "appliquer", cibles, une)
    if confirmer_dans is not None and any(r.change for r in resultats):
        confirmation.demarrer_minuteur(dossier)
    return resultats


def confirmer(ctx: Contexte, cibles: list[Cible], qui: str | None = None,
              dossier_attente: Path | None = None) -> list[ResultatHote]:  # fmt: skip
    """Keep the pending changes of the selection: save them on the device, stop their timer."""
    dossier = dossier_attente or confirmation.dossier_par_defaut()
    attente = {e["nom"] for e in confirmation.en_attente(dossier)}
    cibles = [c for c in cibles if c.nom in attente]
    if not cibles:
        raise ErreurUsage("aucun changement en attente de confirmation pour cette sélection")

    def une(c: Contexte, cible: Cible) -> ResultatHote:
        etat = confirmation.prendre(dossier, cible.nom)
        if etat is None:
            return ResultatHote(cible.nom, StatutHote.echec, etape="confirmation",
                                raison="trop tard : le délai était écoulé, le retour arrière est en cours ou a eu lieu")  # fmt: skip
        raison = "confirmé et enregistré"
        try:
            with Session(c.acces(cible), c.delai, c.delai_lecture) as s:
                s.sauver()
        except Exception as e:  # the change stays (confirmed), only the save failed
            raison = f"confirmé, mais enregistrement impossible ({masquer(str(e))}) : relancez « appliquer »"
        if c.magasin is not None:
            c.magasin.journaliser("reseau.confirmation", "ok", cible=cible.nom, commune=cible.ecole.commune, qui=qui,
                                  details={"uai": cible.ecole.uai, "sauvegarde": etat.get("sauvegarde"), "raison": raison})  # fmt: skip
        return ResultatHote(cible.nom, StatutHote.ok, change=False, raison=raison)

    return _run(ctx, "confirmer", cibles, une)


def restaurer(
    ctx: Contexte, cible: Cible, version: str | None = None, qui: str | None = None
) -> ResultatHote:
    def une(c: Contexte, x: Cible) -> ResultatHote:
        r = restaurer_un(c, x, version)
        if c.magasin is not None:
            c.magasin.journaliser("reseau.restauration", "ok" if not r.echoue else "echec", cible=x.nom,
                                  commune=x.ecole.commune, qui=qui,
                                  details={"uai": x.ecole.uai, "version": version, "diff": r.diff, "raison": r.raison})  # fmt: skip
        return r

    return _run(ctx, "restaurer", [cible], une)[0]


__all__ = ["appliquer", "confirmer", "conformite", "diff", "restaurer", "sauvegarder", "sauvegarder_un"]
