"""Compare a running configuration with an intended one, with hier_config, within a perimeter.

Both sides go through the same preparation before hier_config compares them:

1. text normalisation (AOS-CX prints unnamed VLANs collapsed: ``vlan 1,30`` becomes ``vlan 1`` + ``vlan 30``);
2. the platform's ``ignorees`` lines (``version 15.0``, ``!`` comments…) and, in the ``commutation``
   perimeter, everything but hostname, VLANs and physical ports are dropped;
3. physical ports absent from the manifest are left alone (Ardoise manages the ports it knows);
4. lines holding a secret are reduced to their stable prefix plus a mask (``username ardoise privilege 15
   secret ********``), on both sides: a secret is never compared, shown or stored, and a line whose prefix
   is already on the device is not pushed again; lines the device never shows back are left out.

:func:`comparer` returns the remediation (what to push), its rollback and the list of differences.
:func:`lignes_a_pousser` puts the clear secret lines back, from the clear rendering, at push time only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hier_config import HConfig, WorkflowRemediation, get_hconfig
from hier_config.child import HConfigChild

from ardoise.reseau.plateformes import Perimetre, Plateforme, pilote
from ardoise.secrets import MASQUE, masquer

_VLANS_GROUPES = re.compile(r"^vlan (\d+(?:[,-]\d+)+)$")


def _developper(texte: str) -> str:
    """``vlan 1,30-31`` -> ``vlan 1`` / ``vlan 30`` / ``vlan 31`` (top-level lines only)."""
    lignes = []
    for ligne in texte.splitlines():
        m = _VLANS_GROUPES.match(ligne)
        if m:
            for morceau in m.group(1).split(","):
                debut, _, fin = morceau.partition("-")
                lignes += [f"vlan {n}" for n in range(int(debut), int(fin or debut) + 1)]
        else:
            lignes.append(ligne)
    return "\n".join(lignes) + "\n"


def _chemin(noeud: HConfigChild) -> str:
    return " > ".join(n.text for n in noeud.lineage())


@dataclass(frozen=True)
class Preparation:
    """How to prepare both configurations of one device before comparing them."""

    plateforme: Plateforme
    perimetre: Perimetre
    ports_geres: frozenset[str] = frozenset()  # physical ports of the manifest (empty: all)

    def arbre(self, texte: str) -> HConfig:
        arbre = get_hconfig(pilote(self.plateforme.nom), _developper(texte))
        self._filtrer(arbre)
        return arbre

    def _garde(self, chemin: str, profondeur: int) -> bool:
        p = self.plateforme
        if any(re.search(m, chemin) for m in p.ignorees):
            return False
        if any(re.search(m, chemin) for m in p.invisibles):
            return False
        if self.perimetre is Perimetre.commutation:
            if profondeur == 1 and not any(re.search(m, chemin) for m in p.commutation):
                return False
            if any(re.search(m, chemin) for m in p.commutation_ignorees):
                return False
        if profondeur == 1 and chemin.startswith("interface ") and self.ports_geres:
            nom = chemin.removeprefix("interface ")
            if not re.search(p.interface_virtuelle, chemin) and nom not in self.ports_geres:
                return False
        return True

    def _filtrer(self, arbre: HConfig) -> None:
        a_retirer = [n for n in arbre.all_children() if not self._garde(_chemin(n), n.depth())]
        for noeud in reversed(a_retirer):  # children before their parents
            noeud.delete()
        for noeud in list(arbre.all_children()):
            prefixe = self._prefixe_secret(noeud.text)
            if prefixe is not None:
                noeud.text = f"{prefixe} {MASQUE}"

    def _prefixe_secret(self, ligne: str) -> str | None:
        for regle in self.plateforme.lignes_secretes:
            prefixe = regle.prefixe(ligne)
            if prefixe is not None:
                return prefixe
        return None

    def secrets_clairs(self, texte_clair: str) -> dict[str, str]:
        """Masked line -> clear line, from a rendering with clear secrets (push time only)."""
        clairs = {}
        for ligne in texte_clair.splitlines():
            prefixe = self._prefixe_secret(ligne.strip())
            if prefixe is not None:
                clairs[f"{prefixe} {MASQUE}"] = ligne.strip()
        return clairs


@dataclass
class Comparaison:
    """The result of comparing one device's running configuration with its intended one."""

    remediation: list[str]  # lines to push, indented as the device expects, secrets masked
    retour: list[str]  # inverse lines (running config back), secrets masked
    ecarts: list[dict[str, str]] = field(default_factory=list)  # {"chemin", "nature": manquant|en_trop}

    @property
    def conforme(self) -> bool:
        return not self.remediation

    def texte(self) -> str:
        return masquer("\n".join(self.remediation))


def _lignes(arbre: HConfig) -> list[str]:
    return [ligne for ligne in arbre.lines(sectional_exiting=True) if ligne.strip()]


def _chemins(arbre: HConfig) -> set[str]:
    return {_chemin(n) for n in arbre.all_children()}


def comparer(preparation: Preparation, courante: str, voulue: str) -> Comparaison:
    """hier_config remediation from ``courante`` (running) to ``voulue`` (intended)."""
    a_courant = preparation.arbre(courante)
    a_voulu = preparation.arbre(voulue)
    flux = WorkflowRemediation(a_courant, a_voulu)
    remediation = _lignes(flux.remediation_config)
    retour = _lignes(flux.rollback_config)
    c_courant, c_voulu = _chemins(a_courant), _chemins(a_voulu)
    ecarts = [{"chemin": c, "nature": "manquant"} for c in sorted(c_voulu - c_courant)]
    ecarts += [{"chemin": c, "nature": "en_trop"} for c in sorted(c_courant - c_voulu)]
    return Comparaison(remediation=remediation, retour=retour, ecarts=ecarts)


def lignes_a_pousser(lignes: list[str], clairs: dict[str, str]) -> list[str]:
    """Put the clear secret lines back (keeping indentation) right before sending."""
    resultat = []
    for ligne in lignes:
        nu = ligne.strip()
        if nu in clairs:
            ligne = ligne[: len(ligne) - len(ligne.lstrip())] + clairs[nu]
        resultat.append(ligne)
    return resultat


def masquer_config(preparation: Preparation, texte: str) -> str:
    """A running configuration with secret material masked (for backups, listings and logs)."""
    sortie = []
    for ligne in texte.splitlines():
        nu = ligne.strip()
        prefixe = preparation._prefixe_secret(nu)
        if prefixe is not None:
            ligne = ligne[: len(ligne) - len(ligne.lstrip())] + f"{prefixe} {MASQUE}"
        sortie.append(ligne)
    return masquer("\n".join(sortie).rstrip("\n") + "\n")
