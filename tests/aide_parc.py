"""Shared helpers of the parc tests and benchmark: a copy of the example territory, a generated commune."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import yaml
from ruamel.yaml import YAML

from ardoise.inventaire.types import cle_uai

RACINE = Path(__file__).resolve().parents[1]
COMMUNE_GENEREE = "generee"

# (type, os, profil, modèle) cycled over the generated devices; some models hit the end-of-support table
GABARITS = [
    ("pc", "debian", "pc-eleve", "Lenovo ThinkCentre M70q"),
    ("pc", "windows", "pc-enseignant", "Dell OptiPlex 3050"),  # Windows 10 only: support ended 2025-10-14
    ("pc", "primtux", "pc-eleve-primtux", "HP ProDesk 400 G9"),
    ("pc", "windows", "pc-enseignant", "Lenovo ThinkPad E14"),  # its own price in the example list
    ("tablette", "android", "tablette-android", "Samsung Galaxy Tab A9+"),  # patches estimated to 2027-10
    ("tablette", "android", "tablette-android", "Samsung Galaxy Tab A8"),  # estimated to 2026-01
    ("ipad", "ipados", "ipad", "Apple iPad 10e génération"),
    ("eni", "android", "eni", "Speechi ENI 75 pouces"),
]


def copier_exemple(dest: Path) -> Path:
    """``inventaire/`` and ``profils_terminaux/`` of the repository copied under ``dest``; the inventory path."""
    shutil.copytree(RACINE / "inventaire", dest / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", dest / "profils_terminaux")
    return dest / "inventaire"


def generer_commune(inventaire: Path, appareils: int = 5000, par_ecole: int = 200) -> Path:
    """Add the commune ``generee`` with ``appareils`` terminals (valid manifest) to a copied inventory.

    Device ``i`` (0-based, territory-wide order): purchase year 2018 + i % 9, purchase date missing
    when i % 37 == 0 (warranty end then used), no date at all when i % 101 == 0, ``reforme`` when
    i % 53 == 0. Licence counts are removed from the copied catalogue (too few for 5,000 devices).
    """
    catalogue = inventaire.parent / "profils_terminaux" / "catalogue.yml"
    catalogue.write_text(
        re.sub(r"(?m)^\s+licences: \d+\n", "", catalogue.read_text(encoding="utf-8")), encoding="utf-8"
    )
    territoire = inventaire / "territoire.yml"
    y = YAML()
    y.preserve_quotes = True
    y.indent(mapping=2, sequence=4, offset=2)
    donnees = y.load(territoire.read_text(encoding="utf-8"))
    donnees["communes"].append({"id": COMMUNE_GENEREE, "nom": "Commune générée", "insee": "33999"})
    with territoire.open("w", encoding="utf-8") as f:
        y.dump(donnees, f)
    dossier = inventaire / "communes" / COMMUNE_GENEREE / "ecoles"
    dossier.mkdir(parents=True)
    n_ecoles = (appareils + par_ecole - 1) // par_ecole
    i = 0
    for e in range(n_ecoles):
        sept = f"{9000000 + e:07d}"
        uai = sept + cle_uai(sept)
        postes = []
        for _ in range(min(par_ecole, appareils - i)):
            type_, os, profil, modele = GABARITS[i % len(GABARITS)]
            achat = dt.date(2018 + i % 9, 1 + i % 12, 1 + i % 28)
            p = {"nom": f"{type_}-g{e:03d}-{i:05d}", "type": type_, "modele": modele, "os": os, "profil": profil,
                 "numero_serie": f"GEN{i:06d}", "mac": "02:bb:" + ":".join(f"{(i >> s) & 0xFF:02x}" for s in (24, 16, 8, 0)),
                 "etat": "reforme" if i % 53 == 0 else "en_service"}  # fmt: skip
            if i % 101 != 0:
                p["garantie"] = {
                    "fournisseur": "ugap",
                    "fin": (achat.replace(year=achat.year + 3)).isoformat(),
                }
                if i % 37 != 0:
                    p["date_achat"] = achat.isoformat()
            postes.append(p)
            i += 1
        ecole = {
            "uai": uai, "nom": f"École générée {e:03d}", "type": "elementaire",
            "adresse": {"rue": f"{e} rue des Tests", "code_postal": "33999", "ville": "Commune générée"},
            "vlans": [{"id": 10, "nom": "PEDAGOGIQUE", "role": "pedagogique", "reseau": f"10.{200 + e // 256}.{e % 256}.0/24",
                       "passerelle": f"10.{200 + e // 256}.{e % 256}.1"}],
            "postes": postes,
        }  # fmt: skip
        (dossier / f"{uai.lower()}-generee.yml").write_text(
            yaml.safe_dump(ecole, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return inventaire
