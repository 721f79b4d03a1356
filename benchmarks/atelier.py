"""Benchmark of the workshop: prepare the lab's 3 PCs cold (fresh PCs) then warm (already prepared).

Run as root, alone on the lab (it starts and stops it):
    flock /tmp/ardoise-labo-dev.lock .venv/bin/python benchmarks/atelier.py
Prints the wall time of each pass, the playbook and checklist parts, and the share of playbook time per role
(sum over hosts of the role's task durations, from Ansible's events). The apt relay's cache
(/var/cache/ardoise/labo/apt-cacher-ng) is kept between lab sessions: "cold" means fresh PCs, with the relay
as found (its size is printed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(RACINE / "src"))
os.environ.setdefault("ARDOISE_COFFRE_MDP", str(RACINE / "inventaire" / "coffre-demo.mdp"))

from ardoise.atelier import labo as atelier_labo  # noqa: E402
from ardoise.atelier.postes import choisir  # noqa: E402
from ardoise.atelier.preparation import Connexion, preparer  # noqa: E402
from ardoise.inventaire.chargeur import charger  # noqa: E402
from ardoise.labo.depuis_manifeste import ecole_par_defaut, plan_depuis_ecole  # noqa: E402
from ardoise.labo.labo import Labo  # noqa: E402
from ardoise.resultats.magasin import Magasin  # noqa: E402


def _passe(t, lot, magasin, connexion, dossier) -> dict:
    debut = time.monotonic()
    b = preparer(t, lot, magasin, connexion, parallele=3, dossier_artefacts=dossier)
    total = time.monotonic() - debut
    roles: dict[str, float] = {}
    for d in b.durees_roles.values():
        for r, s in d.items():
            roles[r] = roles.get(r, 0.0) + s
    somme = sum(roles.values()) or 1.0
    return {
        "total_s": round(total, 1),
        "playbook_s": round(b.duree_ansible_s, 1),
        "verifications_s": round(total - b.duree_ansible_s, 1),
        "etats": b.etats(),
        "part_roles_pct": {
            r: round(100 * s / somme, 1) for r, s in sorted(roles.items(), key=lambda x: -x[1])
        },
    }


def main() -> None:
    t = charger(RACINE / "inventaire")
    plan = plan_depuis_ecole(t, ecole_par_defaut(t))
    lab = Labo()
    if lab.etat().get("demarre"):
        lab.arreter()
    cache = subprocess.run(
        ["du", "-sh", "/var/cache/ardoise/labo/apt-cacher-ng"], capture_output=True, text=True
    )
    charge = os.getloadavg()
    tmp = Path(tempfile.mkdtemp(prefix="ardoise-bench-atelier-"))
    try:
        debut = time.monotonic()
        lab.demarrer(plan)
        demarrage = time.monotonic() - debut
        atelier_labo.agrandir_disques(lab)
        a = atelier_labo.acces(lab.etat(), known_hosts=tmp / "known_hosts")
        connexion = Connexion(a.cle, a.utilisateur, a.known_hosts, dict(a.variables))
        lot = choisir(t, postes=tuple(p.nom for p in plan.postes))
        magasin = Magasin(f"sqlite:///{tmp / 'resultats.sqlite'}")
        froid = _passe(t, lot, magasin, connexion, tmp / "artefacts")
        chaud = _passe(t, lot, magasin, connexion, tmp / "artefacts")
    finally:
        lab.arreter()
    print(json.dumps({
        "postes": [p.nom for p in plan.postes], "demarrage_labo_s": round(demarrage, 1),
        "cache_apt_avant": cache.stdout.split()[0] if cache.stdout else "?",
        "charge_machine_1_5_15min": [round(x, 1) for x in charge], "froid": froid, "chaud": chaud,
    }, ensure_ascii=False, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
