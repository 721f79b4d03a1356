"""Switch emulators of the lab: one namespace on the management VLAN bridge per switch.

Each runs ``ip netns exec NS <python> -m ardoise.labo.emulateur --config FILE.json`` and prints
``PRET`` once it listens. The JSON file (mode 0600) follows the emulator's contract.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from pathlib import Path

from ardoise.labo import reseau
from ardoise.labo.erreurs import LaboErreur
from ardoise.labo.plan import CommutateurLabo, PlanLabo
from ardoise.labo.services import Service
from ardoise.labo.systeme import attendre, dans_ns, lancer_demon, vivant

log = logging.getLogger(__name__)


def config_emulateur(sw: CommutateurLabo, controle: Path) -> dict:
    """The emulator's JSON document for one switch."""
    return {
        "nom": sw.nom,
        "plateforme": sw.plateforme,
        "adresse": str(sw.adresse),
        "port": sw.port_ssh,
        "utilisateur": sw.utilisateur,
        "mot_de_passe": sw.mot_de_passe,
        "vlans": [[i, n] for i, n in sw.vlans],
        "ports": [
            {
                "nom": p.nom,
                "mode": p.mode,
                "vlan": p.vlan,
                "vlans": list(p.vlans),
                "description": p.description,
            }
            for p in sw.ports
        ],
        "fichier_controle": str(controle),
        "fichier_macs": str(controle.with_name(f"{sw.nom}.macs.json")),
    }


def ecrire_config(sw: CommutateurLabo, dossier: Path) -> tuple[Path, Path]:
    """Write the 0600 JSON file; return (config, control file)."""
    dossier.mkdir(parents=True, exist_ok=True, mode=0o700)
    config, controle = dossier / f"{sw.nom}.json", dossier / f"{sw.nom}.controle"
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(config_emulateur(sw, controle), f, ensure_ascii=False)
    os.chmod(config, 0o600)
    return config, controle


def definir(plan: PlanLabo, index: int, etat: Path, journaux: Path) -> Service:
    """Plug switch ``index`` (1-based) in and describe its emulator process."""
    sw = plan.commutateurs[index - 1]
    ns = reseau.brancher_commutateur(plan, index)
    config, _ = ecrire_config(sw, etat / "commutateurs")
    argv = dans_ns(ns, sys.executable, "-m", "ardoise.labo.emulateur", "--config", config)
    return Service(
        f"commutateur:{sw.nom}", ns, str(sw.adresse), sw.port_ssh, argv, str(journaux / f"{sw.nom}.log")
    )


def controle(etat: Path, nom: str) -> Path:
    """Control file of switch ``nom`` (see :mod:`ardoise.labo.emulateur.controle`)."""
    return etat / "commutateurs" / f"{nom}.controle"


def demarrer(service: Service, delai: float = 30) -> None:
    """Start one emulator and wait for ``PRET`` in its output and its SSH port listening."""
    journal = Path(service.journal)
    debut_journal = journal.stat().st_size if journal.exists() else 0
    service.pid, service.debut = lancer_demon(service.argv, journal)

    def pret() -> bool:
        with journal.open("rb") as f:
            f.seek(debut_journal)
            sortie = f.read().decode(errors="replace")
        if not vivant(service.pid, service.debut):
            raise LaboErreur(f"l'émulateur {service.nom} s'est arrêté : {sortie.strip()[-300:]}")
        return "PRET" in sortie.split() and service.actif()

    attendre(pret, delai, f"démarrage de l'émulateur {service.nom}")


# -- wiring: which lab host stands behind which switch port (feeds the MAC-table stand-in) --------
FICHIER_CABLAGE = "cablage.json"


def cablage_initial(plan: PlanLabo) -> dict:
    """The lab's wiring: each PC (then the server) on the first free access port of its VLAN.

    ``{"ports": {switch: [[port, mode, vlan], …]}, "hotes": {name: {mac, vlan, commutateur, port}}}``;
    a host with no free access port of its VLAN is left unplugged from the emulated switches.
    """
    ports = {sw.nom: [[p.nom, p.mode, p.vlan] for p in sw.ports] for sw in plan.commutateurs}
    cablage: dict = {"ports": ports, "hotes": {}}
    branches = [(p.nom, p.mac, p.vlan) for p in plan.postes]
    if plan.serveur_mac:
        branches.append((plan.serveur_nom, plan.serveur_mac, plan.serveur_vlan))
    for nom, mac, vlan in branches:
        place = port_libre(cablage, vlan)
        if place:
            cablage["hotes"][nom] = {"mac": mac, "vlan": vlan, "commutateur": place[0], "port": place[1]}
    return cablage


def port_libre(cablage: dict, vlan: int) -> tuple[str, str] | None:
    """The first access port of ``vlan`` (switches in plan order) that no host uses."""
    pris = {(h["commutateur"], h["port"]) for h in cablage["hotes"].values()}
    for sw, ports in cablage["ports"].items():
        for nom, mode, vlan_port in ports:
            if mode == "acces" and vlan_port == vlan and (sw, nom) not in pris:
                return sw, nom
    return None


def port_non_declare(cablage: dict) -> tuple[str, str] | None:
    """A port of the first switch the manifest does not declare and no host uses: the access ports' naming
    (``GigabitEthernet1/0/``, ``1/1/``, or bare numbers) with the smallest free number."""
    pris = {(h["commutateur"], h["port"]) for h in cablage["hotes"].values()}
    for sw, ports in cablage["ports"].items():
        noms = {nom for nom, _, _ in ports}
        modele = next((re.fullmatch(r"(.*?)(\d+)", nom) for nom, mode, _ in ports if mode == "acces"), None)
        if modele is None:
            continue
        for n in range(1, 100):
            nom = f"{modele.group(1)}{n}"
            if nom not in noms and (sw, nom) not in pris:
                return sw, nom
    return None


def lire_cablage(etat: Path) -> dict:
    try:
        return json.loads((etat / FICHIER_CABLAGE).read_text())
    except FileNotFoundError:
        raise LaboErreur("câblage du laboratoire absent : le labo est-il démarré ?") from None


def ecrire_cablage(etat: Path, cablage: dict) -> None:
    """Save the wiring and rewrite every switch's fed MAC table (read at each ``show mac…``)."""
    _atomique(etat / FICHIER_CABLAGE, cablage)
    for sw in cablage["ports"]:
        macs = [{"mac": h["mac"], "vlan": h["vlan"], "port": h["port"]}
                for h in cablage["hotes"].values() if h["commutateur"] == sw]  # fmt: skip
        actifs = [{"port": m["port"], "vlan": m["vlan"]} for m in macs]  # a plugged host = a link up
        _atomique(etat / "commutateurs" / f"{sw}.macs.json", {"macs": macs, "arp": [], "actifs": actifs})


def _atomique(chemin: Path, donnees: dict) -> None:
    chemin.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = chemin.with_suffix(".tmp")
    tmp.write_text(json.dumps(donnees, ensure_ascii=False, indent=1))
    tmp.replace(chemin)
