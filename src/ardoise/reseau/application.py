"""Safe apply, written once for every platform (a NAPALM-like lifecycle).

For one switch:

1. ``sauvegarde``: read the running config, commit it (redacted) in the backup store, before anything else;
2. ``calcul``: hier_config remediation toward the intended config, shown; ``essai`` stops here;
3. ``envoi``: push with netmiko (device errors raise at once);
4. ``verification``: read the running config again; the diff toward the intended config must be empty;
5. any failure in 3-4 (push refused, session dropped, post-check not empty): ``retour_arriere`` to the backup,
   naming the device, the step and the reason;
6. ``enregistrement``: ``write memory``, unless the change waits for ``reseau confirmer`` (confirmation.py).

:func:`retour_arriere` is also what ``restaurer`` and the confirmation timer use: it pushes the hier_config
remediation from the current running config toward a saved one, then checks the result.
"""

from __future__ import annotations

import re
import time

from ardoise.erreurs import ArdoiseErreur, ErreurApplication, ErreurAuthentification, ErreurConnexion
from ardoise.reseau.connexion import Session
from ardoise.reseau.diff import Comparaison, comparer, lignes_a_pousser, masquer_config
from ardoise.reseau.execution import Contexte
from ardoise.reseau.rendu import Cible
from ardoise.resultats.forme import ResultatHote, StatutHote
from ardoise.secrets import MASQUE, masquer


def _diff_texte(comp: Comparaison) -> str:
    texte = "\n".join(comp.remediation)
    if comp.retour:
        texte += "\n--- retour arrière ---\n" + "\n".join(comp.retour)
    return masquer(texte)


# a backup read is tried this many times (the first read + 3 retries, a new session each time) before the
# device is reported; a refused login is never retried (it would not help, and switches lock accounts)
TENTATIVES_LECTURE = 4
PAUSE_ENTRE_TENTATIVES = 1.0


class ErreurLecture(ErreurConnexion):
    """The running configuration could not be read whole (timeout, session dropped, answer cut short)."""


def verifier_lecture(session: Session, texte: str) -> str:
    """``texte`` if it is a whole running config of the platform; else :class:`ErreurLecture`.

    An empty answer, or one missing a line every complete configuration holds (``hostname``; ``end`` on
    IOS), is a read cut short: it must never become a backup nor the base of a remediation.
    """
    p = session.acces.plateforme
    manquants = [m for m in p.marqueurs_running if not re.search(m, texte or "", re.MULTILINE)]
    if not (texte or "").strip() or manquants:
        taille = len((texte or "").splitlines())
        raise ErreurLecture(
            f"{session.acces.nom} : configuration lue incomplète ({taille} ligne(s), "
            + (
                "réponse vide"
                if not (texte or "").strip()
                else f"ligne « {_lisible(manquants[-1])} » absente"
            )
            + ")"
        )
    return texte


def _lisible(motif: str) -> str:
    """``^end\\s*$`` -> ``end``: a marker regex as the line a user would look for."""
    return re.sub(r"\\s[*+]?|[\^$]", "", motif).strip()


def lire_configuration(ctx: Contexte, cible: Cible, tentatives: int = TENTATIVES_LECTURE) -> str:
    """The whole running config, read through a new session per attempt; raises after ``tentatives``."""
    raisons: list[str] = []
    for numero in range(1, tentatives + 1):
        try:
            with Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture) as session:
                return verifier_lecture(session, session.running())
        except ErreurAuthentification:
            raise  # never retried: the vault or the device must be fixed first
        except ErreurConnexion as e:
            raisons.append(str(e).removeprefix(f"{cible.nom} : "))
            if numero < tentatives:
                time.sleep(PAUSE_ENTRE_TENTATIVES)
    raise ErreurLecture(
        f"{cible.nom} : configuration illisible après {tentatives} tentatives "
        f"(dernière : {raisons[-1]}) ; la sauvegarde précédente est conservée, vérifiez l'équipement "
        "et relancez « ardoise reseau sauvegarder »"
    )


def sauvegarder_un(ctx: Contexte, cible: Cible, session: Session, message: str) -> tuple[str, str]:
    """Read the running config (whole, or :class:`ErreurLecture`) and commit it now; (redacted text, commit)."""
    courante = verifier_lecture(session, session.running())
    texte = masquer_config(ctx.preparation(cible), courante)
    ref = ctx.depot.sauvegarder(ctx.relatif(cible), texte, message)
    return texte, ref


