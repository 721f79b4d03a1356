"""``ardoise audit reseau|filtrage|debit|complet``: the school's network against its manifest, filtering from the pupils' side."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.atelier import OptCle, OptKnownHosts
from ardoise.cli.commun import (
    CODE_PROBLEMES,
    OptBase,
    OptEcole,
    OptInventaire,
    OptSilencieux,
    OptVerbeux,
    commande,
    console_err,
    territoire,
)
from ardoise.cli.reseau import OptAcces
from ardoise.erreurs import ErreurUsage

app = typer.Typer(
    help="L'audit réseau d'une école : ce qui est branché face au manifeste, le filtrage testé côté élève, le débit.",
    no_args_is_help=True,
)


class FormatAudit(StrEnum):
    html = "html"
    json = "json"


OptFormatAudit = Annotated[
    FormatAudit,
    typer.Option(
        "--format", help="Sur la sortie standard : html (chemin du rapport HTML) ou json (le rapport)."
    ),
]
OptVlan = Annotated[list[int] | None, typer.Option("--vlan", help="N'analyser que ce VLAN (répétable).")]
OptDepuis = Annotated[
    str | None,
    typer.Option(
        "--depuis",
        help="D'où tester le filtrage : un numéro de VLAN élèves où ce poste a une adresse (défaut : le premier),"
        " ou le nom d'un poste élève déclaré, joint en SSH comme par la maintenance (--cle, --known-hosts).",
    ),
]
OptSortie = Annotated[
    Path, typer.Option("--sortie", help="Dossier des rapports (HTML, JSON) et de la sortie XML de nmap.")
]
OptAttendus = Annotated[
    list[str] | None,
    typer.Option("--attendus", help="Appareils qui doivent répondre (noms, séparés par des virgules ; défaut : "
                 "les appareils en service ou livrés)."),
]  # fmt: skip
OptJournal = Annotated[
    Path | None,
    typer.Option(
        "--journal-proxy", help="Journal d'accès du proxy à surveiller (il doit grandir pendant l'essai)."
    ),
]
OptLabo = Annotated[
    bool,
    typer.Option("--labo", help="Auditer l'école du laboratoire démarré : seuls ses appareils sont attendus, "
                 "le journal du proxy est celui du labo."),
]  # fmt: skip


def _une_ecole(ecole: list[str] | None) -> str:
    if not ecole or len(ecole) != 1:
        raise ErreurUsage("donnez une et une seule école : --ecole UAI")
    return ecole[0]


def _attendus_labo(t, uai: str) -> tuple[list[str], Path | None]:
    from ardoise.labo.labo import Labo

    etat = Labo().etat()
    if not etat.get("demarre"):
        raise ErreurUsage("--labo : aucun laboratoire n'est démarré (ardoise labo demarrer)")
    ecole = t.ecole(uai)
    if etat.get("uai") != ecole.uai:
        raise ErreurUsage(f"--labo : le laboratoire démarré est l'école {etat.get('uai')}, pas {ecole.uai}")
    noms = [*etat["hotes"], *etat["commutateurs"]]
    if ecole.modele.serveur:
        noms.append(ecole.modele.serveur.nom)
    journal = etat.get("acces", {}).get("journal_proxy")
    return noms, Path(journal) if journal else None


def _lancer(parties: tuple[str, ...], ecole, vlan, depuis, sortie, attendus, journal_proxy, labo, acces,
            inventaire, base, fmt, cle=None, known_hosts=None) -> None:  # fmt: skip
    from ardoise.audit import rapport
    from ardoise.audit.cibles import cibles
    from ardoise.audit.decouverte import adresses_locales
    from ardoise.audit.execution import auditer
    from ardoise.audit.filtrage import depuis_poste, source_sur_vlan
    from ardoise.maintenance.moteur import ParametresSsh
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    uai = _une_ecole(ecole)
    poste = depuis.strip() if depuis is not None and not depuis.strip().isdigit() else None
    depuis = int(depuis) if depuis is not None and poste is None else None
    noms = [n.strip() for x in attendus or [] for n in x.split(",") if n.strip()] or None
    if labo:
        noms_labo, journal_labo = _attendus_labo(t, uai)
        noms = noms or noms_labo
        journal_proxy = journal_proxy or journal_labo
    # usage errors before anything is written (not even an empty results store)
    cibles(t.ecole(uai), vlan, noms)
    ssh = ParametresSsh(cle=cle, known_hosts=known_hosts)
    if "filtrage" in parties and poste is None:
        source_sur_vlan(t.ecole(uai), depuis, adresses_locales())
    elif "filtrage" in parties:
        depuis_poste(t, t.ecole(uai), poste, ssh)  # unknown name, not a pupil PC: refused before any write
    a = auditer(
        t, uai, parties, dossier=sortie, vlans=vlan, attendus=noms, depuis_vlan=depuis, depuis_poste=poste,
        ssh=ssh, journal_proxy=journal_proxy, fichier_acces=acces, magasin=Magasin(base),
        progression=lambda m: console_err.print(f"audit : {m}", highlight=False, markup=False),
    )  # fmt: skip
    chemin_html, chemin_json = rapport.ecrire(a, sortie)
    for c in a.constats:
        console_err.print(f"[{c.gravite.value}] {c.titre}", highlight=False, markup=False)
    console_err.print(
        f"{len(a.constats)} constat(s) ; {len(a.nouveaux)} nouveau(x), {len(a.resolus)} résolu(s) depuis l'audit "
        f"précédent ; audit n° {a.execution_id} enregistré ; rapport HTML : {chemin_html}",
        highlight=False, markup=False,
    )  # fmt: skip
    if fmt is FormatAudit.json:
        sys.stdout.write(chemin_json.read_text(encoding="utf-8"))
    else:
        sys.stdout.write(f"{chemin_html}\n")
    if a.constats:
        raise typer.Exit(CODE_PROBLEMES)


@app.command("reseau")
@commande
def reseau(
    ecole: OptEcole = None, vlan: OptVlan = None, attendus: OptAttendus = None, labo: OptLabo = False,
    acces: OptAcces = None, sortie: OptSortie = Path("sortie/audit"), fmt: OptFormatAudit = FormatAudit.html,
    inventaire: OptInventaire = None, base: OptBase = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Découverte (nmap, tables des commutateurs, DNS) comparée au manifeste. Code 1 s'il y a des constats."""
    _lancer(("reseau",), ecole, vlan, None, sortie, attendus, None, labo, acces, inventaire, base, fmt)


