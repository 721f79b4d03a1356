"""Hostile manifests: how long and how much memory a refusal takes (target: ≤ 5 s and ≤ 300 MB per command).

Usage: ``python benchmarks/entrees_hostiles.py [--toutes]``

For each hostile case of ``tests/fiabilite/entrees_hostiles.py`` (alias bomb, nesting > 64, duplicate key,
file over 16 MiB, python tag, Latin-1, binary content, a school file that is a list, an alias bomb in a profile),
runs, one process at a time, the real ``ardoise`` entry point for the commands the tests try every case on
(``--toutes``: every manifest-reading command) and the Ansible inventory plugin (``ansible-inventory --list``),
and prints a Markdown table: worst wall time and worst peak RSS (the child's own, from ``wait4``) per case,
with ``ardoise --version`` as the interpreter-start baseline. Every run must be a refusal (exit code 1 or,
for ansible-inventory, non-zero), or the script says so and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fiabilite.entrees_hostiles import (  # noqa: E402
    CAS,
    COMMANDES,
    ESSENTIELLES,
    RACINE,
    arguments,
    copie,
    env_isole,
    mesurer_processus,
)

BIN = Path(sys.executable).parent
CIBLE_S, CIBLE_MO = 5.0, 300


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--toutes", action="store_true", help="every manifest-reading command, not only four")
    commandes = COMMANDES if parser.parse_args().toutes else ESSENTIELLES
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ARDOISE_", "ANSIBLE_"))}
    echecs = 0
    with tempfile.TemporaryDirectory(prefix="ardoise-hostile-") as d:
        code, _, _, t0, rss0, cpu0 = mesurer_processus([str(BIN / "ardoise"), "--version"], base, Path(d))
        print(f"référence `ardoise --version` : {t0:.2f} s réel, {cpu0:.2f} s CPU, {rss0 / 1024:.0f} Mo\n")
        print(
            "| cas | commandes | ardoise : pire temps réel (CPU) | pire RSS | ansible-inventory : réel (CPU) | RSS |"
        )
        print("|---|---|---|---|---|---|")
        for cas in CAS:
            racine = copie(Path(d) / cas.nom)
            cas.casser(racine / cas.fichier)
            env = {**base, **env_isole(racine)}
            mesures = []
            for commande in commandes:
                code, _, err, duree, rss, cpu = mesurer_processus(
                    [str(BIN / "ardoise"), *arguments(commande, racine)], env, racine
                )
                if code != 1 or "Traceback" in err:
                    print(f"PAS UN REFUS : {cas.nom} {' '.join(commande)} → code {code}", file=sys.stderr)
                    echecs += 1
                mesures.append((duree, rss, cpu))
            env_ansible = {**env, "ANSIBLE_CONFIG": str(RACINE / "ansible.cfg"),
                           "ANSIBLE_INVENTORY_PLUGINS": str(RACINE / "plugins" / "inventory"),
                           "ANSIBLE_HOME": str(Path(d) / "ansible")}  # fmt: skip
            code, _, _, duree_a, rss_a, cpu_a = mesurer_processus(
                [str(BIN / "ansible-inventory"), "-i", str(racine / "inventaire/ardoise.yml"), "--list"],
                env_ansible, racine,
            )  # fmt: skip
            if code == 0:
                print(f"PAS UN REFUS : {cas.nom} ansible-inventory", file=sys.stderr)
                echecs += 1
            pire_t, pire_rss, pire_cpu = (max(m[i] for m in mesures) for i in range(3))
            print(f"| {cas.nom} | {len(commandes)} | {pire_t:.2f} s ({pire_cpu:.2f} s) | {pire_rss / 1024:.0f} Mo "
                  f"| {duree_a:.2f} s ({cpu_a:.2f} s) | {rss_a / 1024:.0f} Mo |")  # fmt: skip
            if max(pire_cpu, cpu_a) > CIBLE_S or max(pire_rss, rss_a) > CIBLE_MO * 1024:
                print(f"HORS CIBLE : {cas.nom}", file=sys.stderr)
    return 1 if echecs else 0


if __name__ == "__main__":
    sys.exit(main())
