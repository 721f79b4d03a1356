"""``ardoise wifi generer|horaires|couper|retablir``: access point configurations and classroom SSIDs."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console_err,
    territoire,
)

app = typer.Typer(
    help="Le Wi-Fi des écoles : configurations des bornes (hostapd, OpenWrt) depuis le manifeste, horaires et "
    "coupure des SSID de classe.",
    no_args_is_help=True,
)

OptEcole = Annotated[str, typer.Option("--ecole", help="École (UAI).")]
OptSortie = Annotated[
    Path,
    typer.Option(
        "--sortie", help="Dossier des configurations (un sous-dossier par borne ; clés en mode 0600)."
    ),
]
DOSSIER_DEFAUT = Path("var/ardoise/wifi")


def _reveler(t):
    from ardoise.inventaire import coffre

    return lambda noms: coffre.reveler(t.fichier_coffre, noms)


@app.command("generer")
@commande
def generer(
    ecole: OptEcole,
    borne: Annotated[list[str] | None, typer.Option("--borne", help="Borne (nom d'hôte) ; défaut : toutes.")] = None,
    sortie: OptSortie = DOSSIER_DEFAUT,
    inventaire: OptInventaire = None, format: OptFormat = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Écrit les configurations des bornes (les SSID coupés à la main en sont absents) ; liste les fichiers."""
    from ardoise.reseau import wifi
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    e = t.ecole(ecole)
    configs = wifi.configurations(e, _reveler(t)(wifi.references_coffre(e)), wifi.ssids_coupes(Magasin(), e),
                                  borne or ())  # fmt: skip
    chemins = wifi.ecrire(configs, sortie / e.uai)
    afficher([{"fichier": str(p), "mode": oct(p.stat().st_mode & 0o777)[2:]} for p in chemins], format,
             ["fichier", "mode"], titre=f"Wi-Fi de {e.uai} : fichiers écrits (contenus non affichés)")  # fmt: skip


@app.command("horaires")
@commande
def horaires(
    ecole: OptEcole, inventaire: OptInventaire = None, format: OptFormat = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Les SSID de l'école, coupables ou non, avec leurs horaires et les coupures en cours."""
    from ardoise.reseau import wifi
    from ardoise.resultats.magasin import Magasin

    e = territoire(inventaire).ecole(ecole)
    coupes = wifi.ssids_coupes(Magasin(), e)
    lignes = [
        {**ligne, "coupe": "oui" if ligne["ssid"] in coupes else "non"} for ligne in wifi.resume_horaires(e)
    ]
    afficher(lignes, format, ["ssid", "coupable", "horaires", "coupe"], titre=f"Wi-Fi de {e.uai}")


def _basculer(ecole: str, ssid: str, sortie: Path, inventaire, couper: bool) -> None:
    from ardoise.reseau import wifi
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    e = t.ecole(ecole)
    message, chemins = wifi.basculer(
        e, ssid, couper, Magasin(), sortie / e.uai, _reveler(t), qui=getpass.getuser()
    )
    console_err.print(message, highlight=False, markup=False)
    for p in chemins:
        console_err.print(f"  {p}", highlight=False, markup=False)


@app.command("couper")
@commande
def couper(
    ecole: OptEcole, ssid: Annotated[str, typer.Option("--ssid", help="SSID coupable à couper.")],
    sortie: OptSortie = DOSSIER_DEFAUT, inventaire: OptInventaire = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Coupe maintenant un SSID « coupable » : noté dans la base de résultats, configurations régénérées."""
    _basculer(ecole, ssid, sortie, inventaire, True)


@app.command("retablir")
@commande
def retablir(
    ecole: OptEcole, ssid: Annotated[str, typer.Option("--ssid", help="SSID coupé à rétablir.")],
    sortie: OptSortie = DOSSIER_DEFAUT, inventaire: OptInventaire = None, verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Rétablit un SSID coupé à la main : il suit de nouveau ses horaires."""
    _basculer(ecole, ssid, sortie, inventaire, False)
