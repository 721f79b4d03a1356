"""``ardoise tablettes qr | adb preparer | ipad profil``: Android Enterprise, workshop adb, iPads."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    CODE_PROBLEMES,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console_err,
    territoire,
)
from ardoise.tablettes.feuille import FormatFeuille, Regroupement

app = typer.Typer(
    help="Les tablettes : QR d'enrôlement Android Enterprise, préparation adb à l'atelier, profils iPad.",
    no_args_is_help=True,
)
app_adb = typer.Typer(help="Parcours atelier par adb (USB) pour les tablettes Android déjà configurées.",
                      no_args_is_help=True)  # fmt: skip
app_ipad = typer.Typer(
    help="Profils de configuration iPad (.mobileconfig) et script cfgutil.", no_args_is_help=True
)
app.add_typer(app_adb, name="adb")
app.add_typer(app_ipad, name="ipad")

SORTIE_DEFAUT = Path("sortie/tablettes")

OptEcole = Annotated[str, typer.Option("--ecole", help="UAI de l'école (ex. 0331101T).", show_default=False)]
OptSortie = Annotated[
    Path, typer.Option("--sortie", help="Dossier où écrire les fichiers (défaut : sortie/tablettes/).")
]


@app.command("qr")
@commande
def qr(
    ecole: OptEcole,
    format: Annotated[
        list[FormatFeuille] | None,
        typer.Option("--format", help="png, pdf ou html ; répétable (défaut : pdf).", show_default=False),
    ] = None,
    par: Annotated[
        Regroupement,
        typer.Option("--par", help="Un code par « appareil » (identité dans le QR) ou par « lot » (profil)."),
    ] = Regroupement.appareil,
    sortie: OptSortie = SORTIE_DEFAUT,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Feuille A4 d'enrôlement Android Enterprise : un QR étiqueté par tablette (ou par lot)."""
    from ardoise.tablettes.feuille import produire_feuille

    f = produire_feuille(territoire(inventaire), ecole, format or [FormatFeuille.pdf], sortie, par)
    for chemin in f.fichiers:
        typer.echo(str(chemin))
    if not silencieux:
        console_err.print(
            f"{f.uai} : {f.codes} code(s) QR, Wi-Fi « {f.ssid} » ({f.choix_wifi}). Les codes contiennent la clé "
            "Wi-Fi : fichiers lisibles par vous seul, à détruire après l'enrôlement.",
            highlight=False,
        )


@app_adb.command("preparer")
@commande
def adb_preparer(
    serie: Annotated[
        list[str] | None,
        typer.Option(
            "--serie",
            help="Numéro de série à préparer (répétable ; défaut : toutes les tablettes branchées).",
        ),
    ] = None,
    ecole: Annotated[
        str | None, typer.Option("--ecole", help="N'accepter que les tablettes de cette école (UAI).")
    ] = None,
    apk: Annotated[
        Path, typer.Option("--apk", envvar="ARDOISE_APK", help="Dossier des APK, nommés <paquet>.apk.")
    ] = Path("apk"),
    adb_hote: Annotated[
        str, typer.Option("--adb-hote", envvar="ANDROID_ADB_SERVER_HOST", help="Serveur adb.")
    ] = "127.0.0.1",
    adb_port: Annotated[
        int, typer.Option("--adb-port", envvar="ANDROID_ADB_SERVER_PORT", help="Port du serveur adb.")
    ] = 5037,
    base: Annotated[
        str | None,
        typer.Option(
            "--base", envvar="ARDOISE_BASE", help="Base de résultats (URL SQLAlchemy).", show_default=False
        ),
    ] = None,
    lot: Annotated[
        str | None, typer.Option("--lot", help="Nom du lot d'atelier (pour les rapports).")
    ] = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Prépare les tablettes branchées en USB : série vérifiée, applications, Wi-Fi, proxy, réglages."""
    from ardoise.resultats.magasin import Magasin
    from ardoise.tablettes.adb import Preparation, client_adb

    logging.getLogger("alembic").setLevel(logging.WARNING)  # schema migration chatter on open
    t = territoire(inventaire)
    if ecole:
        t.ecole(ecole)  # unknown school: a clear usage error before touching any device
    client = client_adb(adb_hote, adb_port)
    magasin = Magasin(base)
    rapport = Preparation(t, client, apk, magasin, ecole).lancer(serie, lot)
    lignes = [
        {
            "hote": r.hote,
            "numero_serie": r.details.get("numero_serie"),
            "statut": r.statut.value,
            "etape": r.etape,
            "raison": r.raison,
            "applications": r.details.get("applications", []),
            "wifi": r.details.get("wifi"),
            "proxy": r.details.get("proxy"),
        }
        for r in rapport.resultats
    ]
    afficher(lignes, format, ["hote", "numero_serie", "statut", "etape", "raison", "applications"],
             titre="Préparation adb des tablettes")  # fmt: skip
    if not rapport.resultats and not silencieux:
        console_err.print("aucune tablette branchée (adb devices est vide)")
    if not silencieux:
        console_err.print(f"résultats enregistrés : exécution n° {rapport.execution_id}", highlight=False)
    if rapport.echecs:
        raise typer.Exit(CODE_PROBLEMES)


@app_ipad.command("profil")
@commande
def ipad_profil(
    ecole: OptEcole,
    signer: Annotated[
        Path | None,
        typer.Option(
            "--signer",
            help="Certificat PEM de signature (la clé peut être dans le même fichier).",
            show_default=False,
        ),
    ] = None,
    cle: Annotated[
        Path | None,
        typer.Option("--cle", help="Clé privée PEM du certificat, si elle est à part.", show_default=False),
    ] = None,
    sortie: OptSortie = SORTIE_DEFAUT,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Profils .mobileconfig (un par profil de terminal, signés si --signer) et script cfgutil par lot."""
    from ardoise.tablettes.ipad import produire_profils
    from ardoise.tablettes.signature import charger_signataire

    signataire = charger_signataire(signer, cle) if signer else None
    r = produire_profils(territoire(inventaire), ecole, sortie, signataire)
    for chemin in [*r.fichiers, r.script]:
        typer.echo(str(chemin))
    if not silencieux:
        console_err.print(
            f"{r.uai} : {len(r.appareils)} iPad, Wi-Fi « {r.ssid} » ({r.choix_wifi})"
            + (f", signés par « {signataire.sujet} »" if signataire else ", non signés")
            + f". Sur le Mac de l'atelier : bash {r.script.name} (journal CSV par numéro de série).",
            highlight=False,
        )


@app_ipad.command("certificat-demo")
@commande
def ipad_certificat_demo(
    sortie: OptSortie = SORTIE_DEFAUT,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Certificat AUTO-SIGNÉ de DÉMONSTRATION pour signer les profils (jamais en production)."""
    from ardoise.tablettes.signature import certificat_autosigne

    cert, cle = certificat_autosigne(sortie)
    typer.echo(str(cert))
    typer.echo(str(cle))
    if not silencieux:
        console_err.print("certificat de DÉMONSTRATION : un iPad l'affichera « non vérifié ».")
