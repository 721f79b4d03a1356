"""``ardoise console servir|utilisateur ajouter|desactiver|lister``: the shared web console."""

from __future__ import annotations

import getpass
import ipaddress
import sys
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    OptBase,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    commande,
    console_err,
    territoire,
)
from ardoise.erreurs import ErreurUsage

app = typer.Typer(
    help="La console web mutualisée : chaque commune voit et pilote ses écoles.", no_args_is_help=True
)
utilisateur = typer.Typer(help="Les comptes de la console (le premier administrateur se crée ici).",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(utilisateur, name="utilisateur")


@app.command("servir")
@commande
def servir(
    hote: Annotated[str, typer.Option("--hote", help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port d'écoute.")] = 8000,
    http_local: Annotated[
        bool,
        typer.Option(
            "--http-local",
            help="Démonstration en HTTP sur cette machine seulement : cookies sans "
            "« Secure » ni préfixe __Host- (écoute limitée à la boucle locale).",
        ),
    ] = False,  # fmt: skip
    cle: Annotated[
        Path | None,
        typer.Option(
            "--cle",
            envvar="ARDOISE_CLE_SSH",
            help="Clé SSH privée des balayages de maintenance.",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    known_hosts: Annotated[
        Path | None,
        typer.Option(
            "--known-hosts",
            envvar="ARDOISE_KNOWN_HOSTS",
            help="Clés d'hôte connues (balayages).",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    accepter_nouvelles_cles: Annotated[
        bool, typer.Option("--accepter-nouvelles-cles", help="Retenir la clé d'un appareil jamais vu.")
    ] = False,
    labo: Annotated[
        bool,
        typer.Option(
            "--labo", help="Démonstration : les balayages ne visent que les postes du labo démarré."
        ),
    ] = False,
    wifi_sortie: Annotated[
        Path, typer.Option("--wifi-sortie", help="Dossier des configurations Wi-Fi régénérées.")
    ] = Path("var/ardoise/wifi"),
    base: OptBase = None,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Sert la console web (HTTPS attendu devant elle : un mandataire inverse TLS, voir le README)."""
    import uvicorn

    from ardoise.console.app import creer_app
    from ardoise.console.taches import Reglages
    from ardoise.maintenance.moteur import ParametresSsh

    if http_local:
        try:
            boucle = ipaddress.ip_address(hote).is_loopback
        except ValueError:
            boucle = hote == "localhost"
        if not boucle:
            raise ErreurUsage("--http-local n'écoute que sur la boucle locale (127.0.0.1) : sans TLS, les "
                              "cookies de session circuleraient en clair")  # fmt: skip
    territoire(inventaire)  # a broken manifest is reported now, not on the first page
    reglages = Reglages(
        inventaire=inventaire, base=base, http_local=http_local, dossier_wifi=wifi_sortie, labo=labo,
        ssh=ParametresSsh(cle=cle, known_hosts=known_hosts, accepter_nouvelles_cles=accepter_nouvelles_cles),
    )  # fmt: skip
    application = creer_app(reglages)
    schema = "http" if http_local else "https (derrière votre mandataire TLS)"
    console_err.print(f"console Ardoise : {schema} sur {hote}:{port} ; arrêt : Ctrl+C", highlight=False)
    uvicorn.run(application, host=hote, port=port, log_config=None, access_log=verbeux > 0,
                proxy_headers=False, server_header=False)  # fmt: skip


def _mot_de_passe(depuis_stdin: bool) -> str:
    if depuis_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise ErreurUsage("pas de terminal pour saisir le mot de passe : utilisez --mot-de-passe-stdin")
    premier = getpass.getpass("Mot de passe (12 caractères au moins) : ")
    if getpass.getpass("Encore une fois : ") != premier:
        raise ErreurUsage("les deux saisies diffèrent : rien n'a été créé")
    return premier


@utilisateur.command("ajouter")
@commande
def ajouter(
    identifiant: Annotated[str, typer.Argument(help="Identifiant de connexion.")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin-syndicat, technicien-syndicat, admin-commune, technicien-commune ou lecteur.",
        ),
    ],  # fmt: skip
    commune: Annotated[
        list[str] | None,
        typer.Option("--commune", help="Commune du compte (répétable) ; inutile pour le syndicat."),
    ] = None,
    nom: Annotated[str | None, typer.Option("--nom", help="Nom affiché.")] = None,
    mot_de_passe_stdin: Annotated[
        bool, typer.Option("--mot-de-passe-stdin", help="Lire le mot de passe sur l'entrée standard.")
    ] = False,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Crée un compte de la console (mot de passe demandé deux fois, jamais en argument)."""
    from ardoise.console import comptes
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    comptes.verifier_communes(t, comptes.role_de(role), list(commune or ()))  # before asking the password
    c = comptes.ajouter(Magasin(base), t, identifiant, _mot_de_passe(mot_de_passe_stdin), role, list(commune or ()),
                        nom=nom, par=f"cli:{getpass.getuser()}")  # fmt: skip
    portee = "toutes les communes" if c.toutes_communes else ", ".join(c.communes)
    console_err.print(f"compte « {c.identifiant} » créé : {c.role.value} ({portee})", highlight=False)


@utilisateur.command("desactiver")
@commande
def desactiver(
    identifiant: Annotated[str, typer.Argument(help="Identifiant du compte.")],
    base: OptBase = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Désactive un compte : ses sessions ouvertes prennent fin aussitôt."""
    from ardoise.console import comptes
    from ardoise.resultats.magasin import Magasin

    if comptes.desactiver(Magasin(base), identifiant, par=f"cli:{getpass.getuser()}"):
        console_err.print(f"compte « {identifiant} » désactivé ; ses sessions sont fermées", highlight=False)
    else:
        console_err.print(f"compte « {identifiant} » déjà désactivé : rien à faire", highlight=False)


@utilisateur.command("lister")
@commande
def lister(
    base: OptBase = None, format: OptFormat = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False
) -> None:
    """Les comptes de la console (jamais les mots de passe ni leurs empreintes)."""
    from ardoise.console import comptes
    from ardoise.resultats.magasin import Magasin

    afficher(comptes.lister(Magasin(base)), format,
             ["identifiant", "nom", "role", "communes", "actif", "derniere_connexion"], titre="Comptes de la console")  # fmt: skip
