"""Exports of the territory: JSON and CSV device lists, and the Ansible inventory structure.

:func:`vers_ansible` is shared by ``ardoise inventaire exporter --vers ansible`` and the Ansible
inventory plugin, so both give the same groups and variables.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from ardoise.inventaire.modele import RefCoffre
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import EcoleChargee, Equipement, Territoire, equipements_ecole
from ardoise.inventaire.types import TypeEquipement
from ardoise.profils.resolution import profil_effectif

COLONNES = list(Equipement.__dataclass_fields__)


def vers_json(equipements: list[Equipement]) -> list[dict]:
    return [e.en_dict() for e in equipements]


def vers_csv(equipements: list[Equipement]) -> str:
    sortie = io.StringIO()
    ecrivain = csv.DictWriter(sortie, fieldnames=COLONNES, delimiter=";", lineterminator="\n")
    ecrivain.writeheader()
    for e in equipements:
        ecrivain.writerow({k: ("" if v is None else v) for k, v in e.en_dict().items()})
    return sortie.getvalue()


def nom_groupe(prefixe: str, valeur: str) -> str:
    """An Ansible-safe group name: ``commune_saint_aubin``, ``ecole_0331101t``."""
    return f"{prefixe}_" + re.sub(r"[^a-z0-9_]", "_", valeur.lower())


def _references(valeur: Any) -> Any:
    """Replace vault references by a Jinja lookup into ``ardoise_coffre`` (values stay encrypted)."""
    if isinstance(valeur, dict):
        if set(valeur) == {"coffre"}:
            return "{{ ardoise_coffre['" + valeur["coffre"] + "'] }}"
        return {k: _references(v) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [_references(v) for v in valeur]
    return valeur


def variables_ecole(e: EcoleChargee) -> dict[str, Any]:
    """Group variables of a school: its effective policy, network and Wi-Fi, for the roles."""
    p = e.politique.model_dump(mode="json")
    variables = {f"ardoise_{k}": _references(v) for k, v in p.items()}
    m = e.modele
    variables.update(
        ardoise_ecole={"uai": e.uai, "nom": e.nom, "commune": e.commune, "type": m.type.value},
        ardoise_vlans=[v.model_dump(mode="json") for v in m.vlans],
        ardoise_wifi=_references([w.model_dump(mode="json") for w in m.wifi]),
    )
    return variables


def _variables_hote(t: Territoire, e: EcoleChargee, eq: Equipement) -> dict[str, Any]:
    v: dict[str, Any] = {"ardoise": eq.en_dict()}
    if eq.adresse:
        v["ansible_host"] = str(eq.adresse)
    if eq.type in (TypeEquipement.pc, TypeEquipement.tablette, TypeEquipement.ipad, TypeEquipement.eni):
        poste = next(p for p in e.modele.postes if p.nom == eq.nom)
        pe = profil_effectif(t, e, poste)
        v["ardoise_profil"] = pe.profil
        # "flatpak": the install reference is a Flatpak app id (the catalogue has no Debian package for it)
        v["ardoise_applications"] = [
            {**a.__dict__, "flatpak": bool(a.installation) and not t.applications[a.id].installation.debian}
            for a in pe.applications
        ]
        v["ardoise_parametres"] = {k: val for k, (val, _) in pe.parametres.items()}
    elif eq.type is TypeEquipement.switch:
        c = next(c for c in e.modele.commutateurs if c.nom == eq.nom)
        v["ardoise_commutateur"] = _references(c.model_dump(mode="json"))
        v["ansible_port"] = c.gestion.port
    return v


def vers_ansible(t: Territoire, selection: Selection | None = None, coffre: dict | None = None) -> dict:
    """The ``ansible-inventory --list`` JSON structure (``_meta.hostvars`` included).

    ``coffre`` maps secret names to their encrypted form as the caller's Ansible wants it
    (``{"__ansible_vault": ciphertext}`` for JSON); it becomes ``all.vars.ardoise_coffre``.
    """
    selection = selection or Selection()
    groupes: dict[str, dict] = {}
    hostvars: dict[str, dict] = {}

    def groupe(nom: str) -> dict:
        return groupes.setdefault(nom, {"hosts": [], "vars": {}, "children": []})

    for e in selection.ecoles_de(t):
        g_commune = nom_groupe("commune", e.commune)
        g_ecole = nom_groupe("ecole", e.uai)
        if g_ecole not in groupe(g_commune)["children"]:
            groupe(g_commune)["children"].append(g_ecole)
        groupe(g_ecole)["vars"] = variables_ecole(e)
        for eq in selection.filtrer(equipements_ecole(e)):
            groupe(g_ecole)["hosts"].append(eq.nom)
            groupe(nom_groupe("type", eq.type.value))["hosts"].append(eq.nom)
            if eq.os:
                groupe(nom_groupe("os", eq.os))["hosts"].append(eq.nom)
            if eq.profil:
                groupe(nom_groupe("profil", eq.profil))["hosts"].append(eq.nom)
            groupe(nom_groupe("etat", eq.etat.value))["hosts"].append(eq.nom)
            if eq.vlan is not None:
                vlan = e.vlan(eq.vlan)
                if vlan is not None:
                    groupe(nom_groupe("vlan", vlan.role.value))["hosts"].append(eq.nom)
            hostvars[eq.nom] = _variables_hote(t, e, eq)
    resultat: dict[str, Any] = {"_meta": {"hostvars": hostvars}}
    resultat["all"] = {
        "children": sorted(groupes) + ["ungrouped"],
        "vars": {
            "ardoise_syndicat": t.syndicat.model_dump(mode="json"),
            "ardoise_coffre": coffre or {},
        },
    }
    for nom, g in groupes.items():
        resultat[nom] = {k: v for k, v in g.items() if v}
    return resultat


__all__ = ["vers_json", "vers_csv", "vers_ansible", "variables_ecole", "nom_groupe", "RefCoffre"]
