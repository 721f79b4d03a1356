"""Benchmark: pull running configs from N emulated switches (loopback) with the worker pool vs sequentially.

    python benchmarks/reseau.py [--nombre 50] [--travailleurs 20]

One emulator process holds every switch (repeated ``--config``), each on its own 127.0.95.x address. Pulls go
through Ardoise's own ``Session`` (netmiko) and ``execution.executer`` pool. Prints both times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ardoise.reseau.connexion import Acces, Session
from ardoise.reseau.plateformes import plateforme
from ardoise.secrets import Secret

MDP = "Bench-Mdp-4242"


def _port(adresse: str) -> int:
    with socket.socket() as s:
        s.bind((adresse, 0))
        return s.getsockname()[1]


def main() -> int:
    parseur = argparse.ArgumentParser()
    parseur.add_argument("--nombre", type=int, default=50)
    parseur.add_argument("--travailleurs", type=int, default=20)
    args = parseur.parse_args()
    plateformes = ["cisco_ios", "hp_procurve", "aruba_aoscx"]
    with tempfile.TemporaryDirectory() as d:
        acces, commande = [], [sys.executable, "-m", "ardoise.labo.emulateur"]
        for i in range(args.nombre):
            adresse = f"127.0.95.{i + 1}"
            pf = plateformes[i % 3]
            port = _port(adresse)
            chemin = Path(d) / f"sw{i}.json"
            chemin.write_text(json.dumps({"nom": f"sw-bench-{i}", "plateforme": pf, "adresse": adresse, "port": port,
                                          "utilisateur": "ardoise", "mot_de_passe": MDP, "vlans": [[10, "PEDA"], [20, "ADMIN"]],
                                          "ports": [], "fichier_controle": str(Path(d) / f"sw{i}.ctl")}))  # fmt: skip
            commande += ["--config", str(chemin)]
            acces.append(
                Acces(f"sw-bench-{i}", adresse, port, "ardoise", Secret("bench", MDP), None, plateforme(pf))
            )
        debut = time.monotonic()
        emulateurs = subprocess.Popen(commande, stdout=subprocess.PIPE, text=True)
        assert emulateurs.stdout.readline() == "PRET\n"
        print(f"{args.nombre} émulateurs prêts en {time.monotonic() - debut:.1f} s", file=sys.stderr)
        try:

            def tirer(a: Acces) -> int:
                with Session(a, 20, 30) as s:
                    return len(s.running())

            debut = time.monotonic()
            tailles = [tirer(a) for a in acces]
            sequentiel = time.monotonic() - debut
            from concurrent.futures import ThreadPoolExecutor

            debut = time.monotonic()
            with ThreadPoolExecutor(args.travailleurs) as pool:
                tailles_p = list(pool.map(tirer, acces))
            parallele = time.monotonic() - debut
            assert tailles == tailles_p and all(tailles)
        finally:
            emulateurs.send_signal(signal.SIGTERM)
            emulateurs.wait(30)
    print(f"séquentiel : {sequentiel:.1f} s ; {args.travailleurs} en parallèle : {parallele:.1f} s ; "
          f"rapport : {sequentiel / parallele:.1f}×")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
