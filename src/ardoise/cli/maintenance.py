"""``ardoise maintenance lancer|rapport|purger|planifier|check-nagios|vacances``."""

from __future__ import annotations

import datetime as dt
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ardoise.cli.commun import (
    OptBase,
    OptCommune,
    OptEcole,
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
from ardoise.inventaire.selection import Selection

app = typer.Typer(
    help="La maintenance préventive : vérifier les appareils à distance, rapports, planification.",
    no_args_is_help=True,
)


COLONNES_BILAN = [
    "uai",
    "commune",
    "appareils",
    "ok",
    "attention",
    "critique",
    "injoignables",
    "refuses",
    "echecs",
]


def _liste(valeurs: list[str] | None) -> tuple[str, ...]:
    return tuple(v.strip() for x in valeurs or () for v in x.split(",") if v.strip())


class _Progression:
    """Live progress on stderr: hosts done / total, failures so far (one line, redrawn on a terminal);
    with ``-v``, one line per device as it ends (its result is already in the store)."""

    def __init__(self, silencieux: bool, verbeux: int = 0) -> None:
        self.silencieux = silencieux
        self.verbeux = verbeux
        self.tty = sys.stderr.isatty()
        self.dernier = 0.0

    def __call__(self, a) -> None:
        if self.silencieux:
            return
        if self.verbeux and not self.tty:
            sys.stderr.write(f"{a.dernier} : {a.dernier_statut} ({a.faits}/{a.total}), enregistré\n")
            sys.stderr.flush()
        maintenant = time.monotonic()
        if a.faits != a.total and maintenant - self.dernier < (0.1 if self.tty else 2.0):
            return
        self.dernier = maintenant
        ligne = f"maintenance : {a.faits}/{a.total} appareil(s) vérifié(s), {a.echecs} en échec"
        if self.tty:
            sys.stderr.write("\r\033[K" + ligne + ("\n" if a.faits == a.total else ""))
        else:
            sys.stderr.write(ligne + "\n")
        sys.stderr.flush()


@app.command("lancer")
@commande
def lancer(
    commune: OptCommune = None,
    ecole: OptEcole = None,
    postes: Annotated[
        list[str] | None, typer.Option("--postes", help="Appareils par nom (séparés par des virgules).")
    ] = None,
    verifications: Annotated[
        str | None, typer.Option("--verifications", help="Vérifications à faire (a,b,…) ; défaut : toutes.")
    ] = None,
    parallele: Annotated[
        int, typer.Option("--parallele", min=1, max=1000, help="Appareils vérifiés en même temps.")
    ] = 50,
    delai: Annotated[
        float, typer.Option("--delai", min=1, help="Délai maximal par appareil, en secondes.")
    ] = 120,
    cle: Annotated[
        Path | None,
        typer.Option(
            "--cle", envvar="ARDOISE_CLE_SSH", help="Clé SSH privée du compte technicien.", show_default=False
        ),
    ] = None,
    known_hosts: Annotated[
        Path | None,
        typer.Option(
            "--known-hosts",
            envvar="ARDOISE_KNOWN_HOSTS",
            help="Fichier des clés d'hôte connues (défaut : ~/.ssh/known_hosts).",
            show_default=False,
        ),
    ] = None,
    accepter_nouvelles_cles: Annotated[
        bool,
        typer.Option(
            "--accepter-nouvelles-cles",
            help="Accepter et retenir la clé d'un appareil jamais vu (une clé CHANGÉE reste refusée).",
        ),
    ] = False,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Vérifie les appareils à distance (une seule commande par appareil) et enregistre chaque résultat.

    Code de sortie : 0 si tout est correct, 1 si un appareil est injoignable ou a une vérification CRITIQUE.
    """
    from ardoise.maintenance.catalogue import choisir
    from ardoise.maintenance.execution import lancer as lancer_maintenance
    from ardoise.maintenance.moteur import ParametresSsh
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ()), noms=_liste(postes))
    controles = choisir(list(_liste([verifications])) if verifications else None)
    magasin = Magasin(base)
    ssh = ParametresSsh(
        cle=cle, known_hosts=known_hosts, accepter_nouvelles_cles=accepter_nouvelles_cles, delai_hote=delai
    )
    bilan = lancer_maintenance(t, sel, controles, magasin, ssh, parallele, _Progression(silencieux, verbeux))
    lignes = bilan.par_ecole()
    afficher(lignes, format, COLONNES_BILAN, titre=f"Maintenance n° {bilan.execution_id} : bilan par école")
    if not silencieux:
        for c, r in zip(bilan.cibles, bilan.resultats, strict=True):
            if r.echoue:
                console_err.print(f"{c.nom} : {r.raison}", highlight=False)
        console_err.print(
            f"résultats enregistrés (exécution n° {bilan.execution_id}) ; rapport : ardoise maintenance rapport"
        )
    mauvais = any(
        r.echoue or any(v.niveau.value == "CRITIQUE" for v in r.verifications) for r in bilan.resultats
    )
    raise typer.Exit(1 if mauvais else 0)


class FormatRapport(StrEnum):
    html = "html"
    json = "json"
    csv = "csv"


def _date(texte: str | None) -> dt.datetime | None:
    if not texte:
        return None
    for f in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(texte, f).replace(tzinfo=dt.UTC)
        except ValueError:
            pass
    raise ErreurUsage(f"date « {texte} » illisible : écrivez JJ/MM/AAAA ou AAAA-MM-JJ")


@app.command("rapport")
@commande
def rapport(
    commune: OptCommune = None,
    ecole: OptEcole = None,
    depuis: Annotated[
        str | None, typer.Option("--depuis", help="Historique depuis cette date (JJ/MM/AAAA).")
    ] = None,
    format: Annotated[
        FormatRapport, typer.Option("--format", help="html, json ou csv.")
    ] = FormatRapport.html,
    sortie: Annotated[
        Path | None,
        typer.Option(
            "--sortie", "-o", help="Fichier à écrire (défaut : sortie standard).", show_default=False
        ),
    ] = None,
    base: OptBase = None,
    inventaire: OptInventaire = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Rapport de maintenance par école ou par commune : état de chaque appareil, tendance, appareils à visiter."""
    from ardoise.maintenance import rapport as r
    from ardoise.resultats.magasin import Magasin

    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ())).verifier(t)
    donnees = r.construire(t, sel, Magasin(base), _date(depuis))
    texte = {"html": r.en_html, "json": r.en_json, "csv": r.en_csv}[format.value](donnees)
    if sortie:
        sortie.parent.mkdir(parents=True, exist_ok=True)
        sortie.write_text(texte, encoding="utf-8")
        if not silencieux:
            console_err.print(f"rapport écrit : {sortie}")
    else:
        sys.stdout.write(texte)