def appliquer_un(
    ctx: Contexte, cible: Cible, essai: bool = False, en_attente: bool = False, voulue: str | None = None,
    voulue_claire: str | None = None, motif: str = "application",
) -> ResultatHote:  # fmt: skip
    """The lifecycle above on one switch; ``voulue`` defaults to the manifest's rendering."""
    debut = time.monotonic()
    prep = ctx.preparation(cible)
    voulue = voulue if voulue is not None else ctx.voulue(cible)
    etape = "connexion"
    session = Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture)
    with session:
        etape = "sauvegarde"
        sauvegarde, ref = sauvegarder_un(ctx, cible, session, f"{cible.nom} : avant {motif}")
        etape = "calcul"
        comp = comparer(prep, sauvegarde, voulue)
        details = {"sauvegarde": ref[:12], "remediation": comp.remediation, "retour": comp.retour,
                   "ecarts": comp.ecarts}  # fmt: skip
        if comp.conforme:
            return ResultatHote(cible.nom, StatutHote.ok, change=False, raison="conforme : rien à envoyer",
                                duree_s=time.monotonic() - debut, details=details)  # fmt: skip
        if essai:
            return ResultatHote(cible.nom, StatutHote.ok, change=False, diff=_diff_texte(comp),
                                raison=f"essai : {len(comp.remediation)} ligne(s) à envoyer",
                                duree_s=time.monotonic() - debut, details=details)  # fmt: skip
        secrets_clairs = prep.secrets_clairs(
            voulue_claire if voulue_claire is not None else ctx.voulue(cible, True)
        )
        lignes = [
            ligne for ligne in comp.remediation if MASQUE not in ligne or ligne.strip() in secrets_clairs
        ]
        try:
            etape = "envoi"
            session.pousser(lignes_a_pousser(lignes, secrets_clairs))
            etape = "verification"
            apres = comparer(prep, session.running(), voulue)
            if not apres.conforme:
                raise ErreurApplication(
                    f"la configuration relue diffère encore ({len(apres.remediation)} ligne(s), "
                    f"ex. « {masquer(apres.remediation[0].strip())} »)"
                )
            if not en_attente:
                etape = "enregistrement"
                session.sauver()
        except ArdoiseErreur as e:
            raison = f"{cible.nom} : échec à l'étape « {etape} » : {e}"
            session.fermer()
            retour = retour_arriere(ctx, cible, sauvegarde, ref, motif=f"échec de {motif}")
            details["retour_arriere"] = retour.details.get("retour_arriere", {})
            bilan = "retour arrière effectué, état sauvegardé rétabli" if retour.statut is StatutHote.ok else (
                f"RETOUR ARRIÈRE IMPOSSIBLE ({retour.raison}) : intervention requise")  # fmt: skip
            return ResultatHote(cible.nom, StatutHote.echec, change=False, etape=etape,
                                raison=masquer(f"{raison} ; {bilan}"), diff=_diff_texte(comp),
                                duree_s=time.monotonic() - debut, details=details)  # fmt: skip
    return ResultatHote(cible.nom, StatutHote.ok, change=True, diff=_diff_texte(comp),
                        raison=("appliqué, en attente de confirmation" if en_attente else "appliqué et enregistré"),
                        duree_s=time.monotonic() - debut, details=details)  # fmt: skip


TENTATIVES_RETOUR = 3  # a rollback cut by a transient fault (session dropped, timeout) starts over


def retour_arriere(
    ctx: Contexte,
    cible: Cible,
    sauvegarde: str,
    ref: str,
    motif: str = "retour arrière",
    enregistrer: bool = False,
    tentatives: int = TENTATIVES_RETOUR,
) -> ResultatHote:
    """Bring the switch back to ``sauvegarde`` (a redacted backup); checks the result; never raises.

    Each attempt starts from the running config read again, so an attempt cut midway is simply resumed;
    a refused login is not retried.
    """
    debut = time.monotonic()
    prep = ctx.preparation(cible)
    lignes: list[str] = []
    ignorees = 0
    raisons: list[str] = []
    for numero in range(1, tentatives + 1):
        etape = "connexion"
        try:
            with Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture) as session:
                # up to three passes: a platform may need an object before a reference to it (ProCurve:
                # the VLAN before the port joins it), which hier_config's order does not always give
                for _passe in range(3):
                    etape = "calcul"
                    comp = comparer(prep, verifier_lecture(session, session.running()), sauvegarde)
                    # secret lines cannot come back from a redacted backup: they are left as they are
                    a_envoyer = [ligne for ligne in comp.remediation if MASQUE not in ligne]
                    ignorees = len(comp.remediation) - len(a_envoyer)
                    if not a_envoyer:
                        break
                    etape = "envoi"
                    session.pousser(a_envoyer)
                    lignes += a_envoyer
                etape = "verification"
                reste = [
                    ligne
                    for ligne in comparer(
                        prep, verifier_lecture(session, session.running()), sauvegarde
                    ).remediation
                    if MASQUE not in ligne
                ]
                if reste:
                    raise ErreurApplication(f"{len(reste)} ligne(s) diffèrent encore de la sauvegarde")
                if enregistrer:
                    etape = "enregistrement"
                    session.sauver()
            break
        except ArdoiseErreur as e:
            raisons.append(f"{etape} : {e}")
            if isinstance(e, ErreurAuthentification) or numero == tentatives:
                essais = f" ({numero} tentative(s))" if numero > 1 else ""
                return ResultatHote(cible.nom, StatutHote.echec, etape=f"retour arrière : {etape}",
                                    raison=masquer(f"{cible.nom} : {e}{essais}"), duree_s=time.monotonic() - debut,
                                    details={"retour_arriere": {"version": ref[:12], "reussi": False,
                                                                "tentatives": raisons}})  # fmt: skip
            time.sleep(PAUSE_ENTRE_TENTATIVES)
    details = {"retour_arriere": {"version": ref[:12], "reussi": True, "lignes": lignes,
                                  "lignes_secretes_laissees": ignorees, "tentatives": len(raisons) + 1}}  # fmt: skip
    return ResultatHote(cible.nom, StatutHote.ok, change=bool(lignes), diff=masquer("\n".join(lignes)),
                        raison=f"{motif} : revenu à la version {ref[:12]}", duree_s=time.monotonic() - debut,
                        details=details)  # fmt: skip


def restaurer_un(ctx: Contexte, cible: Cible, version: str | None = None) -> ResultatHote:
    """Back to a saved version (default: the newest backup), after backing up the current state."""
    relatif = ctx.relatif(cible)
    ref = ctx.depot.derniere_version(relatif) if version is None else version
    texte = ctx.depot.lire(relatif, ref)
    with Session(ctx.acces(cible), ctx.delai, ctx.delai_lecture) as session:
        sauvegarder_un(ctx, cible, session, f"{cible.nom} : avant restauration de {ref[:12]}")
    r = retour_arriere(ctx, cible, texte, ref, motif="restauration", enregistrer=True)
    return r
