"""Start the lab's switch emulators on loopback for the example territory's switches (real SSH peers)."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ardoise.inventaire import coffre
from ardoise.inventaire.modele import Commutateur
from ardoise.inventaire.territoire import Territoire

RACINE = Path(__file__).resolve().parents[3]
MDP_COFFRE = RACINE / "inventaire" / "coffre-demo.mdp"
_ADRESSES = (f"127.0.93.{n}" for n in itertools.count(1))


def port_libre(adresse: str) -> int:
    with socket.socket() as s:
        s.bind((adresse, 0))
        return s.getsockname()[1]


@dataclass
class Emule:
    nom: str
    adresse: str
    port: int
    controle: Path


def config_emulateur(
    t: Territoire, c: Commutateur, dossier: Path, derive: bool = False, adresse: str | None = None,
    port: int | None = None,
) -> tuple[dict, Emule]:  # fmt: skip
    """The emulator JSON for a manifest switch; ``derive``: VLANs/ports differ from the manifest."""
    ecole = next(e for e in t.ecoles if any(s.nom == c.nom for s in e.modele.commutateurs))
    mdp = coffre.reveler(t.fichier_coffre, [c.identifiants.mot_de_passe.coffre], MDP_COFFRE)
    vlans = [[v.id, v.nom] for v in ecole.modele.vlans]
    ports = [
        {"nom": p.nom, "mode": p.mode, "vlan": p.vlan if p.mode == "acces" else p.vlan_natif,
         "vlans": list(p.vlans), "description": p.description}
        for p in c.ports
    ]  # fmt: skip
    if derive:
        vlans = [v for v in vlans if v[0] != 20] + [[77, "INTRUS"]]  # VLAN 20 missing, 77 extra
        vlans = [[v[0], "PEDAGO-ANCIEN"] if v[0] == 10 else v for v in vlans]  # renamed
        ports[0] = {**ports[0], "vlan": 77, "description": "Mauvaise prise"}  # wrong VLAN and description
        ports[1] = {**ports[1], "description": ""}
    adresse = adresse or next(_ADRESSES)
    port = port or port_libre(adresse)
    controle = dossier / f"{c.nom}.ctl"
    config = {"nom": c.nom if not derive else f"{c.nom}-x", "plateforme": c.plateforme.value,
              "adresse": adresse, "port": port, "utilisateur": c.identifiants.utilisateur,
              "mot_de_passe": mdp[c.identifiants.mot_de_passe.coffre].reveler(), "vlans": vlans,
              "ports": ports, "fichier_controle": str(controle)}  # fmt: skip
    return config, Emule(c.nom, adresse, port, controle)


class Processus:
    """One emulator process holding several switches."""

    def __init__(self, configs: list[dict], dossier: Path) -> None:
        arguments = [sys.executable, "-m", "ardoise.labo.emulateur"]
        for i, config in enumerate(configs):
            chemin = dossier / f"emu-{os.getpid()}-{id(self)}-{i}.json"
            chemin.write_text(json.dumps(config), encoding="utf-8")
            arguments += ["--config", str(chemin)]
        self.p = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        premiere = self.p.stdout.readline()
        if premiere != "PRET\n":
            self.p.kill()
            raise RuntimeError(f"emulator did not start: {premiere!r} {self.p.communicate()[1]}")

    def arreter(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.communicate()


def ecrire_acces(emules: list[Emule], chemin: Path) -> Path:
    chemin.write_text(
        json.dumps({e.nom: {"adresse": e.adresse, "port": e.port} for e in emules}), encoding="utf-8"
    )
    return chemin
