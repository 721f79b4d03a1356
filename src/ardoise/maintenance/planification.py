"""Scheduling: systemd timer + service from the templates in ``scripts/systemd/``, inside the policy's
maintenance windows, skipped during the French school holidays of the schools' zone.

The holiday calendar is a data file shipped with Ardoise (``donnees/vacances-scolaires.csv``: one line per
holiday period and zone, with its source and date in its header); :func:`rafraichir` rebuilds it.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ardoise.erreurs import ErreurDroits, ErreurUsage
from ardoise.inventaire.modele import Plage
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.inventaire.types import Jour

RACINE = Path(__file__).resolve().parents[3]
GABARITS = RACINE / "scripts" / "systemd"
CALENDRIER = "vacances-scolaires.csv"
JOURS_SYSTEMD = {"lundi": "Mon", "mardi": "Tue", "mercredi": "Wed", "jeudi": "Thu", "vendredi": "Fri",
                 "samedi": "Sat", "dimanche": "Sun"}  # fmt: skip


# -- holidays ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Periode:
    zone: str
    debut: dt.date
    fin: dt.date  # last day of holidays, inclusive
    nom: str


@dataclass
class Calendrier:
    periodes: list[Periode]
    source: str = ""
    date: str = ""
    entete: list[str] = field(default_factory=list)

    @classmethod
    def charger(cls, chemin: Path | None = None) -> Calendrier:
        texte = chemin.read_text(encoding="utf-8") if chemin else (
            resources.files("ardoise.maintenance") / "donnees" / CALENDRIER).read_text(encoding="utf-8")  # fmt: skip
        entete = [ligne for ligne in texte.splitlines() if ligne.startswith("#")]
        meta = {m.group(1): m.group(2) for ligne in entete if (m := re.match(r"#\s*(\w+)\s*:\s*(.*)", ligne))}
        lignes = csv.DictReader(
            (ligne for ligne in texte.splitlines() if not ligne.startswith("#")), delimiter=";"
        )
        periodes = [Periode(r["zone"], dt.date.fromisoformat(r["debut"]), dt.date.fromisoformat(r["fin"]), r["nom"])
                    for r in lignes]  # fmt: skip
        return cls(periodes, meta.get("source", ""), meta.get("date", ""), entete)

    def vacances(self, zone: str, jour: dt.date) -> Periode | None:
        for p in self.periodes:
            if p.zone == zone and p.debut <= jour <= p.fin:
                return p
        return None

    def fin_couverture(self) -> dt.date:
        return max(p.fin for p in self.periodes)


def normaliser_zone(zone: str) -> str:
    z = zone.strip().upper().removeprefix("ZONE-").removeprefix("ZONE ")
    if z not in ("A", "B", "C"):
        raise ErreurUsage(f"zone de vacances « {zone} » inconnue : zone-a, zone-b ou zone-c")
    return z


def rafraichir(destination: Path | None = None) -> Path:
    """Rebuild the calendar file from the ``vacances-scolaires-france`` package's data (MIT; itself built
    from the Ministry's open data « Calendrier scolaire », data.education.gouv.fr)."""
    try:
        import vacances_scolaires_france as vsf
    except ImportError:
        raise ErreurUsage(
            "paquet vacances-scolaires-france absent : pip install vacances-scolaires-france"
        ) from None
    from importlib.metadata import version

    source = Path(vsf.__file__).parent / "data" / "data.csv"
    jours: dict[str, list[tuple[dt.date, str]]] = {"A": [], "B": [], "C": []}
    with source.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            for z in jours:
                if r[f"vacances_zone_{z.lower()}"] == "True":
                    jours[z].append((dt.date.fromisoformat(r["date"]), r["nom_vacances"]))
    periodes = []
    for z, liste in jours.items():
        for jour, nom in liste:
            if (
                periodes
                and periodes[-1].zone == z
                and periodes[-1].nom == nom
                and periodes[-1].fin == jour - dt.timedelta(days=1)
            ):
                periodes[-1] = Periode(z, periodes[-1].debut, jour, nom)
            else:
                periodes.append(Periode(z, jour, jour, nom))
    destination = destination or Path(str(resources.files("ardoise.maintenance") / "donnees" / CALENDRIER))
    with destination.open("w", encoding="utf-8", newline="") as f:
        f.write("# Vacances scolaires de France métropolitaine, zones A, B, C (une ligne par période et par zone ;\n"
                "# « fin » = dernier jour de vacances, inclus).\n"
                f"# source : paquet PyPI vacances-scolaires-france {version('vacances-scolaires-france')} (licence MIT),"
                " construit à partir des données ouvertes « Calendrier scolaire » du ministère de l'Éducation nationale\n"
                f"# date : {dt.date.today().isoformat()}\n"
                "# rafraîchir : python scripts/rafraichir-vacances.py (après pip install -U vacances-scolaires-france)\n")  # fmt: skip
        w = csv.writer(f, delimiter=";", lineterminator="\n")
        w.writerow(["zone", "debut", "fin", "nom"])
        for p in sorted(periodes, key=lambda p: (p.debut, p.zone)):
            w.writerow([p.zone, p.debut.isoformat(), p.fin.isoformat(), p.nom])
    return destination


# -- windows and units ------------------------------------------------------------------------
@dataclass
class Plan:
    nom: str  # unit base name
    jours: list[str]
    heure: str
    calendrier: str  # systemd OnCalendar
    duree_max_s: int  # until the end of the maintenance window
    zone: str | None
    arguments: list[str]
    inventaire: Path
    note_vacances: str
    fenetres: list[str]


def _minutes(h: str) -> int:
    hh, mm = h.split(":")
    return int(hh) * 60 + int(mm)


