"""The audit report: HTML (a summary a head of school can read, technical detail below; no external asset) and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from ardoise.audit.constat import Gravite
from ardoise.audit.execution import Audit

LIBELLES_GRAVITE = {
    "critique": "Critique",
    "haute": "Importante",
    "moyenne": "À corriger",
    "basse": "Mineure",
}
COULEURS = {"critique": "#b71c1c", "haute": "#e65100", "moyenne": "#f9a825", "basse": "#607d8b"}
PARTIES = {"reseau": "Réseau", "filtrage": "Filtrage (côté élèves)", "debit": "Débit"}


def _env() -> Environment:
    return Environment(loader=PackageLoader("ardoise.audit", "gabarits"), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)  # fmt: skip


def phrase_synthese(a: Audit) -> str:
    """One sentence for the head of school."""
    graves = [c for c in a.constats if c.gravite in (Gravite.critique, Gravite.haute)]
    if not a.constats:
        return "Aucun problème trouvé : le réseau de l'école est conforme à ce qui est déclaré."
    if graves:
        return (f"{len(graves)} problème(s) important(s) à traiter rapidement, sur {len(a.constats)} constat(s) "
                "au total. Le détail et ce qu'il faut faire sont ci-dessous.")  # fmt: skip
    return f"{len(a.constats)} point(s) à corriger, sans urgence. Le détail et ce qu'il faut faire sont ci-dessous."


def html(a: Audit) -> str:
    return _env().get_template("rapport.html.j2").render(
        a=a, synthese=phrase_synthese(a), gravites=LIBELLES_GRAVITE, couleurs=COULEURS, parties=PARTIES,
        resume=a.resume(),
    )  # fmt: skip


def en_json(a: Audit) -> str:
    return json.dumps(a.en_dict(), ensure_ascii=False, indent=2, default=str) + "\n"


def ecrire(a: Audit, dossier: Path) -> tuple[Path, Path]:
    """Write ``audit-<uai>-<date>.html`` and ``.json`` in ``dossier``; return both paths."""
    dossier.mkdir(parents=True, exist_ok=True)
    base = dossier / f"audit-{a.uai.lower()}-{a.debut[:19].replace(':', '').replace('-', '')}"
    chemin_html, chemin_json = base.with_suffix(".html"), base.with_suffix(".json")
    chemin_html.write_text(html(a), encoding="utf-8")
    chemin_json.write_text(en_json(a), encoding="utf-8")
    return chemin_html, chemin_json