@app.command("filtrage")
@commande
def filtrage(
    ecole: OptEcole = None, depuis: OptDepuis = None, journal_proxy: OptJournal = None, labo: OptLabo = False,
    cle: OptCle = None, known_hosts: OptKnownHosts = None,
    sortie: OptSortie = Path("sortie/audit"), fmt: OptFormatAudit = FormatAudit.html,
    inventaire: OptInventaire = None, base: OptBase = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Le filtrage testé côté élève : catégories bloquées, ENT et GAR, contournements, journal du proxy."""
    _lancer(("filtrage",), ecole, None, depuis, sortie, None, journal_proxy, labo, None, inventaire, base, fmt,
            cle, known_hosts)  # fmt: skip


@app.command("debit")
@commande
def debit(
    ecole: OptEcole = None, sortie: OptSortie = Path("sortie/audit"), fmt: OptFormatAudit = FormatAudit.html,
    inventaire: OptInventaire = None, base: OptBase = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Débit et latence vers le serveur de l'école (iperf3 ; « iperf3 -s » doit tourner sur le serveur)."""
    _lancer(("debit",), ecole, None, None, sortie, None, None, False, None, inventaire, base, fmt)


@app.command("complet")
@commande
def complet(
    ecole: OptEcole = None, vlan: OptVlan = None, depuis: OptDepuis = None, attendus: OptAttendus = None,
    journal_proxy: OptJournal = None, labo: OptLabo = False, acces: OptAcces = None,
    cle: OptCle = None, known_hosts: OptKnownHosts = None,
    sortie: OptSortie = Path("sortie/audit"), fmt: OptFormatAudit = FormatAudit.html,
    inventaire: OptInventaire = None, base: OptBase = None, verbeux: OptVerbeux = 0, silencieux: OptSilencieux = False,
) -> None:  # fmt: skip
    """Tout l'audit (réseau, filtrage, débit) en un seul rapport."""
    _lancer(("reseau", "filtrage", "debit"), ecole, vlan, depuis, sortie, attendus, journal_proxy, labo, acces,
            inventaire, base, fmt, cle, known_hosts)  # fmt: skip