def lire_quand(quand: str) -> tuple[list[str], str]:
    """« mercredi 13:00 » or « lundi,jeudi 17h30 » → (days, "HH:MM")."""
    m = re.fullmatch(r"\s*([a-zé,\s]+?)\s+(\d{1,2})[:h](\d{2})\s*", quand.lower())
    if not m:
        raise ErreurUsage(f"« {quand} » : écrivez le jour puis l'heure, par exemple « mercredi 13:00 »")
    jours = [j.strip() for j in m.group(1).split(",") if j.strip()]
    inconnus = [j for j in jours if j not in Jour.__members__]
    if inconnus or not jours:
        raise ErreurUsage(
            f"jour(s) inconnu(s) : {', '.join(inconnus) or quand} ; jours : {', '.join(Jour.__members__)}"
        )
    hh, mm = int(m.group(2)), int(m.group(3))
    if hh > 23 or mm > 59:
        raise ErreurUsage(f"heure « {m.group(2)}:{m.group(3)} » impossible")
    return jours, f"{hh:02d}:{mm:02d}"


def _fenetre(fenetres: list[Plage], jour: str, heure: str) -> Plage | None:
    t = _minutes(heure)
    for f in fenetres:
        if jour in [j.value for j in f.jours] and _minutes(f.debut) <= t < _minutes(f.fin):
            return f
    return None


def _texte_fenetres(fenetres: list[Plage]) -> str:
    return ", ".join(f"{'/'.join(j.value for j in f.jours)} {f.debut}–{f.fin}" for f in fenetres) or "aucune"


def planifier(t: Territoire, selection: Selection, quand: str, hors_vacances: str | None,
              inventaire: Path | None = None) -> Plan:  # fmt: skip
    """Check ``quand`` against every selected school's maintenance windows and build the plan."""
    jours, heure = lire_quand(quand)
    ecoles = list(selection.ecoles_de(t))
    if not ecoles:
        raise ErreurUsage("aucune école sélectionnée")
    duree = 24 * 3600
    for e in ecoles:
        for j in jours:
            f = _fenetre(e.politique.fenetres_maintenance, j, heure)
            if f is None:
                raise ErreurUsage(
                    f"{j} {heure} est hors des fenêtres de maintenance de {e.nom} ({e.uai}) :"
                    f" {_texte_fenetres(e.politique.fenetres_maintenance)} (politique.fenetres_maintenance)"
                )
            duree = min(duree, (_minutes(f.fin) - _minutes(heure)) * 60)
    zone = None
    if hors_vacances == "politique":
        zones = sorted({e.politique.zone_vacances for e in ecoles})
        if len(zones) > 1:
            raise ErreurUsage(
                f"les écoles choisies sont dans plusieurs zones de vacances ({', '.join(zones)}) : planifiez-les séparément"
            )
        zone = zones[0]
    elif hors_vacances:
        zone = normaliser_zone(hors_vacances)
    cal = Calendrier.charger()
    note = (f"pas de lancement pendant les vacances de la zone {zone} (calendrier connu jusqu'au "
            f"{cal.fin_couverture():%d/%m/%Y})" if zone else "lancement aussi pendant les vacances")  # fmt: skip
    arguments = [a for c in selection.communes for a in ("--commune", c)]
    arguments += [a for u in selection.ecoles for a in ("--ecole", u)]
    suffixe = "-".join([*selection.communes, *(u.lower() for u in selection.ecoles)]) or "territoire"
    return Plan(
        nom=f"ardoise-maintenance-{suffixe}", jours=jours, heure=heure,
        calendrier=f"{','.join(JOURS_SYSTEMD[j] for j in jours)} *-*-* {heure}:00",
        duree_max_s=max(60, duree), zone=zone, arguments=arguments,
        inventaire=(inventaire or t.racine).resolve(), note_vacances=note,
        fenetres=sorted({_texte_fenetres(e.politique.fenetres_maintenance) for e in ecoles}),
    )  # fmt: skip


def _commande_ardoise() -> str:
    chemin = shutil.which("ardoise") or str(Path(sys.executable).with_name("ardoise"))
    return str(Path(chemin).resolve()) if Path(chemin).exists() else chemin


def rendre(plan: Plan) -> dict[str, str]:
    """Unit file name → content, from ``scripts/systemd/*.j2``."""
    env = Environment(
        loader=FileSystemLoader(GABARITS), undefined=StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    valeurs = {
        "plan": plan, "ardoise": _commande_ardoise(), "repertoire": str(RACINE),
        "base": os.environ.get("ARDOISE_BASE", ""), "arguments": " ".join(plan.arguments),
    }  # fmt: skip
    return {
        f"{plan.nom}.service": env.get_template("ardoise-maintenance.service.j2").render(**valeurs),
        f"{plan.nom}.timer": env.get_template("ardoise-maintenance.timer.j2").render(**valeurs),
    }


def ecrire(plan: Plan, dossier: Path) -> list[Path]:
    dossier.mkdir(parents=True, exist_ok=True)
    ecrits = []
    for nom, texte in rendre(plan).items():
        (dossier / nom).write_text(texte, encoding="utf-8")
        ecrits.append(dossier / nom)
    return ecrits


def installer(plan: Plan, dossier: Path = Path("/etc/systemd/system")) -> list[Path]:
    """Install the units and enable the timer (root, a running systemd)."""
    if os.geteuid() != 0:
        raise ErreurDroits("installer les unités systemd demande root")
    fichiers = ecrire(plan, dossier)
    for cmd in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", f"{plan.nom}.timer"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise ErreurUsage(
                f"« {' '.join(cmd)} » a échoué : {r.stderr.strip()} (systemd en cours d'exécution ?)"
            )
    return fichiers
