"""``ardoise atelier preparer|verifier|fiche|etat``: prepare a batch of PCs before delivery."""

from __future__ import annotations

import sys
import threading
from enum import StrEnum
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
    help="L'atelier : préparer un lot de PC avant livraison, les vérifier, éditer la fiche de livraison.",
    no_args_is_help=True,
)

OptEcole = Annotated[
    str | None, typer.Option("--ecole", help="Les PC de cette école (UAI) à l'état « atelier ».")
]
OptPostes = Annotated[
    str | None,
    typer.Option("--postes", help="Appareils par nom (séparés par des virgules).", show_default=False),
]
OptLot = Annotated[
    Path | None,
    typer.Option("--lot", help="Fichier de lot : un nom d'appareil par ligne.", show_default=False),
]
OptParallele = Annotated[
    int, typer.Option("--parallele", min=1, max=200, help="Postes préparés en même temps.")
]
OptCle = Annotated[
    Path | None,
    typer.Option(
        "--cle", envvar="ARDOISE_CLE_SSH", help="Clé SSH privée du compte technicien.", show_default=False
    ),
]
OptKnownHosts = Annotated[
    Path | None,
    typer.Option("--known-hosts", envvar="ARDOISE_KNOWN_HOSTS",
                 help="Clés d'hôte connues : la première connexion de l'atelier y est retenue, ensuite stricte.",
                 show_default=False),
]  # fmt: skip
OptUtilisateur = Annotated[
    str | None,
    typer.Option(
        "--utilisateur", help="Compte SSH (défaut : le technicien de la politique).", show_default=False
    ),
]
OptVariables = Annotated[
    list[Path] | None,
    typer.Option(
        "--variables",
        help="Fichier YAML de variables Ansible en plus (relais APT de l'atelier…).",
        show_default=False,
    ),
]
OptLabo = Annotated[
    bool,
    typer.Option(
        "--labo", help="Préparer les postes du laboratoire démarré (clé, relais APT, signatures du labo)."
    ),
]


class _Vue:
    """Live progress on stderr: one line per device with its current step."""

    def __init__(self, noms: list[str], silencieux: bool) -> None:
        self.silencieux = silencieux
        self.tty = sys.stderr.isatty()
        self.etapes = dict.fromkeys(noms, "en attente")
        self.verrou = threading.Lock()
        self.live = None
        if self.tty and not silencieux:
            from rich.live import Live

            self.live = Live(self._rendu(), console=console_err, refresh_per_second=4, transient=False)

    def _rendu(self):
        from rich.table import Table

        t = Table(show_header=False, box=None, pad_edge=False)
        for n, e in self.etapes.items():
            t.add_row(n, e)
        return t

    def __enter__(self):
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live:
            self.live.__exit__(*exc)

    def __call__(self, suivi) -> None:
        if self.silencieux:
            return
        with self.verrou:
            if self.etapes.get(suivi.nom) == suivi.etape:
                return
            self.etapes[suivi.nom] = suivi.etape
            if self.live:
                self.live.update(self._rendu())
            else:
                sys.stderr.write(f"{suivi.nom} : {suivi.etape}\n")
                sys.stderr.flush()


def _connexion(labo: bool, cle, utilisateur, known_hosts, variables):
    import yaml

    from ardoise.atelier.preparation import Connexion

    c = Connexion(cle=cle, utilisateur=utilisateur, known_hosts=known_hosts)
    if labo:
        from ardoise.atelier.labo import acces, agrandir_disques
        from ardoise.labo.labo import Labo

        a = acces(known_hosts=known_hosts)
        agrandir_disques(Labo())  # a pupil profile does not fit the lab PCs' default 1 GiB
        c = Connexion(cle=cle or a.cle, utilisateur=utilisateur or a.utilisateur, known_hosts=a.known_hosts,
                      variables=dict(a.variables), postes_labo=a.postes)  # fmt: skip
    for f in variables or ():
        try:
            donnees = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ErreurUsage(f"fichier de variables illisible : {f} ({e})") from None
        if not isinstance(donnees, dict):
            raise ErreurUsage(f"fichier de variables {f} : un dictionnaire YAML est attendu")
        c.variables.update(donnees)
    if c.known_hosts is None:
        c.known_hosts = Path.home() / ".ssh" / "known_hosts"
    return c


COLONNES = ["poste", "etat", "etape", "raison"]


def _lancer(seulement_verifier: bool, ecole, postes, lot, parallele, reprendre, cle, known_hosts, utilisateur,
            variables, labo, base, inventaire, format, silencieux, seuil_echec=None) -> None:  # fmt: skip
    from ardoise.atelier import postes as choix
    from ardoise.atelier.preparation import Seuil, preparer
    from ardoise.resultats.magasin import Magasin

    seuil = Seuil.lire(seuil_echec) if seuil_echec is not None else None
    t = territoire(inventaire)
    noms = tuple(n.strip() for n in (postes or "").split(",") if n.strip())
    le_lot = choix.choisir(t, ecole, noms, lot)
    connexion = _connexion(labo, cle, utilisateur, known_hosts, variables)
    if labo:
        le_lot = choix.restreindre(le_lot, connexion.postes_labo, "absent du laboratoire démarré")
    magasin = Magasin(base)
    for eq, raison in le_lot.ignores:
        if not silencieux:
            console_err.print(f"{eq.nom} : ignoré — {raison}", highlight=False)
    with _Vue([p.nom for p in le_lot.postes], silencieux) as vue:
        bilan = preparer(t, le_lot, magasin, connexion, parallele, reprendre, changement=vue,
                         seulement_verifier=seulement_verifier, seuil=seuil)  # fmt: skip
    lignes = [
        {
            "poste": n,
            "etat": e,
            "etape": bilan.resultats[n].etape or "",
            "raison": bilan.resultats[n].raison or "",
        }
        for n, e in bilan.etats().items()
    ]
    if not lignes and not silencieux:
        console_err.print("rien à faire : tous les postes du lot sont déjà prêts")
    if bilan.arret:
        console_err.print(f"ARRÊT DU LOT : {bilan.arret}", highlight=False)
    afficher(lignes, format, COLONNES, titre=f"Atelier, lot {bilan.lot} (exécution n° {bilan.execution_id})")
    if not silencieux:
        console_err.print(
            f"résultats enregistrés (exécution n° {bilan.execution_id}) ; état : ardoise atelier etat --lot {bilan.lot}",
            highlight=False,
        )
    raise typer.Exit(1 if any(e != "pret" for e in bilan.etats().values()) else 0)


