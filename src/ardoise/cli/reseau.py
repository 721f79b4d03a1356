"""``ardoise reseau generer|sauvegarder|diff|appliquer|confirmer|restaurer|conformite``."""

from __future__ import annotations

import getpass
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    CODE_PROBLEMES,
    Format,
    OptCommune,
    OptEcole,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console_err,
    format_effectif,
    territoire,
)
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.selection import Selection
from ardoise.resultats.forme import ResultatHote

app = typer.Typer(
    help="Le réseau des écoles : configurations des commutateurs depuis le manifeste, diff, sauvegarde, "
    "application sûre et retour arrière.",
    no_args_is_help=True,
)

OptEquipement = Annotated[list[str] | None, typer.Option("--equipement", help="Commutateur (nom d'hôte).")]
OptPerimetre = Annotated[
    str,
    typer.Option(
        "--perimetre",
        help="complet (toute la configuration générée) ou commutation (nom, VLAN et ports seulement : "
        "ce que les émulateurs du labo savent faire).",
    ),
]
OptAcces = Annotated[
    Path | None,
    typer.Option(
        "--acces",
        envvar="ARDOISE_RESEAU_ACCES",
        help="Fichier JSON d'adresses de connexion de remplacement {nom: {adresse, port}} (tunnel, labo).",
        show_default=False,
    ),
]
OptTravailleurs = Annotated[
    int, typer.Option("--paralleles", min=1, max=100, help="Équipements traités en même temps.")
]


def _contexte(inventaire, perimetre: str, acces, magasin: bool = True):
    from ardoise.reseau import confirmation
    from ardoise.reseau.execution import Contexte
    from ardoise.reseau.plateformes import Perimetre
    from ardoise.reseau.sauvegarde import Depot

    try:
        p = Perimetre(perimetre)
    except ValueError:
        raise ErreurUsage(f"périmètre « {perimetre} » inconnu : complet ou commutation") from None
    confirmation.relancer_si_besoin()
    m = None
    if magasin:
        from ardoise.resultats.magasin import Magasin

        m = Magasin()
    return Contexte(
        territoire(inventaire), p, Depot(), m, fichier_acces=acces,
        progression=lambda texte: console_err.print(texte, highlight=False, markup=False),
    )  # fmt: skip


def _cibles(ctx, commune, ecole, equipement):
    from ardoise.reseau.rendu import cibles

    sel = Selection(tuple(commune or ()), tuple(ecole or ()), noms=tuple(equipement or ())).verifier(
        ctx.territoire
    )
    liste = list(cibles(ctx.territoire, sel, tuple(equipement or ())))
    if not liste:
        raise ErreurUsage("aucun commutateur en service dans cette sélection")
    return liste


def _bilan(resultats: list[ResultatHote], fmt: Format | None, titre: str, diff: bool = False) -> None:
    lignes = [
        {"equipement": r.hote, "statut": r.statut.value, "change": "oui" if r.change else "non",
         "etape": r.etape or "", "detail": r.raison or "", "duree_s": round(r.duree_s, 1)}
        for r in resultats
    ]  # fmt: skip
    if format_effectif(fmt) is Format.table and diff:
        for r in resultats:
            if r.diff:
                sys.stdout.write(f"=== {r.hote}\n{r.diff}\n")
    donnees = [
        {**ligne, "diff": r.diff, "verifications": [v.message for v in r.verifications], "details": r.details}
        for ligne, r in zip(lignes, resultats, strict=True)
    ]
    afficher(lignes, fmt, ["equipement", "statut", "change", "etape", "detail", "duree_s"], titre=titre,
             donnees_json=donnees)  # fmt: skip
    if any(r.echoue for r in resultats):
        raise typer.Exit(CODE_PROBLEMES)


def _duree(texte: str) -> float:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*", texte)
    if not m:
        raise ErreurUsage(f"durée « {texte} » invalide : par exemple 30s, 5m, 1h")
    return float(m.group(1)) * {"s": 1, None: 1, "m": 60, "min": 60, "h": 3600}[m.group(2)]


