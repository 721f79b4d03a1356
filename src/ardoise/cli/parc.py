"""``ardoise parc remplacer|preter|retour|prets|incident|historique|garanties|renouvellement|reprendre``."""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.atelier import OptCle, OptKnownHosts, OptLabo, OptUtilisateur, OptVariables
from ardoise.cli.commun import (
    Format,
    OptBase,
    OptCommune,
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
from ardoise.erreurs import ArdoiseErreur, ErreurUsage
from ardoise.inventaire.selection import Selection

app = typer.Typer(
    help="Le parc : spares, prêts, garanties et contrats, incidents, plan de renouvellement, reprise d'un parc.",
    no_args_is_help=True,
)
incident_app = typer.Typer(help="Incidents par appareil (garantie constructeur ou contrat de maintenance).",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(incident_app, name="incident")

OptSansGlpi = Annotated[
    bool, typer.Option("--sans-glpi", help="Ne pas envoyer à GLPI, même s'il est configuré.")
]


def _date(texte: str, option: str) -> dt.date:
    from ardoise.parc.reprise import date_fr

    try:
        return date_fr(texte)
    except ValueError:
        raise ErreurUsage(f"{option} : date « {texte} » illisible ; écrivez JJ/MM/AAAA") from None


def _magasin(base: str | None):
    from ardoise.resultats.magasin import Magasin

    return Magasin(base)


def _glpi(t, uai: str, sans: bool):
    """The GLPI connector of the school's commune, or None (with a warning when it cannot be used)."""
    if sans or t.ecole(uai).politique.parc.glpi is None:
        return None
    from ardoise.parc.glpi import connecteur_pour

    try:
        return connecteur_pour(t, uai)
    except ArdoiseErreur as e:
        console_err.print(
            f"[yellow]attention[/yellow] : GLPI configuré mais inutilisable ({e}) ; incident gardé dans Ardoise"
        )
        return None


def _avertir(avertissements: list[str]) -> None:
    for a in avertissements:
        console_err.print(f"[yellow]attention[/yellow] : {a}", highlight=False)


def _communes(t, communes: list[str] | None) -> tuple[str, ...]:
    return Selection(communes=tuple(communes or ())).verifier(t).communes


# -- spare swap ----------------------------------------------------------------------------------
@app.command("remplacer")
@commande
def remplacer(
    poste: Annotated[str, typer.Argument(help="Le poste en panne (nom d'hôte).")],
    par: Annotated[str, typer.Option("--par", help="Le spare (appareil en réserve de la même commune).")],
    symptome: Annotated[
        str | None, typer.Option("--symptome", help="La panne constatée (pour l'incident).")
    ] = None,
    essai: Annotated[
        bool, typer.Option("--essai", help="Montrer la modification du manifeste sans rien écrire.")
    ] = False,
    sans_glpi: OptSansGlpi = False,
    preparer: Annotated[
        bool,
        typer.Option(
            "--preparer",
            help="Passer aussitôt le spare à l'atelier : vérifié s'il est déjà prêt, sinon"
            " préparé (playbook puis liste de contrôle) ; le résultat est noté sur l'échange.",
        ),
    ] = False,
    cle: OptCle = None,
    known_hosts: OptKnownHosts = None,
    utilisateur: OptUtilisateur = None,
    variables: OptVariables = None,
    labo: OptLabo = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Le spare reprend l'identité du poste (nom, école, salle, profil) ; le poste part en réparation.

    Avec --preparer (options de connexion de « ardoise atelier preparer ») : code de sortie 1 si le spare
    n'est pas prêt à l'issue de l'atelier.
    """
    from ardoise.parc.appareils import poste as trouver_poste
    from ardoise.parc.remplacement import preparer_spare
    from ardoise.parc.remplacement import remplacer as faire

    t = territoire(inventaire)
    eq, _ = trouver_poste(t, poste)
    if preparer and not essai:
        from ardoise.atelier import postes as choix

        try:  # refused now (not a Linux PC, no address), before any change
            choix.choisir(t, None, (poste,), None)
        except ErreurUsage:
            raise ErreurUsage(
                f"--preparer : « {poste} » ne peut pas passer à l'atelier ({eq.type.value}, système {eq.os}) :"
                " seuls les PC Linux avec une adresse s'y préparent ; faites l'échange sans --preparer"
            ) from None
    magasin = None if essai else _magasin(base)
    r = faire(
        t, magasin, poste, par, symptome, essai=essai, glpi=None if essai else _glpi(t, eq.uai, sans_glpi)
    )
    sys.stdout.write(r.diff)
    if essai:
        console_err.print("essai : rien n'a été écrit (relancez sans --essai pour faire l'échange)")
        return
    _avertir(r.avertissements)
    console_err.print(
        f"« {poste} » : le spare n° {r.serie_spare} a repris le poste ; le matériel n° {r.serie_en_panne} part en"
        f" réparation sous le nom « {par} » (en_panne), incident n° {r.incident['id']}"
        f" ({r.incident['voie']}{' — ' + r.incident['fournisseur'] if r.incident['fournisseur'] else ''}),"
        f" échange n° {r.echange_id} enregistré.",
        highlight=False,
    )
    if not preparer:
        console_err.print(f"[yellow]à faire[/yellow] : préparer le spare à l'atelier : « {r.preparation} »"
                          " (--preparer le fait pendant l'échange)", highlight=False)  # fmt: skip
        return
    from ardoise.cli.atelier import _connexion, _Vue

    connexion = _connexion(labo, cle, utilisateur, known_hosts, variables)
    apres = territoire(inventaire)  # the manifest as the swap wrote it
    with _Vue([poste], silencieux) as vue:
        p = preparer_spare(apres, magasin, r, connexion, changement=vue)
    libelle = "vérifié (déjà prêt)" if p.mode == "verification" else "préparé à l'atelier"
    if p.etat == "pret":
        console_err.print(
            f"spare « {poste} » {libelle} : prêt (exécution n° {p.execution_id})", highlight=False
        )
        return
    console_err.print(
        f"[red]spare « {poste} » non prêt[/red] ({libelle}) : {p.etape or ''} — {p.raison or ''} ;"
        f" corrigez puis « ardoise atelier preparer --postes {poste} --reprendre »",
        highlight=False,
    )
    raise typer.Exit(1)


# -- loans ---------------------------------------------------------------------------------------
@app.command("preter")
@commande
def preter(
    poste: Annotated[str, typer.Argument(help="L'appareil prêté.")],
    a: Annotated[str, typer.Option("--a", help="À qui (par exemple « Mme Martin, CM1 »).")],
    jusqu_au: Annotated[str, typer.Option("--jusqu-au", help="Date de retour prévue (JJ/MM/AAAA).")],
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Prête un appareil (réserve, livré ou en service) à un enseignant jusqu'à une date."""
    from ardoise.parc.prets import preter as faire

    t = territoire(inventaire)
    r = faire(t, _magasin(base), poste, a, _date(jusqu_au, "--jusqu-au"))
    afficher([r], fmt)


@app.command("retour")
@commande
def retour(
    poste: Annotated[str, typer.Argument(help="L'appareil rendu.")],
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Enregistre le retour d'un appareil prêté (il reprend son état d'avant le prêt)."""
    from ardoise.parc.prets import retour as faire

    t = territoire(inventaire)
    afficher([faire(t, _magasin(base), poste)], fmt)


@app.command("prets")
@commande
def prets(
    commune: OptCommune = None,
    tous: Annotated[bool, typer.Option("--tous", help="Aussi les prêts rendus.")] = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Les prêts en cours (et en retard)."""
    from ardoise.parc.prets import lister

    t = territoire(inventaire)
    afficher(lister(_magasin(base), _communes(t, commune), tous), fmt,
             ["appareil", "commune", "emprunteur", "depuis", "jusqu_au", "rendu_le", "en_retard"], "Prêts")  # fmt: skip


# -- incidents -----------------------------------------------------------------------------------
COLONNES_INCIDENTS = ["id", "appareil", "numero_serie", "statut", "voie", "fournisseur", "reference", "ouvert_le",
                      "symptome"]  # fmt: skip


@incident_app.command("ouvrir")
@commande
def incident_ouvrir(
    poste: Annotated[str, typer.Argument(help="L'appareil en panne.")],
    symptome: Annotated[str, typer.Option("--symptome", help="La panne constatée.")],
    reference: Annotated[
        str | None, typer.Option("--reference", help="Référence du dossier chez le fournisseur.")
    ] = None,
    sans_glpi: OptSansGlpi = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Ouvre un incident, orienté vers la garantie constructeur ou le contrat de maintenance."""
    from ardoise.parc.appareils import trouver
    from ardoise.parc.incidents import ouvrir

    t = territoire(inventaire)
    eq = trouver(t, poste)
    i, avertissements = ouvrir(_magasin(base), t, eq, symptome, reference, glpi=_glpi(t, eq.uai, sans_glpi))
    _avertir(avertissements)
    afficher([i], fmt, COLONNES_INCIDENTS + ["contrat", "niveau", "glpi_id"], donnees_json=i)


@incident_app.command("maj")
@commande
def incident_maj(
    ident: Annotated[int, typer.Argument(help="Numéro de l'incident.")],
    note: Annotated[
        str | None, typer.Option("--note", help="Suivi (intervention, pièce commandée…).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Référence chez le fournisseur.")
    ] = None,
    statut: Annotated[str | None, typer.Option("--statut", help="ouvert, en_cours ou en_attente.")] = None,
    sans_glpi: OptSansGlpi = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Met à jour un incident (suivi, référence fournisseur, statut)."""
    from ardoise.parc.incidents import lire, mettre_a_jour

    t = territoire(inventaire)
    magasin = _magasin(base)
    actuel = lire(magasin, ident)
    glpi = _glpi(t, actuel["uai"], sans_glpi) if actuel["uai"] and actuel["glpi_id"] else None
    i, avertissements = mettre_a_jour(magasin, ident, note, reference, statut, glpi)
    _avertir(avertissements)
    afficher([i], fmt, COLONNES_INCIDENTS, donnees_json=i)


@incident_app.command("clore")
@commande
def incident_clore(
    ident: Annotated[int, typer.Argument(help="Numéro de l'incident.")],
    resolution: Annotated[str, typer.Option("--resolution", help="Comment la panne a été résolue.")],
    sans_glpi: OptSansGlpi = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Clôt un incident."""
    from ardoise.parc.incidents import clore, lire

    t = territoire(inventaire)
    magasin = _magasin(base)
    actuel = lire(magasin, ident)
    glpi = _glpi(t, actuel["uai"], sans_glpi) if actuel["uai"] and actuel["glpi_id"] else None
    i, avertissements = clore(magasin, ident, resolution, glpi)
    _avertir(avertissements)
    afficher([i], fmt, COLONNES_INCIDENTS + ["clos_le", "resolution"], donnees_json=i)


@incident_app.command("lister")
@commande
def incident_lister(
    commune: OptCommune = None,
    poste: Annotated[str | None, typer.Option("--poste", help="Un appareil (nom ou matériel).")] = None,
    tous: Annotated[bool, typer.Option("--tous", help="Aussi les incidents clos.")] = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Les incidents (ouverts par défaut)."""
    from ardoise.parc.appareils import trouver
    from ardoise.parc.incidents import lister

    t = territoire(inventaire)
    serie = trouver(t, poste).numero_serie if poste else None
    lignes = lister(_magasin(base), _communes(t, commune), poste, serie, ouverts_seulement=not tous)
    afficher(lignes, fmt, COLONNES_INCIDENTS, "Incidents")


@app.command("historique")
@commande
def historique(
    poste: Annotated[str, typer.Argument(help="L'appareil.")],
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """L'historique d'un appareil : incidents, échanges, prêts (par nom et par numéro de série)."""
    from ardoise.parc.appareils import trouver
    from ardoise.parc.incidents import historique as lire

    t = territoire(inventaire)
    afficher(
        lire(_magasin(base), trouver(t, poste)), fmt, ["date", "quoi", "detail"], f"Historique de {poste}"
    )


# -- warranties ----------------------------------------------------------------------------------
@app.command("garanties")
@commande
def garanties(
    commune: OptCommune = None,
    expirant_avant: Annotated[
        str | None,
        typer.Option("--expirant-avant", help="Seulement les garanties finissant avant cette date."),
    ] = None,
    inventaire: OptInventaire = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Garanties constructeur et contrats de maintenance : qui intervient aujourd'hui sur chaque appareil."""
    from ardoise.parc.garanties import lignes_garanties

    t = territoire(inventaire)
    sel = Selection(communes=tuple(commune or ())).verifier(t)
    avant = _date(expirant_avant, "--expirant-avant") if expirant_avant else None
    lignes = lignes_garanties(t, [e for e in sel.equipements(t) if e.etat.value != "reforme"], avant)
    afficher(lignes, fmt, ["nom", "type", "commune", "garantie_fournisseur", "garantie_fin", "jours_restants",
                           "couverture", "intervenant", "niveau", "contrat"], "Garanties et contrats")  # fmt: skip


# -- renewal plan --------------------------------------------------------------------------------
class FormatPlan(StrEnum):
    html = "html"
    csv = "csv"
    json = "json"
    table = "table"


@app.command("renouvellement")
@commande
def renouvellement(
    commune: Annotated[str, typer.Option("--commune", help="La commune (identifiant ou code INSEE).")],
    horizon: Annotated[
        int | None, typer.Option("--horizon", help="Dernière année du plan (défaut : dans 5 ans).")
    ] = None,
    fmt: Annotated[FormatPlan | None, typer.Option("--format", help="html, csv, json ou table.")] = None,
    sortie: Annotated[
        Path | None, typer.Option("--sortie", help="Fichier à écrire (défaut : sortie standard).")
    ] = None,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Plan de renouvellement par année : quels appareils, pourquoi, et le budget."""
    from ardoise.parc import rapport
    from ardoise.parc.renouvellement import calculer, donnees_magasin

    t = territoire(inventaire)
    ident = t.commune(commune).id
    debut = dt.date.today().year
    if horizon is not None and not debut <= horizon <= debut + 15:
        raise ErreurUsage(f"--horizon {horizon} : choisissez une année entre {debut} et {debut + 15}")
    incidents, batteries = donnees_magasin(_magasin(base), ident)
    plan = calculer(t, ident, horizon, incidents=incidents, batteries=batteries)
    choix = fmt or (FormatPlan.html if sortie and sortie.suffix == ".html" else
                    FormatPlan.csv if sortie and sortie.suffix == ".csv" else None)  # fmt: skip
    if choix is FormatPlan.html:
        texte = rapport.html(plan)
    elif choix is FormatPlan.csv:
        texte = rapport.csv_texte(plan)
    else:
        lignes = [{"annee": a.annee, "appareils": len(a.lignes), "budget_euros": round(a.budget, 2),
                   **{ty: v[0] for ty, v in a.par_type.items()}} for a in plan.annees]  # fmt: skip
        colonnes = [
            "annee",
            "appareils",
            "budget_euros",
            "pc",
            "tablette",
            "ipad",
            "eni",
            "switch",
            "ap",
            "serveur",
        ]
        if sortie is None:
            f = (
                Format.json
                if choix is FormatPlan.json
                else (Format.table if choix is FormatPlan.table else None)
            )
            if format_effectif(f) is Format.json:
                afficher([], Format.json, donnees_json={
                    "commune": plan.commune, "debut": plan.annee_debut, "horizon": plan.horizon,
                    "appareils": plan.appareils, "a_renouveler": plan.nombre_total,
                    "budget_euros": round(plan.budget_total, 2), "apres_horizon": plan.apres_horizon,
                    "sans_date": plan.sans_date, "sans_tarif": plan.sans_tarif, "annees": lignes,
                    "lignes": [x.en_dict() for x in plan.lignes()]})  # fmt: skip
            else:
                afficher(lignes, f, colonnes, f"Renouvellement — {plan.nom_commune}")
            return
        texte = rapport.csv_texte(plan)
    if sortie is None:
        sys.stdout.write(texte)
    else:
        sortie.parent.mkdir(parents=True, exist_ok=True)
        sortie.write_text(texte, encoding="utf-8")
    console_err.print(
        f"{plan.nom_commune} : {plan.nombre_total} appareil(s) à renouveler de {plan.annee_debut} à {plan.horizon},"
        f" {rapport.euros(plan.budget_total)}" + (f" → {sortie}" if sortie else ""),
        highlight=False,
    )


# -- fleet takeover ------------------------------------------------------------------------------
@app.command("reprendre")
@commande
def reprendre(
    depuis: Annotated[
        Path | None, typer.Option("--depuis", help="Export CSV (Ardoise, GLPI ou OCS Inventory).")
    ] = None,
    depuis_audit: Annotated[
        str | None, typer.Option("--depuis-audit", help="UAI : les hôtes découverts par son dernier audit.")
    ] = None,
    ecole: Annotated[
        str | None, typer.Option("--ecole", help="École (UAI) des lignes sans colonne « ecole ».")
    ] = None,
    essai: Annotated[
        bool, typer.Option("--essai", help="Montrer le YAML qui serait écrit, sans rien écrire.")
    ] = False,
    inventaire: OptInventaire = None,
    base: OptBase = None,
    fmt: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Reprend un parc existant : de nouvelles entrées « en_service » marquées « à vérifier »."""
    from ardoise.cli.commun import CODE_PROBLEMES
    from ardoise.parc import reprise

    if (depuis is None) == (depuis_audit is None):
        raise ErreurUsage("donnez soit --depuis FICHIER.csv, soit --depuis-audit UAI")
    t = territoire(inventaire)
    if depuis is not None:
        lignes, ignorees = reprise.lire_csv(depuis)
        r = reprise.preparer(t, lignes, depuis.name, ecole)
        r.colonnes_ignorees = ignorees
        nom = str(depuis)
    else:
        lignes = reprise.lignes_audit(_magasin(base), t, depuis_audit)
        r = reprise.preparer(
            t, lignes, f"l'audit de {depuis_audit}", ecole or depuis_audit, depuis_audit=True
        )
        nom = f"audit {depuis_audit} : hôte"
    if fmt is Format.json:
        afficher([], Format.json, donnees_json={"problemes": [p.en_dict() for p in r.problemes],
                                                "nouvelles_entrees": r.nombre, "ignorees": r.ignorees,
                                                "colonnes_ignorees": r.colonnes_ignorees})  # fmt: skip
    else:
        for p in r.problemes:
            console_err.print(p.texte(nom), highlight=False, markup=False)
    if r.colonnes_ignorees:
        console_err.print(
            f"colonnes ignorées : {', '.join(r.colonnes_ignorees)}", highlight=False, markup=False
        )
    if r.erreurs:
        console_err.print(
            f"[red]erreur[/red] : {len(r.erreurs)} erreur(s) : rien n'a été écrit ; corrigez le fichier et relancez"
        )
        raise typer.Exit(CODE_PROBLEMES)
    if essai:
        if fmt is not Format.json:
            sys.stdout.write(r.yaml(t.racine))
        console_err.print(
            f"essai : {r.nombre} entrée(s) seraient ajoutées, {r.ignorees} déjà présente(s) ; rien n'a été écrit"
        )
        return
    fichiers = reprise.ecrire(t, r)
    console_err.print(f"{r.nombre} entrée(s) ajoutée(s) dans {len(fichiers)} fichier(s) d'école, marquées « à vérifier » ;"
                      f" {r.ignorees} déjà présente(s), non modifiée(s)")  # fmt: skip
    if r.nombre:
        _magasin(base).journaliser("parc.reprendre", "ok", cible=depuis_audit or str(depuis),
                                   details={"entrees": r.nombre, "ignorees": r.ignorees})  # fmt: skip