@app.command("preparer")
@commande
def preparer(
    ecole: OptEcole = None,
    postes: OptPostes = None,
    lot: OptLot = None,
    parallele: OptParallele = 10,
    reprendre: Annotated[
        bool, typer.Option("--reprendre", help="Ne refaire que les postes en échec ou jamais passés.")
    ] = False,
    cle: OptCle = None,
    known_hosts: OptKnownHosts = None,
    utilisateur: OptUtilisateur = None,
    variables: OptVariables = None,
    labo: OptLabo = False,
    seuil_echec: Annotated[
        str | None,
        typer.Option(
            "--seuil-echec",
            help="Arrêter le lot avant l'étape suivante (préparation, vérification) dès que les échecs dépassent"
            " N postes ou P% du lot (ex. 3 ou 10%). Les postes non tentés sont notés dans la base.",
            show_default=False,
        ),
    ] = None,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Prépare les postes (précontrôle, playbook atelier, vérifications) et enregistre chacun : prêt, en échec
    (étape, raison) ou non tenté (seuil d'échec dépassé).

    Code de sortie : 0 si tous les postes sont prêts, 1 sinon (un poste injoignable, en échec ou non tenté ;
    chacun est nommé avec sa raison).
    """
    _lancer(False, ecole, postes, lot, parallele, reprendre, cle, known_hosts, utilisateur, variables, labo, base,
            inventaire, format, silencieux, seuil_echec)  # fmt: skip


@app.command("verifier")
@commande
def verifier(
    ecole: OptEcole = None,
    postes: OptPostes = None,
    lot: OptLot = None,
    parallele: OptParallele = 10,
    cle: OptCle = None,
    known_hosts: OptKnownHosts = None,
    utilisateur: OptUtilisateur = None,
    variables: OptVariables = None,
    labo: OptLabo = False,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Refait seulement le précontrôle et la liste de vérifications des postes (ne change rien sur les postes)."""
    _lancer(True, ecole, postes, lot, parallele, False, cle, known_hosts, utilisateur, variables, labo, base,
            inventaire, format, silencieux)  # fmt: skip


class FormatFiche(StrEnum):
    html = "html"
    pdf = "pdf"
    csv = "csv"


@app.command("fiche")
@commande
def fiche(
    ecole: Annotated[str, typer.Option("--ecole", help="École (UAI).")],
    format: Annotated[
        FormatFiche, typer.Option("--format", help="html (A4 imprimable), pdf ou csv.")
    ] = FormatFiche.html,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie",
            "-o",
            help="Fichier à écrire (défaut : sortie/fiche-<UAI>.<format>).",
            show_default=False,
        ),
    ] = None,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Fiche de livraison (bon de livraison / PV de remise) des postes préparés pour une école."""
    from ardoise.atelier import fiche as f
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    donnees = f.donnees_fiche(t, t.ecole(ecole).uai, Magasin(base))
    contenu: bytes | str
    if format is FormatFiche.csv:
        contenu = f.en_csv(donnees)
    elif format is FormatFiche.pdf:
        contenu = f.en_pdf(donnees)
    else:
        contenu = f.en_html(donnees)
    chemin = sortie or Path("sortie") / f"fiche-{donnees.uai}.{format.value}"
    chemin.parent.mkdir(parents=True, exist_ok=True)
    chemin.write_bytes(contenu if isinstance(contenu, bytes) else contenu.encode("utf-8"))
    if not silencieux:
        console_err.print(
            f"fiche de livraison de {donnees.uai} : {len(donnees.postes)} poste(s), {donnees.prets} prêt(s) → {chemin}",
            highlight=False,
        )


@app.command("etat")
@commande
def etat(
    lot: Annotated[
        str | None, typer.Option("--lot", help="Nom du lot (défaut : le dernier).", show_default=False)
    ] = None,
    base: OptBase = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Où en est chaque poste d'un lot (atelier, prêt, échec), avec l'étape et la raison d'un échec."""
    from ardoise.atelier.preparation import GENRE
    from ardoise.resultats.magasin import Magasin

    magasin = Magasin(base)
    executions = [e for e in magasin.executions(GENRE) if lot is None or e.lot == lot]
    if not executions:
        raise ErreurUsage(
            f"aucun lot « {lot} » dans la base de résultats" if lot else "aucun lot d'atelier enregistré"
        )
    nom = executions[-1].lot
    noms: list[str] = []
    for e in executions:
        if e.lot == nom:
            noms += [n for n in e.selection.get("postes", []) if n not in noms]
    etats = magasin.etats(noms)
    lignes = [
        {"poste": n, "etat": etats.get(n, {}).get("etat", "jamais"), "depuis": etats.get(n, {}).get("depuis"),
         "etape": etats.get(n, {}).get("etape") or "", "raison": etats.get(n, {}).get("raison") or ""}
        for n in noms
    ]  # fmt: skip
    afficher(lignes, format, ["poste", "etat", "depuis", "etape", "raison"], titre=f"Lot {nom}")