@app.command("generer")
@commande
def generer(
    commune: OptCommune = None,
    ecole: OptEcole = None,
    equipement: OptEquipement = None,
    sortie: Annotated[
        Path | None, typer.Option("--sortie", help="Dossier : un fichier par équipement.")
    ] = None,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Configurations voulues, depuis le manifeste (secrets masqués)."""
    from ardoise.reseau.rendu import cibles, rendre

    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ()), noms=tuple(equipement or ())).verifier(t)
    liste = list(cibles(t, sel, tuple(equipement or ()), tous_etats=True))
    if not liste:
        raise ErreurUsage("aucun commutateur dans cette sélection")
    for c in liste:
        texte = rendre(c.ecole, c.commutateur)
        if sortie:
            sortie.mkdir(parents=True, exist_ok=True)
            (sortie / f"{c.nom}.cfg").write_text(texte, encoding="utf-8")
        else:
            sys.stdout.write(f"=== {c.nom} ({c.commutateur.plateforme.value})\n{texte}")
    if sortie:
        console_err.print(f"{len(liste)} configuration(s) écrite(s) dans {sortie}", highlight=False)


@app.command("sauvegarder")
@commande
def sauvegarder(
    commune: OptCommune = None, ecole: OptEcole = None, equipement: OptEquipement = None,
    perimetre: OptPerimetre = "complet", acces: OptAcces = None, paralleles: OptTravailleurs = 20,
    inventaire: OptInventaire = None, format: OptFormat = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Copie les configurations en cours dans le dépôt git des sauvegardes (un commit par passage)."""
    from ardoise.reseau import operations

    ctx = _contexte(inventaire, perimetre, acces)
    resultats, ref = operations.sauvegarder(ctx, _cibles(ctx, commune, ecole, equipement), paralleles)
    console_err.print(f"sauvegardes : {'commit ' + ref[:12] if ref else 'rien de nouveau, aucun commit'} ({ctx.depot.dossier})",
                      highlight=False)  # fmt: skip
    _bilan(resultats, format, "Sauvegardes")


@app.command("diff")
@commande
def diff(
    commune: OptCommune = None, ecole: OptEcole = None, equipement: OptEquipement = None,
    perimetre: OptPerimetre = "complet", acces: OptAcces = None, inventaire: OptInventaire = None,
    format: OptFormat = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Par équipement : les commandes à envoyer et leur retour arrière (rien n'est envoyé)."""
    from ardoise.reseau import operations

    ctx = _contexte(inventaire, perimetre, acces)
    _bilan(operations.diff(ctx, _cibles(ctx, commune, ecole, equipement)), format, "Différences", diff=True)


@app.command("conformite")
@commande
def conformite(
    commune: OptCommune = None, ecole: OptEcole = None, equipement: OptEquipement = None,
    perimetre: OptPerimetre = "complet", acces: OptAcces = None, inventaire: OptInventaire = None,
    format: OptFormat = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Écarts entre les équipements et le manifeste : conforme ou non, et pourquoi."""
    from ardoise.reseau import operations

    ctx = _contexte(inventaire, perimetre, acces)
    resultats = operations.conformite(ctx, _cibles(ctx, commune, ecole, equipement))
    if format_effectif(format) is Format.table:
        for r in resultats:
            for v in r.verifications:
                sys.stdout.write(f"{r.hote} : {v.niveau.value} : {v.message}\n")
    _bilan(resultats, format, "Conformité")
    if any(not r.details.get("conforme", True) for r in resultats):
        raise typer.Exit(CODE_PROBLEMES)


@app.command("appliquer")
@commande
def appliquer(
    commune: OptCommune = None, ecole: OptEcole = None, equipement: OptEquipement = None,
    essai: Annotated[bool, typer.Option("--essai", help="Montre ce qui serait envoyé, n'envoie rien.")] = False,
    confirmer_dans: Annotated[str | None, typer.Option("--confirmer-dans", help="Retour arrière automatique sans « reseau confirmer » dans ce délai (ex. 5m).")] = None,
    perimetre: OptPerimetre = "complet", acces: OptAcces = None, paralleles: OptTravailleurs = 20,
    inventaire: OptInventaire = None, format: OptFormat = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Application sûre : sauvegarde, calcul, envoi, relecture ; retour arrière automatique en cas d'échec."""
    from ardoise.reseau import operations

    delai = _duree(confirmer_dans) if confirmer_dans else None
    ctx = _contexte(inventaire, perimetre, acces)
    resultats = operations.appliquer(ctx, _cibles(ctx, commune, ecole, equipement), essai=essai,
                                     confirmer_dans=delai, qui=getpass.getuser())  # fmt: skip
    if delai and any(r.change for r in resultats):
        console_err.print(f"changements en attente : « ardoise reseau confirmer » avant {confirmer_dans}, "
                          "sinon retour arrière automatique", highlight=False)  # fmt: skip
    _bilan(resultats, format, "Application", diff=True)


@app.command("confirmer")
@commande
def confirmer(
    commune: OptCommune = None, ecole: OptEcole = None, equipement: OptEquipement = None,
    acces: OptAcces = None, inventaire: OptInventaire = None, format: OptFormat = None,
    verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Confirme les changements en attente (ils sont enregistrés ; le retour arrière est annulé)."""
    from ardoise.reseau import operations

    ctx = _contexte(inventaire, "complet", acces)
    resultats = operations.confirmer(ctx, _cibles(ctx, commune, ecole, equipement), qui=getpass.getuser())
    _bilan(resultats, format, "Confirmation")


@app.command("restaurer")
@commande
def restaurer(
    equipement: Annotated[str, typer.Option("--equipement", help="Commutateur (nom d'hôte).")],
    version: Annotated[str | None, typer.Option("--version", help="Version (commit) ; défaut : la dernière.")] = None,
    perimetre: OptPerimetre = "complet", acces: OptAcces = None, inventaire: OptInventaire = None,
    format: OptFormat = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Ramène un commutateur à une configuration sauvegardée (après avoir sauvegardé l'état actuel)."""
    from ardoise.reseau import operations

    ctx = _contexte(inventaire, perimetre, acces)
    cible = _cibles(ctx, None, None, [equipement])[0]
    _bilan(
        [operations.restaurer(ctx, cible, version, qui=getpass.getuser())], format, "Restauration", diff=True
    )


@app.command("historique")
@commande
def historique(
    equipement: Annotated[str, typer.Option("--equipement", help="Commutateur (nom d'hôte).")],
    inventaire: OptInventaire = None, format: OptFormat = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Les versions sauvegardées d'un commutateur (pour « restaurer --version »)."""
    from ardoise.reseau.sauvegarde import Depot

    t = territoire(inventaire)
    cible = _cibles(type("C", (), {"territoire": t})(), None, None, [equipement])[0]
    afficher(Depot().historique(Depot.chemin_relatif(cible.ecole.commune, cible.ecole.uai, cible.nom)), format,
             ["version", "date", "message"], titre=f"Sauvegardes de {equipement}")  # fmt: skip
