"""Maintenance reports from the store: per school and per commune, as HTML (A4, no external asset), JSON, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from dataclasses import dataclass, field
from html import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.maintenance.catalogue import catalogue
from ardoise.maintenance.historique import (
    LigneHote,
    comptes_par_execution,
    comptes_par_jour,
    derniers,
    derniers_etats,
)
from ardoise.resultats.forme import etat_appareil
from ardoise.resultats.magasin import Magasin

COULEURS = {"OK": "#2e7d32", "ATTENTION": "#ef8f00", "CRITIQUE": "#c62828", "INCONNU": "#9e9e9e",
            "injoignable": "#4a148c"}  # fmt: skip
STATUTS_FR = {
    "ok": "vérifié",
    "injoignable": "injoignable",
    "refuse": "refusé",
    "echec": "échec",
    "ignore": "ignoré",
}


@dataclass
class Point:
    execution_id: int | None  # None: a day summarised by the retention policy
    date: dt.datetime
    ok: int = 0
    attention: int = 0
    critique: int = 0
    injoignable: int = 0


@dataclass
class EcoleRapport:
    uai: str
    nom: str
    commune: str
    appareils: list[dict] = field(default_factory=list)  # latest state of each device
    tendance: list[Point] = field(default_factory=list)
    a_visiter: list[dict] = field(default_factory=list)
    compte: dict[str, int] = field(default_factory=dict)
    nom_commune: str = ""


@dataclass
class Rapport:
    titre: str
    genere_le: dt.datetime
    depuis: dt.datetime | None
    verifications: list[tuple[str, str]]  # (name, French label) in catalogue order
    ecoles: list[EcoleRapport]

    def communes(self) -> list[tuple[str, list[EcoleRapport]]]:
        """(commune name, its schools) in manifest order."""
        par: dict[str, list[EcoleRapport]] = {}
        for e in self.ecoles:
            par.setdefault(e.nom_commune or e.commune, []).append(e)
        return list(par.items())


def _etat_appareil(lg: LigneHote) -> str:
    """The device's overall level: injoignable, or its worst check."""
    return etat_appareil(lg.statut, {v["niveau"] for v in lg.verifications})


CHAMPS = {"OK": "ok", "ATTENTION": "attention", "CRITIQUE": "critique", "injoignable": "injoignable"}


def _tendances(magasin: Magasin, uais: list[str], depuis: dt.datetime | None) -> dict[str, list[Point]]:
    """School → trend points: one per run, and one per day for the days the retention summarised."""
    points: dict[str, dict[object, Point]] = {u: {} for u in uais}
    resumes_jusqua: dict[str, dt.date] = {}
    for u, jour, etat, n in comptes_par_jour(magasin, uais, depuis):
        p = points[u].setdefault(jour, Point(None, dt.datetime.combine(jour, dt.time(), dt.UTC)))
        setattr(p, CHAMPS.get(etat, "injoignable"), getattr(p, CHAMPS.get(etat, "injoignable")) + n)
        resumes_jusqua[u] = max(jour, resumes_jusqua.get(u, jour))
    for u, ex, debut, etat, n in comptes_par_execution(magasin, uais, depuis):
        if u in resumes_jusqua and debut.date() <= resumes_jusqua[u]:
            continue  # that day is counted by its summary (only each device's last result is left)
        p = points[u].setdefault(ex, Point(ex, debut))
        setattr(p, CHAMPS.get(etat, "injoignable"), getattr(p, CHAMPS.get(etat, "injoignable")) + n)
    return {u: sorted(ps.values(), key=lambda p: p.date) for u, ps in points.items()}


def construire(
    t: Territoire, selection: Selection, magasin: Magasin, depuis: dt.datetime | None = None
) -> Rapport:
    ecoles = list(selection.ecoles_de(t))
    uais = [e.uai for e in ecoles]
    par_ecole: dict[str, list[LigneHote]] = {}
    for lg in derniers(magasin, uais, depuis):
        par_ecole.setdefault(lg.uai or "", []).append(lg)
    tendances = _tendances(magasin, uais, depuis)
    rapports = []
    for e in ecoles:
        er = EcoleRapport(e.uai, e.nom, e.commune, nom_commune=t.commune(e.commune).nom)
        er.tendance = tendances.get(e.uai, [])
        compte = {"OK": 0, "ATTENTION": 0, "CRITIQUE": 0, "injoignable": 0}
        for nom, lg in sorted(derniers_etats(par_ecole.get(e.uai, [])).items()):
            etat = _etat_appareil(lg)
            compte[etat] += 1
            verifs = {v["nom"]: v for v in lg.verifications}
            er.appareils.append({"nom": nom, "etat": etat, "statut": lg.statut, "raison": lg.raison,
                                 "horodatage": lg.horodatage, "verifications": verifs})  # fmt: skip
            raisons = [lg.raison or STATUTS_FR.get(lg.statut, lg.statut)] if lg.statut != "ok" else []
            raisons += [f"{v['nom']} : {v['message']}" for v in lg.verifications if v["niveau"] == "CRITIQUE"]
            if raisons:
                er.a_visiter.append({"nom": nom, "raisons": raisons, "etat": etat})
        er.compte = compte
        rapports.append(er)
    if selection.ecoles and len(ecoles) == 1:
        titre = f"Maintenance — {ecoles[0].nom} ({ecoles[0].uai})"
    elif selection.communes:
        noms = [t.commune(c).nom for c in selection.communes]
        titre = f"Maintenance — commune de {', '.join(noms)}"
    else:
        titre = f"Maintenance — {t.syndicat.nom}"
    verifs = [(c.nom, c.libelle) for c in catalogue().values()]
    return Rapport(titre, dt.datetime.now(dt.UTC), depuis, verifs, rapports)


