"""Benchmark of ``ardoise audit complet`` on the lab school (the example's first school, 3 PCs, 2 switches).

Run as root, under the lab lock: ``flock /tmp/ardoise-labo-dev.lock .venv/bin/python benchmarks/audit.py [-n 3]``.
Starts the lab, runs the audit N times from the « poste technicien » namespace, prints wall time, the audit's own
duration and nmap's, then stops the lab.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ardoise.inventaire.chargeur import charger
from ardoise.labo.depuis_manifeste import ecole_par_defaut, plan_depuis_ecole
from ardoise.labo.labo import Labo

RACINE = Path(__file__).resolve().parents[1]


def main() -> int:
    parseur = argparse.ArgumentParser()
    parseur.add_argument("-n", "--repetitions", type=int, default=3)
    args = parseur.parse_args()
    os.environ.setdefault("ARDOISE_COFFRE_MDP", str(RACINE / "inventaire" / "coffre-demo.mdp"))
    t = charger(RACINE / "inventaire")
    ecole = ecole_par_defaut(t)
    labo = Labo()
    if labo.etat().get("demarre"):
        labo.arreter()
    labo.demarrer(plan_depuis_ecole(t, ecole, postes=3))
    mesures = []
    try:
        with tempfile.TemporaryDirectory() as d:
            env = {
                **os.environ,
                "ARDOISE_KNOWN_HOSTS": f"{d}/kh",
                "ARDOISE_INVENTAIRE": str(RACINE / "inventaire"),
            }
            for i in range(args.repetitions):
                debut = time.monotonic()
                r = subprocess.run(
                    ["ip", "netns", "exec", "ard-tech", str(Path(sys.executable).parent / "ardoise"), "audit",
                     "complet", "--ecole", ecole.uai, "--labo", "--sortie", f"{d}/s", "--base",
                     f"sqlite:///{d}/r.sqlite", "--format", "json"],
                    capture_output=True, text=True, env=env,
                )  # fmt: skip
                mur = time.monotonic() - debut
                resume = json.loads(r.stdout)["resume"]
                mesures.append((mur, resume["duree_s"], resume["duree_nmap_s"]))
                print(f"audit {i + 1} : {mur:.1f} s (commande), {resume['duree_s']} s (audit), "
                      f"{resume['duree_nmap_s']} s (nmap), {resume['constats']} constat(s)")  # fmt: skip
    finally:
        labo.arreter()
    for nom, k in (("commande", 0), ("audit", 1), ("nmap", 2)):
        print(f"{nom} : médiane {statistics.median(m[k] for m in mesures):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
