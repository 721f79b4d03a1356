"""Renewal plan benchmark: a generated commune of 5,000 devices (target: plan computed in ≤ 2 s).

Usage: ``python benchmarks/parc.py [--appareils 5000] [--repetitions 5]``

Builds a copy of the example territory plus the commune ``generee`` (25 schools × 200 devices, see
``tests/aide_parc.py``), loads it once with the loader, then times, separately: the plan computation
alone, the plan plus its HTML and CSV renderings, and (for information) the manifest load. Prints the
median and the worst of the repetitions.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ardoise.inventaire.chargeur import charger  # noqa: E402
from ardoise.parc import rapport  # noqa: E402
from ardoise.parc.renouvellement import calculer  # noqa: E402
from tests.aide_parc import COMMUNE_GENEREE, copier_exemple, generer_commune  # noqa: E402

CIBLE_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appareils", type=int, default=5000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ardoise-bench-parc-") as tmp:
        inv = generer_commune(copier_exemple(Path(tmp)), appareils=args.appareils)
        t0 = time.perf_counter()
        t = charger(inv)
        chargement = time.perf_counter() - t0
        calcul, complet = [], []
        for _ in range(args.repetitions):
            t0 = time.perf_counter()
            plan = calculer(t, COMMUNE_GENEREE)
            t1 = time.perf_counter()
            html, csv = rapport.html(plan), rapport.csv_texte(plan)
            t2 = time.perf_counter()
            calcul.append(t1 - t0)
            complet.append(t2 - t0)
    print(f"commune générée : {plan.appareils} appareils retenus ({args.appareils} générés), "
          f"{plan.nombre_total} à renouveler de {plan.annee_debut} à {plan.horizon}, {rapport.euros(plan.budget_total)}")  # fmt: skip
    print(f"HTML {len(html) // 1024} Kio, CSV {len(csv) // 1024} Kio")
    print(f"chargement du manifeste (information) : {chargement:.2f} s")
    print(f"plan seul : médiane {statistics.median(calcul):.2f} s, pire {max(calcul):.2f} s")
    print(f"plan + HTML + CSV : médiane {statistics.median(complet):.2f} s, pire {max(complet):.2f} s "
          f"(cible ≤ {CIBLE_S:.0f} s : {'atteinte' if max(complet) <= CIBLE_S else 'MANQUÉE'})")  # fmt: skip
    return 0 if max(complet) <= CIBLE_S else 1


if __name__ == "__main__":
    sys.exit(main())
