"""Benchmark: pull ``show running-config`` from N switch emulators with netmiko, sequentially vs threaded.

Usage::

    .venv/bin/python benchmarks/emulateurs.py [--nombre 50] [--travailleurs 20]
        [--mode processus|multi|les-deux] [--plateforme cisco_ios|hp_procurve|aruba_aoscx|melange]

``processus``: one emulator process per switch (as the lab starts them); ``multi``: every switch in one
process (``--config`` repeated, a single Twisted reactor). Each switch listens on its own loopback
address 127.0.88.N. Prints the start-up time, both pull times and their ratio.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from netmiko import ConnectHandler

PLATEFORMES = ("cisco_ios", "hp_procurve", "aruba_aoscx")
PORTS = {"cisco_ios": "GigabitEthernet0/{}", "hp_procurve": "{}", "aruba_aoscx": "1/1/{}"}
MOT_DE_PASSE = "banc-essai-7d1"


@dataclass(frozen=True)
class Cible:
    plateforme: str
    adresse: str
    port: int


def _port_libre(adresse: str) -> int:
    with socket.socket() as s:
        s.bind((adresse, 0))
        return s.getsockname()[1]


def ecrire_configs(dossier: Path, nombre: int, plateforme: str) -> tuple[list[Path], list[Cible]]:
    chemins, cibles = [], []
    for i in range(1, nombre + 1):
        plat = PLATEFORMES[(i - 1) % 3] if plateforme == "melange" else plateforme
        adresse = f"127.0.88.{i}"
        cible = Cible(plat, adresse, _port_libre(adresse))
        ports = [
            {
                "nom": PORTS[plat].format(n),
                "mode": "acces",
                "vlan": 10 + n % 3 * 10,
                "vlans": [],
                "description": "",
            }
            for n in range(1, 24)
        ]
        ports.append({"nom": PORTS[plat].format(24), "mode": "trunk", "vlan": None, "vlans": [10, 20, 30],
                      "description": "Lien serveur"})  # fmt: skip
        config = {
            "nom": f"sw{i:02d}",
            "plateforme": plat,
            "adresse": adresse,
            "port": cible.port,
            "utilisateur": "technicien",
            "mot_de_passe": MOT_DE_PASSE,
            "vlans": [[10, "PEDA"], [20, "ADMIN"], [30, "WIFI"]],
            "ports": ports,
            "fichier_controle": str(dossier / f"sw{i:02d}.ctl"),
        }
        chemin = dossier / f"sw{i:02d}.json"
        chemin.write_text(json.dumps(config), encoding="utf-8")
        chemins.append(chemin)
        cibles.append(cible)
    return chemins, cibles


def demarrer(groupes: list[list[Path]]) -> list[subprocess.Popen[str]]:
    """Start one process per group of configs and wait for every ``PRET``."""
    processus = []
    for groupe in groupes:
        argv = [sys.executable, "-m", "ardoise.labo.emulateur"]
        for chemin in groupe:
            argv += ["--config", str(chemin)]
        processus.append(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True))
    for p in processus:
        if p.stdout.readline() != "PRET\n":
            raise RuntimeError("un émulateur n'a pas démarré")
    return processus


def arreter(processus: list[subprocess.Popen[str]]) -> None:
    for p in processus:
        p.send_signal(signal.SIGTERM)
    for p in processus:
        p.wait(timeout=30)


def lire(cible: Cible) -> int:
    connexion = ConnectHandler(
        device_type=cible.plateforme,
        host=cible.adresse,
        port=cible.port,
        username="technicien",
        password=MOT_DE_PASSE,
        secret=MOT_DE_PASSE,
        conn_timeout=30,
    )
    connexion.enable()
    texte = connexion.send_command("show running-config", read_timeout=60)
    connexion.disconnect()
    if "PEDA" not in texte:
        raise RuntimeError(f"configuration inattendue sur {cible.adresse}")
    return len(texte)


def mesurer(cibles: list[Cible], travailleurs: int) -> tuple[float, float]:
    debut = time.perf_counter()
    for cible in cibles:
        lire(cible)
    sequentiel = time.perf_counter() - debut
    debut = time.perf_counter()
    with ThreadPoolExecutor(max_workers=travailleurs) as pool:
        list(pool.map(lire, cibles))
    parallele = time.perf_counter() - debut
    return sequentiel, parallele


def main() -> int:
    parseur = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parseur.add_argument("--nombre", type=int, default=50)
    parseur.add_argument("--travailleurs", type=int, default=20)
    parseur.add_argument("--mode", choices=("processus", "multi", "les-deux"), default="les-deux")
    parseur.add_argument("--plateforme", choices=(*PLATEFORMES, "melange"), default="melange")
    arguments = parseur.parse_args()
    modes = ("processus", "multi") if arguments.mode == "les-deux" else (arguments.mode,)
    with tempfile.TemporaryDirectory(prefix="ardoise-banc-") as dossier:
        chemins, cibles = ecrire_configs(Path(dossier), arguments.nombre, arguments.plateforme)
        for mode in modes:
            groupes = [[c] for c in chemins] if mode == "processus" else [chemins]
            debut = time.perf_counter()
            processus = demarrer(groupes)
            demarrage = time.perf_counter() - debut
            try:
                sequentiel, parallele = mesurer(cibles, arguments.travailleurs)
            finally:
                arreter(processus)
            print(
                f"{arguments.nombre} commutateurs ({arguments.plateforme}), mode {mode} "
                f"({len(processus)} processus) : démarrage {demarrage:.2f} s ; "
                f"show running-config séquentiel {sequentiel:.2f} s, "
                f"{arguments.travailleurs} fils {parallele:.2f} s, rapport {sequentiel / parallele:.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