@app.command("purger")
@commande
def purger(
    garder: Annotated[
        int,
        typer.Option(
            "--garder", min=1, help="Jours de détail conservés ; au-delà, un résumé par appareil et par jour."
        ),
    ] = 90,
    base: OptBase = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Rétention : résume par appareil et par jour les résultats de maintenance de plus de N jours, puis en
    supprime le détail (le dernier résultat et la dernière réussite de chaque appareil restent).

    Relancer ne change rien. Les journaux de filtrage (conservation légale d'un an) ne sont pas dans
    cette base : ils restent sur le serveur de l'école.
    """
    from ardoise.maintenance.retention import purger as purger_resultats
    from ardoise.resultats.magasin import Magasin

    bilan = purger_resultats(Magasin(base), garder)
    afficher(
        bilan.en_lignes(), format, ["element", "valeur"], titre=f"Rétention : {garder} jour(s) de détail"
    )


@app.command("planifier")
@commande
def planifier(
    quand: Annotated[str, typer.Option("--quand", help="Jour et heure, par ex. « mercredi 13:00 ».")],
    commune: OptCommune = None,
    ecole: OptEcole = None,
    hors_vacances: Annotated[
        str | None,
        typer.Option("--hors-vacances", help="zone-a, zone-b ou zone-c (défaut : zone de la politique)."),
    ] = None,
    pendant_vacances: Annotated[
        bool, typer.Option("--pendant-vacances", help="Lancer aussi pendant les vacances scolaires.")
    ] = False,
    dossier: Annotated[Path, typer.Option("--dossier", help="Où écrire les unités systemd.")] = Path(
        "sortie/systemd"
    ),
    installer: Annotated[
        bool, typer.Option("--installer", help="Installer dans /etc/systemd/system et activer le minuteur.")
    ] = False,
    inventaire: OptInventaire = None,
    format: OptFormat = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Écrit le minuteur et le service systemd de la maintenance, dans les fenêtres de maintenance de la politique."""
    from ardoise.maintenance import planification as p

    t = territoire(inventaire)
    sel = Selection(tuple(commune or ()), tuple(ecole or ())).verifier(t)
    plan = p.planifier(
        t, sel, quand, None if pendant_vacances else (hors_vacances or "politique"), inventaire
    )
    fichiers = p.ecrire(plan, dossier)
    if installer:
        fichiers = p.installer(plan)
    afficher(
        [{"fichier": str(f)} for f in fichiers],
        format,
        ["fichier"],
        titre=f"Planification : {plan.calendrier}",
    )
    if not silencieux:
        console_err.print(f"prochain lancement : {plan.calendrier} ; {plan.note_vacances}", highlight=False)


@app.command("vacances")
@commande
def vacances(
    zone: Annotated[str, typer.Option("--zone", help="A, B ou C (ou zone-a…).")] = "A",
    date: Annotated[str | None, typer.Option("--date", help="JJ/MM/AAAA (défaut : aujourd'hui).")] = None,
    verbeux: OptVerbeux = 0,
    silencieux: OptSilencieux = False,
) -> None:
    """Dit si la date tombe pendant des vacances scolaires (code 1) ou non (code 0) ; sert au service planifié."""
    from ardoise.maintenance.planification import Calendrier, normaliser_zone

    jour = (_date(date) or dt.datetime.now()).date()
    cal = Calendrier.charger()
    periode = cal.vacances(normaliser_zone(zone), jour)
    if periode:
        if not silencieux:
            console_err.print(
                f"{jour:%d/%m/%Y} : {periode.nom} (zone {periode.zone}) — pas de maintenance", highlight=False
            )
        raise typer.Exit(1)
    if not silencieux:
        console_err.print(
            f"{jour:%d/%m/%Y} : période scolaire (zone {normaliser_zone(zone)})", highlight=False
        )


@app.command("check-nagios")
def check_nagios(
    ecole: Annotated[str, typer.Option("--ecole", help="École (UAI).")],
    age_max: Annotated[
        float,
        typer.Option("--age-max", help="Âge maximal du dernier passage, en heures (au-delà : UNKNOWN)."),
    ] = 26,
    base: OptBase = None,
    inventaire: OptInventaire = None,
) -> None:
    """Greffon Nagios/Centreon : une ligne d'état avec données de performance ; code 0/1/2/3."""
    from ardoise.maintenance.nagios import verifier

    ligne, code = verifier(ecole, base, inventaire, age_max)
    sys.stdout.write(ligne + "\n")
    raise typer.Exit(code)
