"""``ardoise commune exporter|importer``: la commune reprend la main, ou revient au syndicat."""

from __future__ import annotations

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
)

app = typer.Typer(
    help="Reprise par une commune : exporter ses écoles (dossier Ardoise autonome) ou les réimporter.",
    no_args_is_help=True,
)

OptMdp = Annotated[
    Path | None,
    typer.Option("--mdp-coffre", help="Fichier du mot de passe du coffre du territoire (défaut : ARDOISE_COFFRE_MDP "
                 "ou vault_password_file d'ansible.cfg).", show_default=False),
]  # fmt: skip


@app.command("exporter")
@commande
def exporter(
    commune: Annotated[str, typer.Option("--commune", help="La commune (identifiant ou code INSEE).")],
    vers: Annotated[Path, typer.Option("--vers", help="Dossier à créer (absent ou vide).")],
    mdp_coffre: OptMdp = None,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Dossier Ardoise autonome pour une seule commune : manifestes, profils, coffre rechiffré, historique."""
    from ardoise.commune.exportation import FICHIER_MDP, FICHIER_ROTATION
    from ardoise.commune.exportation import exporter as faire

    r = faire(inventaire, commune, vers, base=base, mot_de_passe=mdp_coffre)
    lignes = [
        {"element": "écoles", "valeur": ", ".join(r.ecoles)},
        {"element": "appareils", "valeur": r.appareils},
        {"element": "profils", "valeur": ", ".join(r.profils)},
        {"element": "applications du catalogue", "valeur": r.applications},
        {"element": "secrets (rechiffrés)", "valeur": ", ".join(r.secrets)},
        {
            "element": "historique",
            "valeur": ", ".join(f"{k} {n}" for k, n in r.historique.items() if n) or "vide",
        },
    ]
    afficher(lignes, format, ["element", "valeur"], titre=f"Export de {r.commune} : {r.dossier}",
             donnees_json={"commune": r.commune, "dossier": str(r.dossier), "ecoles": r.ecoles,
                           "appareils": r.appareils, "profils": r.profils, "secrets": r.secrets,
                           "historique": r.historique, "fichiers": r.fichiers})  # fmt: skip
    if not silencieux:
        console_err.print(
            f"export écrit dans {r.dossier} ; nouveau mot de passe du coffre : inventaire/{FICHIER_MDP} (0600, jamais"
            f" affiché) ; secrets à changer : {FICHIER_ROTATION} ; vérifiez avec"
            f" « cd {r.dossier} && ardoise inventaire valider »",
            highlight=False,
        )


@app.command("importer")
@commande
def importer(
    depuis: Annotated[
        Path, typer.Option("--depuis", help="Dossier produit par « ardoise commune exporter ».")
    ],
    essai: Annotated[
        bool, typer.Option("--essai", help="Montrer ce qui serait fait, sans rien écrire.")
    ] = False,
    mdp_coffre: OptMdp = None,
    mdp_export: Annotated[
        Path | None,
        typer.Option(
            "--mdp-export",
            help="Mot de passe du coffre de l'export (défaut : inventaire/coffre.mdp de l'export).",
            show_default=False,
        ),
    ] = None,  # fmt: skip
    inventaire: OptInventaire = None,
    base: OptBase = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Remet une commune exportée dans le territoire (fichiers, secrets rechiffrés, historique) ; refuse tout conflit."""
    from ardoise.commune.importation import importer as faire

    r = faire(
        inventaire, depuis, base=base, mot_de_passe=mdp_coffre, mot_de_passe_export=mdp_export, essai=essai
    )
    lignes = [{"action": "ajouter", "fichier": f} for f in r.nouveaux]
    lignes += [{"action": "modifier", "fichier": f} for f in r.modifies]
    lignes += [{"action": "secret ajouté au coffre", "fichier": n} for n in r.secrets_ajoutes]
    lignes += [{"action": "secret déjà au coffre (même valeur)", "fichier": n} for n in r.secrets_communs]
    lignes += [{"action": f"historique : {k}", "fichier": str(n)} for k, n in r.historique.items() if n]
    titre = f"Import de {r.commune}" + (" (essai : rien n'est écrit)" if essai else "")
    afficher(lignes, format, ["action", "fichier"], titre=titre,
             donnees_json={"commune": r.commune, "essai": essai, "nouveaux": r.nouveaux, "modifies": r.modifies,
                           "secrets_ajoutes": r.secrets_ajoutes, "secrets_communs": r.secrets_communs,
                           "historique": r.historique, "avertissements": r.avertissements})  # fmt: skip
    if essai and r.diff and not silencieux:
        sys.stderr.write(r.diff)
    for a in r.avertissements:
        console_err.print(f"[yellow]attention[/yellow] : {a}", highlight=False)
    if not silencieux:
        console_err.print(
            ("essai : rien n'a été écrit" if essai else f"commune « {r.commune} » importée")
            + " ; vérifiez avec « ardoise inventaire valider »",
            highlight=False,
        )
