"""Benchmark: the switch reliability tests repeated, beyond what ``make test`` can afford.

    python benchmarks/commutateurs_fiabilite.py [--tours 5] [--tests confirmation,refus,sauvegardes,idempotence]

Each round is one pytest run of ``tests/fiabilite/test_commutateurs_<name>.py`` (a fresh emulated fleet of 63
switches, fresh stores): 5 rounds of ``confirmation`` are 100 unconfirmed pushes per platform rolled back by the
timer, 5 rounds of ``refus`` are 5 × 52 refused lines. Prints, per test, the rounds passed and the median/worst
duration of its call (pytest's JUnit XML), and the load average during the run (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

RACINE = Path(__file__).resolve().parents[1]


def main() -> int:
    parseur = argparse.ArgumentParser()
    parseur.add_argument("--tours", type=int, default=5)
    parseur.add_argument("--tests", default="confirmation,refus,sauvegardes,idempotence")
    args = parseur.parse_args()
    fichiers = [f"tests/fiabilite/test_commutateurs_{nom}.py" for nom in args.tests.split(",")]
    durees: dict[str, list[float]] = {}
    reussis: dict[str, int] = {}
    charges = []
    with tempfile.TemporaryDirectory() as d:
        for tour in range(args.tours):
            xml = Path(d) / f"tour-{tour}.xml"
            subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
                            f"--basetemp={Path(d) / f'bt-{tour}'}", *fichiers], cwd=RACINE, check=False)  # fmt: skip
            charges.append(os.getloadavg()[0])
            for cas in ET.parse(xml).getroot().iter("testcase"):
                nom = cas.get("name", "?")
                durees.setdefault(nom, []).append(float(cas.get("time", 0)))
                echec = cas.find("failure") is not None or cas.find("error") is not None
                reussis[nom] = reussis.get(nom, 0) + (0 if echec or cas.find("skipped") is not None else 1)
    print(
        f"{args.tours} tour(s), charge moyenne (1 min) en fin de tour : {', '.join(f'{c:.0f}' for c in charges)}"
    )
    for nom, valeurs in durees.items():
        print(f"{nom} : {reussis[nom]}/{len(valeurs)} réussis, médiane {statistics.median(valeurs):.1f} s, "
              f"pire {max(valeurs):.1f} s")  # fmt: skip
    return 0 if all(reussis[n] == len(v) for n, v in durees.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