# -- SVG trend --------------------------------------------------------------------------------
def svg_tendance(points: list[Point], largeur: int = 640, hauteur: int = 130) -> Markup:
    """Stacked bars per run (OK, attention, critique, injoignable), inline SVG, no script."""
    if not points:
        return Markup('<p class="vide">Pas encore d\'historique.</p>')
    points = points[-30:]
    marge_g, marge_b, marge_h = 28, 22, 6
    zone_h = hauteur - marge_b - marge_h
    maxi = max(p.ok + p.attention + p.critique + p.injoignable for p in points) or 1
    pas = (largeur - marge_g) / len(points)
    barre = max(4.0, min(36.0, pas * 0.7))
    etiquette = max(1, math.ceil(70 / pas))  # a label is ~65 px wide
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {largeur} {hauteur}" width="{largeur}" height="{hauteur}" role="img" aria-label="Tendance des dernières maintenances">'
    ]
    parts.append(
        f'<line x1="{marge_g}" y1="{marge_h + zone_h}" x2="{largeur}" y2="{marge_h + zone_h}" stroke="#555" stroke-width="1"/>'
    )
    parts.append(f'<text x="{marge_g - 4}" y="{marge_h + 8}" font-size="9" text-anchor="end">{maxi}</text>')
    parts.append(f'<text x="{marge_g - 4}" y="{marge_h + zone_h}" font-size="9" text-anchor="end">0</text>')
    for i, p in enumerate(points):
        x = marge_g + i * pas + (pas - barre) / 2
        y = marge_h + zone_h
        for valeur, cle in (
            (p.ok, "OK"),
            (p.attention, "ATTENTION"),
            (p.critique, "CRITIQUE"),
            (p.injoignable, "injoignable"),
        ):
            if valeur:
                h = zone_h * valeur / maxi
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{barre:.1f}" height="{h:.1f}" fill="{COULEURS[cle]}">'
                             f'<title>{p.date.astimezone():%d/%m %H:%M} : {valeur} {cle.lower()}</title></rect>')  # fmt: skip
        if i % etiquette == 0:  # one date label every few bars so labels never overlap
            parts.append(
                f'<text x="{x + barre / 2:.1f}" y="{hauteur - 8}" font-size="9" text-anchor="middle">{p.date.astimezone():%d/%m %Hh%M}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _env() -> Environment:
    env = Environment(loader=PackageLoader("ardoise.maintenance", "gabarits"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    env.globals.update(couleurs=COULEURS, svg_tendance=svg_tendance, statuts=STATUTS_FR, escape=escape)
    env.filters["date_fr"] = lambda d: d.astimezone().strftime("%d/%m/%Y %H:%M") if d else ""
    return env


def en_html(r: Rapport) -> str:
    return _env().get_template("rapport.html.j2").render(r=r)


def en_json(r: Rapport) -> str:
    donnees = {
        "titre": r.titre, "genere_le": r.genere_le.isoformat(), "depuis": r.depuis.isoformat() if r.depuis else None,
        "ecoles": [
            {"uai": e.uai, "nom": e.nom, "commune": e.commune, "compte": e.compte,
             "a_visiter": e.a_visiter,
             "tendance": [{"execution": p.execution_id, "date": p.date.isoformat(), "ok": p.ok, "attention": p.attention,
                           "critique": p.critique, "injoignable": p.injoignable} for p in e.tendance],
             "appareils": [{**a, "horodatage": a["horodatage"].isoformat()} for a in e.appareils]}
            for e in r.ecoles
        ],
    }  # fmt: skip
    return json.dumps(donnees, ensure_ascii=False, indent=2) + "\n"


def en_csv(r: Rapport) -> str:
    """One row per device × check of the latest state (``;``-separated, like every Ardoise CSV)."""
    sortie = io.StringIO()
    w = csv.writer(sortie, delimiter=";", lineterminator="\n")
    w.writerow(
        ["uai", "commune", "appareil", "statut", "horodatage", "verification", "niveau", "valeur", "message"]
    )
    for e in r.ecoles:
        for a in e.appareils:
            h = a["horodatage"].isoformat()
            if not a["verifications"]:
                w.writerow([e.uai, e.commune, a["nom"], a["statut"], h, "", "", "", a["raison"] or ""])
            for v in a["verifications"].values():
                w.writerow(
                    [
                        e.uai,
                        e.commune,
                        a["nom"],
                        a["statut"],
                        h,
                        v["nom"],
                        v["niveau"],
                        v["valeur"] or "",
                        v["message"],
                    ]
                )
    return sortie.getvalue()
