"""``ardoise labo demarrer|etat|arreter``: the virtual school (needs root)."""

from __future__ import annotations

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
    console_err,
    format_effectif,
    territoire,
)

app = typer.Typer(
    help="Le labo : une école virtuelle faite de vrais hôtes (root requis).", no_args_is_help=True
)


def _progression(silencieux: bool):
    def prog(message: str) -> None:
        if not silencieux:
            console_err.print(f"[dim]labo[/dim] {message}", highlight=False)

    return prog


@app.command("demarrer")
@commande
def demarrer(
    ecole: Annotated[
        str | None, typer.Option("--ecole", help="UAI de l'école (défaut : la première du manifeste).")
    ] = None,
    postes: Annotated[int, typer.Option("--postes", min=0, help="Nombre de PC Linux à démarrer.")] = 3,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Construit l'école depuis son manifeste : VLAN, serveur (DHCP, DNS, proxy filtrant), internet, PC, commutateurs."""
    from ardoise.labo.depuis_manifeste import ecole_par_defaut, plan_depuis_ecole
    from ardoise.labo.labo import Labo
    from ardoise.labo.systeme import verifier_root

    verifier_root()
    t = territoire(inventaire)
    e = t.ecole(ecole) if ecole else ecole_par_defaut(t)
    plan = plan_depuis_ecole(t, e, postes)
    console_err.print(f"démarrage du labo de l'école {e.nom} ({e.uai})")
    etat = Labo().demarrer(plan, _progression(silencieux))
    _afficher_etat(etat, format)


@app.command("etat")
@commande
def etat(
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Hôtes, adresses et services du labo, chacun up ou down (vérifié pour de vrai)."""
    from ardoise.labo.labo import Labo

    _afficher_etat(Labo().etat(), format)


def _afficher_etat(etat: dict, format: Format | None) -> None:
    fmt = format_effectif(format)
    if fmt is Format.json:
        afficher([], fmt, donnees_json=etat)
        return
    if not etat.get("demarre"):
        console_err.print("aucun labo démarré")
        return
    lignes = []
    for genre in ("hotes", "services", "commutateurs"):
        for nom, info in etat.get(genre, {}).items():
            lignes.append(
                {
                    "genre": genre,
                    "nom": nom,
                    "adresse": info.get("adresse"),
                    "port": info.get("port", 22),
                    "etat": info.get("etat"),
                }
            )
    afficher(lignes, fmt, ["genre", "nom", "adresse", "port", "etat"], titre=f"Labo {etat.get('uai')}")


@app.command("arreter")
@commande
def arreter(
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Arrête le labo et supprime tout ce qu'il a créé (espaces de noms, liens, montages, processus)."""
    from ardoise.labo.labo import Labo

    Labo().arreter(_progression(silencieux))
    console_err.print("labo arrêté : plus aucun espace de noms, lien, montage ni processus du labo")
