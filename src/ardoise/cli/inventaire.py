"""``ardoise inventaire valider|lister|exporter``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    CODE_OK,
    CODE_PROBLEMES,
    Format,
    OptCommune,
    OptEcole,
    OptFormat,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    afficher,
    afficher_problemes,
    commande,
    console_err,
    territoire,
)
from ardoise.inventaire.chargeur import valider as valider_inventaire
from ardoise.inventaire.export import vers_ansible, vers_csv, vers_json
from ardoise.inventaire.selection import Selection

app = typer.Typer(help="Le manifeste du territoire : valider, lister, exporter.", no_args_is_help=True)


COLONNES_LISTE = [
    "nom",
    "type",
    "commune",
    "uai",
    "modele",
    "os",
    "profil",
    "etat",
    "adresse",
    "salle",
    "classe",
]


@app.command("valider")
@commande
def valider(
    chemin: Annotated[
        Path | None, typer.Argument(help="Dossier de l'inventaire.", show_default=False)
    ] = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Vérifie tout le manifeste et signale chaque problème (fichier:ligne:colonne et correction).

    Code de sortie : 0 sans erreur, 1 s'il y a des erreurs, 2 en cas de mauvais usage.
    Ne modifie rien.
    """
    t, problemes = valider_inventaire(chemin or inventaire)
    afficher_problemes(problemes, format or Format.table)
    erreurs = sum(1 for p in problemes if p.gravite == "erreur")
    avertissements = len(problemes) - erreurs
    if not silencieux:
        if t is not None:
            n = sum(1 for _ in t.equipements())
            console_err.print(
                f"manifeste valide : {len(t.communes)} communes, {len(t.ecoles)} écoles, {n} équipements"
                f" ({avertissements} avertissement(s))"
            )
        else:
            console_err.print(f"{erreurs} erreur(s), {avertissements} avertissement(s)")
    raise typer.Exit(CODE_OK if t is not None else CODE_PROBLEMES)


@app.command("lister")
@commande
def lister(
    commune: OptCommune = None,
    ecole: OptEcole = None,
    type: Annotated[
        list[str] | None, typer.Option("--type", help="pc, tablette, ipad, eni, switch, ap, serveur.")
    ] = None,
    etat: Annotated[
        list[str] | None,
        typer.Option("--etat", help="atelier, livre, en_service, en_panne, reserve, prete, reforme."),
    ] = None,
    provenance: Annotated[
        bool,
        typer.Option(
            "--provenance", help="JSON : ajoute la politique de l'école et l'origine de chaque valeur."
        ),
    ] = False,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Liste les équipements, filtrés par commune, école, type ou état."""
    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ()), tuple(type or ()), tuple(etat or ())).verifier(
        t
    )
    equipements = sel.equipements(t)
    lignes = vers_json(equipements)
    if provenance:
        ecoles = {e.uai: e for e in t.ecoles}
        for ligne in lignes:
            e = ecoles[ligne["uai"]]
            ligne["politique"] = {
                cle: {"valeur": _valeur(e.politique, cle), "source": source}
                for cle, source in sorted(e.provenance.items())
            }
    afficher(lignes, format, COLONNES_LISTE, titre=f"{len(lignes)} équipement(s)")


def _valeur(politique, cle: str):
    obj = politique.model_dump(mode="json")
    for etape in cle.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(etape)
    if isinstance(obj, dict) and set(obj) == {"coffre"}:
        return {"coffre": obj["coffre"]}
    return obj


@app.command("exporter")
@commande
def exporter(
    vers: Annotated[str, typer.Option("--vers", help="json, csv ou ansible.")],
    commune: OptCommune = None,
    ecole: OptEcole = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Exporte les équipements (JSON, CSV) ou l'inventaire Ansible complet (JSON d'ansible-inventory)."""
    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ())).verifier(t)
    if vers == "json":
        sys.stdout.write(json.dumps(vers_json(sel.equipements(t)), ensure_ascii=False, indent=2) + "\n")
    elif vers == "csv":
        sys.stdout.write(vers_csv(sel.equipements(t)))
    elif vers == "ansible":
        from ardoise.inventaire.coffre import textes_chiffres

        coffre = {nom: {"__ansible_vault": c} for nom, c in textes_chiffres(t.fichier_coffre).items()}
        sys.stdout.write(json.dumps(vers_ansible(t, sel, coffre), ensure_ascii=False, indent=2) + "\n")
    else:
        from ardoise.erreurs import ErreurUsage

        raise ErreurUsage(f"format d'export « {vers} » inconnu ; choisissez json, csv ou ansible")
