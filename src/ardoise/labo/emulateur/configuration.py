"""The emulator's JSON configuration file, read and checked.

One file describes one switch (the lab writes it from a ``CommutateurLabo``)::

    {"nom": "sw-cdi", "plateforme": "cisco_ios", "adresse": "10.20.0.11", "port": 22,
     "utilisateur": "ardoise", "mot_de_passe": "…",
     "vlans": [[10, "PEDA"], [20, "ADMIN"]],
     "ports": [{"nom": "GigabitEthernet0/1", "mode": "acces", "vlan": 10, "vlans": [],
                "description": "Salle 12"},
               {"nom": "GigabitEthernet0/24", "mode": "trunk", "vlan": null, "vlans": [10, 20],
                "description": "Lien serveur"}],
     "fichier_controle": "/run/ardoise-labo/sw-cdi.ctl",
     "fichier_macs": "/run/ardoise-labo/sw-cdi.macs.json"}

``fichier_macs`` (optional) is the MAC/ARP table the lab feeds (see :mod:`.tables`: a stand-in).

An optional ``"cle_hote"`` names an SSH host private key file (PEM/OpenSSH, RSA); without it every
emulator shows fake-switches' fixed demo key. Tests restart an emulator with a new key to see a CHANGED key.

``ports`` lists every physical port the emulated switch has, in any order (they are shown in
natural order). On a trunk, ``vlan`` is the untagged (native) VLAN; ``null`` keeps the platform's
default (VLAN 1 untagged). VLANs referenced by a port but missing from ``vlans`` are created with
the platform's default name, as the real switches do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

PLATEFORMES = ("cisco_ios", "hp_procurve", "aruba_aoscx")


class ConfigurationInvalide(ValueError):
    """The JSON file does not follow the contract (message in French, never shows the password)."""


@dataclass(frozen=True)
class PortEmule:
    """One physical port and its initial state."""

    nom: str
    mode: str  # "acces" | "trunk"
    vlan: int | None = None
    vlans: tuple[int, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ConfigEmulateur:
    """Everything one emulated switch starts from."""

    nom: str
    plateforme: str
    adresse: str
    port: int
    utilisateur: str
    mot_de_passe: str = field(repr=False)
    vlans: tuple[tuple[int, str], ...]
    ports: tuple[PortEmule, ...]
    fichier_controle: Path
    fichier_macs: Path | None = None
    cle_hote: Path | None = None


def _exiger(donnees: dict[str, Any], cle: str, type_: type | tuple[type, ...]) -> Any:
    if cle not in donnees:
        raise ConfigurationInvalide(f"clé manquante : {cle!r}")
    valeur = donnees[cle]
    if not isinstance(valeur, type_) or isinstance(valeur, bool):
        raise ConfigurationInvalide(f"clé {cle!r} : type inattendu")
    return valeur


def _vlan_id(valeur: Any, contexte: str) -> int:
    if not isinstance(valeur, int) or isinstance(valeur, bool) or not 1 <= valeur <= 4094:
        raise ConfigurationInvalide(f"{contexte} : numéro de VLAN invalide ({valeur!r})")
    return valeur


def _port(donnees: Any, index: int) -> PortEmule:
    if not isinstance(donnees, dict):
        raise ConfigurationInvalide(f"ports[{index}] : objet attendu")
    nom = _exiger(donnees, "nom", str)
    mode = donnees.get("mode", "acces")
    if mode not in ("acces", "trunk"):
        raise ConfigurationInvalide(f"port {nom} : mode {mode!r} inconnu (acces ou trunk)")
    vlan = donnees.get("vlan")
    vlan = None if vlan is None else _vlan_id(vlan, f"port {nom}")
    vlans = tuple(_vlan_id(v, f"port {nom}") for v in donnees.get("vlans") or ())
    description = donnees.get("description") or ""
    if not isinstance(description, str):
        raise ConfigurationInvalide(f"port {nom} : description invalide")
    return PortEmule(nom=nom, mode=mode, vlan=vlan, vlans=vlans, description=description)


def depuis_dict(donnees: dict[str, Any]) -> ConfigEmulateur:
    """Check and convert the decoded JSON document."""
    if not isinstance(donnees, dict):
        raise ConfigurationInvalide("objet JSON attendu à la racine")
    plateforme = _exiger(donnees, "plateforme", str)
    if plateforme not in PLATEFORMES:
        raise ConfigurationInvalide(f"plateforme {plateforme!r} inconnue ({', '.join(PLATEFORMES)})")
    adresse = _exiger(donnees, "adresse", str)
    try:
        IPv4Address(adresse)
    except ValueError as erreur:
        raise ConfigurationInvalide(f"adresse invalide : {adresse!r}") from erreur
    port = _exiger(donnees, "port", int)
    if not 1 <= port <= 65535:
        raise ConfigurationInvalide(f"port TCP invalide : {port}")
    vlans = []
    for element in _exiger(donnees, "vlans", list):
        if not isinstance(element, list | tuple) or len(element) != 2 or not isinstance(element[1], str):
            raise ConfigurationInvalide(f"vlans : paire [numéro, nom] attendue, reçu {element!r}")
        vlans.append((_vlan_id(element[0], "vlans"), element[1]))
    ports = tuple(_port(p, i) for i, p in enumerate(_exiger(donnees, "ports", list)))
    noms = [p.nom for p in ports]
    if len(set(noms)) != len(noms):
        raise ConfigurationInvalide("ports : nom en double")
    return ConfigEmulateur(
        nom=_exiger(donnees, "nom", str),
        plateforme=plateforme,
        adresse=adresse,
        port=port,
        utilisateur=_exiger(donnees, "utilisateur", str),
        mot_de_passe=_exiger(donnees, "mot_de_passe", str),
        vlans=tuple(vlans),
        ports=ports,
        fichier_controle=Path(_exiger(donnees, "fichier_controle", str)),
        fichier_macs=Path(donnees["fichier_macs"]) if isinstance(donnees.get("fichier_macs"), str) else None,
        cle_hote=Path(_exiger(donnees, "cle_hote", str)) if donnees.get("cle_hote") else None,
    )


def charger(chemin: Path) -> ConfigEmulateur:
    """Read one emulator configuration file."""
    try:
        donnees = json.loads(Path(chemin).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as erreur:
        raise ConfigurationInvalide(f"{chemin} : illisible ({erreur.__class__.__name__})") from erreur
    return depuis_dict(donnees)
