"""``ardoise profils lister|resoudre``."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from ardoise.cli.commun import (
    Format,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console,
    format_effectif,
    territoire,
)
from ardoise.profils.resolution import chaine, types_profil
from ardoise.profils.resolution import resoudre as resoudre_profil

app = typer.Typer(help="Les profils de terminaux et le catalogue d'applications.", no_args_is_help=True)


@app.command("lister")
@commande
def lister(
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Liste les profils : héritage, types d'appareils, applications propres, nombre d'appareils."""
    t = territoire(inventaire)
    usage = Counter(p.profil for e in t.ecoles for p in e.modele.postes)
    lignes = [
        {
            "profil": nom,
            "nom": p.nom,
            "herite_de": p.herite_de,
            "chaine": " > ".join(chaine(t.profils, nom)),
            "types": types_profil(t.profils, nom),
            "applications": p.applications,
            "retirer": p.retirer,
            "appareils": usage.get(nom, 0),
        }
        for nom, p in sorted(t.profils.items())
    ]
    afficher(
        lignes, format, ["profil", "nom", "chaine", "types", "applications", "appareils"], titre="Profils"
    )


@app.command("resoudre")
@commande
def resoudre(
    poste: Annotated[str, typer.Argument(help="Nom d'hôte du poste.")],
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Le profil effectif d'un appareil, avec l'origine de chaque application et de chaque réglage."""
    t = territoire(inventaire)
    pe = resoudre_profil(t, poste)
    fmt = format_effectif(format)
    if fmt is Format.json:
        afficher([], fmt, donnees_json=pe.en_dict())
        return
    lignes = [
        {
            "genre": "application",
            "nom": a.id,
            "valeur": a.installation or "(pas pour ce système)",
            "origine": a.source,
        }
        for a in pe.applications
    ]
    lignes += [
        {"genre": "réglage", "nom": k, "valeur": v, "origine": s} for k, (v, s) in pe.parametres.items()
    ]
    if fmt is Format.table:
        console.print(f"[bold]{pe.poste}[/bold] : profil {pe.profil} ({' > '.join(pe.chaine)})")
    afficher(lignes, fmt, ["genre", "nom", "valeur", "origine"])
