"""Write a synthetic, VALID territory of 1,000 schools / 50,000 devices for the inventory benchmark.

Usage: ``python benchmarks/inventaire/generer.py /tmp/ardoise-bench [--ecoles 1000] [--appareils 50]``

The six schools of the example territory are the templates (cycled); every school gets its own
UAI (valid check letter), subnets, hostnames, MAC addresses and serial numbers, and its device
list is completed to ``--appareils`` devices by cloning its workstations. The territory file, the
vault and the profiles are those of the example (licence counts raised, more communes declared).
YAML is rewritten through PyYAML's node graph, so quoting and scalar styles stay as in the example.
"""

from __future__ import annotations

import argparse
import copy
import ipaddress
import re
import shutil
import sys
from pathlib import Path

import yaml

from ardoise.inventaire.types import cle_uai

DEPOT = Path(__file__).resolve().parents[2]
EXEMPLE = DEPOT / "inventaire"
PROFILS = DEPOT / "profils_terminaux"
ECOLES_PAR_COMMUNE = 20
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_IP = re.compile(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(/\d{1,2})?\b")


def _scalaire(valeur: str) -> yaml.ScalarNode:
    return yaml.ScalarNode("tag:yaml.org,2002:str", valeur)


def _cle(noeud: yaml.MappingNode, cle: str) -> yaml.Node | None:
    for k, v in noeud.value:
        if k.value == cle:
            return v
    return None


def _mettre(noeud: yaml.MappingNode, cle: str, valeur: yaml.Node) -> None:
    for i, (k, _) in enumerate(noeud.value):
        if k.value == cle:
            noeud.value[i] = (k, valeur)
            return
    noeud.value.append((_scalaire(cle), valeur))


def _retirer(noeud: yaml.MappingNode, cle: str) -> None:
    noeud.value = [(k, v) for k, v in noeud.value if k.value != cle]


def _scalaires(noeud: yaml.Node, vus: set[int] | None = None):
    """Every scalar value node (not keys), each once even when aliased."""
    vus = set() if vus is None else vus
    if id(noeud) in vus:
        return
    vus.add(id(noeud))
    if isinstance(noeud, yaml.ScalarNode):
        yield noeud
    elif isinstance(noeud, yaml.SequenceNode):
        for n in noeud.value:
            yield from _scalaires(n, vus)
    elif isinstance(noeud, yaml.MappingNode):
        for _, v in noeud.value:
            yield from _scalaires(v, vus)


class Compteurs:
    """Territory-wide counters for MAC addresses and serial numbers."""

    def __init__(self) -> None:
        self.mac = 0
        self.serie = 0

    def nouvelle_mac(self) -> str:
        self.mac += 1
        n = self.mac
        return "02:ad:" + ":".join(f"{(n >> s) & 0xFF:02x}" for s in (24, 16, 8, 0))

    def nouveau_serie(self) -> str:
        self.serie += 1
        return f"BX{self.serie:08d}"


def _reseaux(modele: yaml.MappingNode, i: int) -> dict[ipaddress.IPv4Network, ipaddress.IPv4Network]:
    """Old VLAN network → new one: school ``i`` gets 8 consecutive /24 blocks from 10.100.0.0."""
    correspondance = {}
    vlans = _cle(modele, "vlans")
    for j, v in enumerate(vlans.value):
        ancien = ipaddress.IPv4Network(_cle(v, "reseau").value)
        bloc = i * 8 + j
        nouveau = ipaddress.IPv4Network(f"10.{100 + bloc // 256}.{bloc % 256}.0/{ancien.prefixlen}")
        correspondance[ancien] = nouveau
    return correspondance


def _ip(texte: str, reseaux: dict) -> str:
    def remplacer(m: re.Match) -> str:
        try:
            a = ipaddress.IPv4Address(m[1])
        except ValueError:
            return m[0]
        for ancien, nouveau in reseaux.items():
            if a in ancien:
                return str(nouveau.network_address + (int(a) - int(ancien.network_address))) + (m[2] or "")
        return m[0]

    return _IP.sub(remplacer, texte)


def ecole(modele: yaml.MappingNode, i: int, appareils: int, compteurs: Compteurs) -> tuple[str, yaml.Node]:
    """School number ``i`` made from the template's node graph; returns (uai, document)."""
    doc = copy.deepcopy(modele)
    chiffres = f"033{5000 + i:04d}"
    uai = chiffres + cle_uai(chiffres)
    _mettre(doc, "uai", _scalaire(uai))
    nom = _cle(doc, "nom")
    nom.value = f"{nom.value} n°{i}"
    reseaux = _reseaux(modele, i)
    # devices: rename (and references to the names), new MACs and serials
    noms: dict[str, str] = {}
    objets = []
    if _cle(doc, "serveur") is not None:
        objets.append(_cle(doc, "serveur"))
    for cle in ("commutateurs", "bornes_wifi", "postes"):
        if _cle(doc, cle) is not None:
            objets += _cle(doc, cle).value
    for o in objets:
        n = _cle(o, "nom")
        noms[n.value] = f"{n.value}-{i:04d}"
    for s in _scalaires(doc):
        if s.value in noms:
            s.value = noms[s.value]
        elif _IP.search(s.value):
            s.value = _ip(s.value, reseaux)
    for o in objets:
        if _cle(o, "mac") is not None:
            _mettre(o, "mac", _scalaire(compteurs.nouvelle_mac()))
        if _cle(o, "numero_serie") is not None:
            _mettre(o, "numero_serie", _scalaire(compteurs.nouveau_serie()))
    # complete to ``appareils`` devices with clones of the workstations (on DHCP: no fixed address)
    postes = _cle(doc, "postes")
    originaux = list(postes.value)
    k = 0
    while len(objets) < appareils and originaux:
        clone = copy.deepcopy(originaux[k % len(originaux)])
        base = _cle(clone, "nom").value
        _mettre(clone, "nom", _scalaire(f"{base}-c{k // len(originaux) + 1}"))
        _retirer(clone, "adresse")
        _mettre(clone, "mac", _scalaire(compteurs.nouvelle_mac()))
        _mettre(clone, "numero_serie", _scalaire(compteurs.nouveau_serie()))
        postes.value.append(clone)
        objets.append(clone)
        k += 1
    while len(objets) > appareils and postes.value:
        objets.remove(postes.value.pop())
    return uai, doc


def territoire(texte: str, communes: list[str]) -> str:
    """The example's territoire.yml with more communes and the profiles copied next to it."""
    doc = yaml.compose(texte, Loader=_Loader)
    liste = _cle(doc, "communes")
    modele = liste.value[1]  # saint-aubin: no commune policy
    for j, c in enumerate(communes):
        n = copy.deepcopy(modele)
        _mettre(n, "id", _scalaire(c))
        _mettre(n, "nom", _scalaire(f"Commune de synthèse {j}"))
        _mettre(n, "insee", yaml.ScalarNode("tag:yaml.org,2002:str", f"{33500 + j}", style="'"))
        liste.value.append(n)
    _mettre(doc, "profils", _scalaire("profils_terminaux"))
    return yaml.serialize(doc, Dumper=_Dumper, allow_unicode=True)


def generer(sortie: Path, nb_ecoles: int, appareils: int) -> int:
    if sortie.exists():
        shutil.rmtree(sortie)
    inventaire = sortie / "inventaire"
    (inventaire / "communes").mkdir(parents=True)
    shutil.copy2(EXEMPLE / "coffre.yml", inventaire / "coffre.yml")
    shutil.copy2(EXEMPLE / "coffre-demo.mdp", inventaire / "coffre-demo.mdp")
    shutil.copytree(PROFILS, inventaire / "profils_terminaux")
    catalogue = inventaire / "profils_terminaux" / "catalogue.yml"
    catalogue.write_text(re.sub(r"licences: \d+", "licences: 10000000", catalogue.read_text()))
    modeles = [
        (f.parent.parent.name, yaml.compose(f.read_text(encoding="utf-8"), Loader=_Loader))
        for f in sorted((EXEMPLE / "communes").glob("*/ecoles/*.yml"))
    ]
    nb_communes = -(-nb_ecoles // ECOLES_PAR_COMMUNE)
    communes = [f"synthese-{j:03d}" for j in range(nb_communes)]
    (inventaire / "territoire.yml").write_text(
        territoire((EXEMPLE / "territoire.yml").read_text(encoding="utf-8"), communes), encoding="utf-8"
    )
    compteurs = Compteurs()
    total = 0
    for i in range(nb_ecoles):
        _, modele = modeles[i % len(modeles)]
        uai, doc = ecole(modele, i, appareils, compteurs)
        dossier = inventaire / "communes" / communes[i // ECOLES_PAR_COMMUNE] / "ecoles"
        dossier.mkdir(parents=True, exist_ok=True)
        texte = yaml.serialize(doc, Dumper=_Dumper, allow_unicode=True, width=200)
        (dossier / f"{uai.lower()}.yml").write_text(texte, encoding="utf-8")
        total += appareils
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Génère un territoire de synthèse valide pour le banc d'essai.")
    p.add_argument("sortie", type=Path, help="dossier de sortie (hors du dépôt, ex. /tmp/ardoise-bench)")
    p.add_argument("--ecoles", type=int, default=1000)
    p.add_argument("--appareils", type=int, default=50, help="appareils par école")
    a = p.parse_args(argv)
    if a.sortie.resolve().is_relative_to(DEPOT):
        p.error("choisissez un dossier hors du dépôt")
    n = generer(a.sortie, a.ecoles, a.appareils)
    print(f"{a.ecoles} écoles, {n} appareils dans {a.sortie / 'inventaire'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
