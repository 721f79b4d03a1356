"""The renewal plan as printable A4 HTML (inline SVG charts) and as CSV."""

from __future__ import annotations

import csv
import io
from html import escape

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ardoise.parc.fin_support import table
from ardoise.parc.renouvellement import Annee, Plan

COULEURS = {
    "pc": "#1565c0", "tablette": "#2e7d32", "ipad": "#6a1b9a", "eni": "#ef6c00",
    "switch": "#00838f", "ap": "#9e9d24", "serveur": "#5d4037",
}  # fmt: skip
LIBELLES = {
    "pc": "PC", "tablette": "tablettes Android", "ipad": "iPad", "eni": "écrans numériques (ENI)",
    "switch": "commutateurs", "ap": "bornes Wi-Fi", "serveur": "serveurs",
}  # fmt: skip
DETAIL_MAX = 300  # devices listed per year in the HTML; beyond, the CSV export holds the detail
COLONNES_CSV = [
    "annee", "commune", "uai", "ecole", "nom", "type", "modele", "etat", "date_achat", "garantie_fin",
    "fin_support", "incidents_24_mois", "batterie_pct", "motif", "prix_unitaire",
]  # fmt: skip


def euros(valeur: float) -> str:
    """``12 345 €`` (French grouping with a narrow no-break space)."""
    entier = f"{round(valeur):,}".replace(",", "\u202f")
    return f"{entier}\u00a0€"


def _t(x: float, y: float, texte: str, **attrs: str) -> str:
    extra = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(texte)}</text>'


def graphique_annees(plan: Plan) -> Markup:
    """Budget per year, stacked by device type (one bar per year)."""
    lg, h, marge_g, marge_b, marge_h = 700, 260, 70, 40, 20
    maxi = max((a.budget for a in plan.annees), default=0) or 1
    largeur = (lg - marge_g - 20) / max(len(plan.annees), 1)
    zone = h - marge_b - marge_h
    morceaux = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {lg} {h + 30}" width="100%" role="img"'
                f' aria-label="Budget de renouvellement par année">']  # fmt: skip
    for i in range(5):
        v = maxi * i / 4
        y = h - marge_b - zone * i / 4
        morceaux.append(f'<line x1="{marge_g}" y1="{y:.1f}" x2="{lg - 10}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        morceaux.append(_t(marge_g - 6, y + 4, euros(v), text_anchor="end", font_size="10"))
    for i, a in enumerate(plan.annees):
        x = marge_g + i * largeur + largeur * 0.15
        w = largeur * 0.7
        y = h - marge_b
        for type_, (_n, budget) in a.par_type.items():
            hauteur = zone * budget / maxi
            y -= hauteur
            morceaux.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{hauteur:.1f}"'
                            f' fill="{COULEURS.get(type_, "#757575")}"><title>{escape(LIBELLES.get(type_, type_))}'
                            f" : {escape(euros(budget))}</title></rect>")  # fmt: skip
        morceaux.append(
            _t(x + w / 2, y - 4, euros(a.budget), text_anchor="middle", font_size="10", font_weight="bold")
        )
        morceaux.append(_t(x + w / 2, h - marge_b + 15, str(a.annee), text_anchor="middle", font_size="11"))
        morceaux.append(
            _t(x + w / 2, h - marge_b + 28, f"{len(a.lignes)} app.", text_anchor="middle", font_size="9")
        )
    x = marge_g
    for type_ in COULEURS:
        if any(type_ in a.par_type for a in plan.annees):
            morceaux.append(f'<rect x="{x}" y="{h + 14}" width="10" height="10" fill="{COULEURS[type_]}"/>')
            morceaux.append(_t(x + 14, h + 23, LIBELLES[type_], font_size="9"))
            x += 28 + 5.4 * len(LIBELLES[type_])
    morceaux.append("</svg>")
    return Markup("".join(morceaux))


def graphique_annee(a: Annee) -> Markup:
    """One year: a horizontal bar per device type (count and budget)."""
    lignes = list(a.par_type.items())
    lg, pas, marge_g = 700, 24, 170
    h = max(len(lignes), 1) * pas + 10
    maxi = max((b for _n, b in a.par_type.values()), default=0) or 1
    morceaux = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {lg} {h}" width="100%" role="img"'
                f' aria-label="Renouvellements {a.annee} par type">']  # fmt: skip
    for i, (type_, (n, budget)) in enumerate(lignes):
        y = 5 + i * pas
        w = (lg - marge_g - 150) * budget / maxi
        morceaux.append(
            _t(marge_g - 8, y + 15, f"{LIBELLES.get(type_, type_)} ({n})", text_anchor="end", font_size="11")
        )
        morceaux.append(f'<rect x="{marge_g}" y="{y + 3}" width="{max(w, 1):.1f}" height="{pas - 8}"'
                        f' fill="{COULEURS.get(type_, "#757575")}"/>')  # fmt: skip
        morceaux.append(_t(marge_g + w + 6, y + 15, euros(budget), font_size="11"))
    morceaux.append("</svg>")
    return Markup("".join(morceaux))


def _env() -> Environment:
    env = Environment(loader=PackageLoader("ardoise.parc", "gabarits"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    env.filters["euros"] = euros
    env.filters["date_fr"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
    return env


def html(plan: Plan) -> str:
    sources = [f for f in table() if any(ligne.fin_support is f for ligne in plan.lignes())]
    return _env().get_template("renouvellement.html.j2").render(
        p=plan, graphique=graphique_annees(plan), graphique_annee=graphique_annee, libelles=LIBELLES,
        couleurs=COULEURS, sources=sources, detail_max=DETAIL_MAX,
    )  # fmt: skip


def csv_texte(plan: Plan) -> str:
    """One row per device to renew; ``;``-separated, UTF-8 with BOM so that a spreadsheet reads accents."""
    sortie = io.StringIO()
    sortie.write("\ufeff")
    w = csv.DictWriter(sortie, fieldnames=COLONNES_CSV, delimiter=";", lineterminator="\n")
    w.writeheader()
    for ligne in plan.lignes():
        w.writerow(ligne.en_dict())
    return sortie.getvalue()
