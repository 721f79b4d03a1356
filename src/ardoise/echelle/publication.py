"""Publish what each PC needs to configure itself with ansible-pull into a git repository.

``publier`` writes, into a git working tree, the playbooks (``playbooks/pull.yml`` imports the workshop's
``atelier.yml``: one definition of how a device is configured), the roles, an ``ansible.cfg`` and one static
inventory per Linux PC (``inventaires/<name>.yml``) built from :func:`ardoise.inventaire.export.vers_ansible`, so
a PC gets the same groups and variables the inventory plugin gives. Vault values stay ``!vault`` ciphertexts and a
PC's inventory carries only the secrets its own variables reference. Then it commits with the git CLI: one commit
when something changed, none otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.coffre import textes_chiffres
from ardoise.inventaire.export import nom_groupe, vers_ansible
from ardoise.inventaire.selection import Selection
from ardoise.inventaire.territoire import Territoire
from ardoise.inventaire.types import OS_LINUX, TypeEquipement

log = logging.getLogger(__name__)

PLAYBOOKS = ("atelier.yml", "pull.yml", "pull-installer.yml")
GERES = ("ansible.cfg", "LISEZMOI.md", "playbooks", "roles", "inventaires")  # everything else is left alone
_REFERENCE = re.compile(r"ardoise_coffre\['([a-z0-9][a-z0-9_.-]{0,62})'\]")
_REFERENCE_SEULE = re.compile(r"\{\{ ardoise_coffre\['[a-z0-9][a-z0-9_.-]{0,62}'\] \}\}")

ANSIBLE_CFG = """\
# Généré par « ardoise echelle publier » : ansible-pull lance ansible-playbook depuis ce dossier.
[defaults]
roles_path = roles
interpreter_python = /usr/bin/python3
retry_files_enabled = False

[inventory]
enable_plugins = yaml
any_unparsed_is_failed = True
"""

LISEZMOI = """\
# Dépôt ansible-pull du territoire (généré par Ardoise)

Ne pas modifier à la main : `ardoise echelle publier --vers <ce dossier>` le réécrit depuis le manifeste.
Chaque PC joue `playbooks/pull.yml` avec son inventaire `inventaires/<poste>.yml` (service systemd
`ardoise-pull`, rôle `ardoise_pull`). Les secrets restent chiffrés (`!vault`).
"""


class _Chiffre(str):
    """A vault ciphertext, written as ``!vault |``."""


class _Inerte(str):
    """Manifest text that looks like a template: ``!unsafe`` so Ansible never evaluates it."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Chiffre, lambda d, v: d.represent_scalar("!vault", str(v), style="|"))
_Dumper.add_representer(_Inerte, lambda d, v: d.represent_scalar("!unsafe", str(v)))


def _inerte(valeur: Any) -> Any:
    """Only Ardoise's own vault references stay templates (as the inventory plugin does)."""
    if isinstance(valeur, str):
        if ("{{" in valeur or "{%" in valeur) and not _REFERENCE_SEULE.fullmatch(valeur):
            return _Inerte(valeur)
        return valeur
    if isinstance(valeur, dict):
        return {k: _inerte(v) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [_inerte(v) for v in valeur]
    return valeur


@dataclass
class Publication:
    depot: Path
    postes: list[str]
    commit: str | None  # None: nothing changed, no commit
    fichiers_modifies: list[str] = field(default_factory=list)


def _git(depot: Path, *args: str) -> str:
    r = subprocess.run(["git", "-C", str(depot), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise ErreurUsage(f"git {' '.join(args[:2])} a échoué dans {depot} : {r.stderr.strip()[-400:]}")
    return r.stdout


def _branche(t: Territoire, selection: Selection) -> str:
    depots = {
        (e.politique.depot_pull.url, e.politique.depot_pull.branche)
        for e in selection.ecoles_de(t)
        if e.politique.depot_pull is not None
    }
    if not depots:
        raise ErreurUsage(
            "aucune école choisie n'a de dépôt ansible-pull : renseignez politique.depot_pull"
            " (url, branche) dans territoire.yml"
        )
    if len(depots) > 1:
        liste = ", ".join(f"{u} ({b})" for u, b in sorted(depots))
        raise ErreurUsage(
            f"les écoles choisies ont plusieurs dépôts ansible-pull ({liste}) : publiez chaque dépôt"
            " séparément avec --commune ou --ecole"
        )
    return next(iter(depots))[1]


def inventaires_postes(
    t: Territoire, selection: Selection, variables: dict[str, Any] | None = None
) -> dict[str, str]:
    """``{pc name: YAML inventory text}`` for the selected Linux PCs whose school has a pull repository."""
    linux = {o.value for o in OS_LINUX}
    ecoles = {e.uai for e in selection.ecoles_de(t) if e.politique.depot_pull is not None}
    chiffres = textes_chiffres(t.fichier_coffre) if t.fichier_coffre.is_file() else {}
    donnees = vers_ansible(t, selection)
    hostvars = donnees.pop("_meta")["hostvars"]
    tout = donnees.pop("all")["vars"]
    resultat = {}
    for eq in selection.equipements(t):
        if eq.type is not TypeEquipement.pc or eq.os not in linux or eq.uai not in ecoles:
            continue
        groupes: dict[str, Any] = {}
        for nom, g in donnees.items():
            if eq.nom in g.get("hosts", ()):
                groupes[nom] = {"hosts": {eq.nom: None}, **({"vars": g["vars"]} if g.get("vars") else {})}
        commune = nom_groupe("commune", eq.commune)
        groupes[commune] = {"children": {nom_groupe("ecole", eq.uai): None}}
        hote = {k: v for k, v in hostvars[eq.nom].items() if k not in ("ansible_host", "ansible_port")}
        hote.update(ansible_connection="local", ansible_python_interpreter="/usr/bin/python3")
        hote.update(variables or {})
        texte_vars = json.dumps([hote, [g.get("vars") for g in groupes.values()]], ensure_ascii=False)
        references = sorted(set(_REFERENCE.findall(texte_vars)))
        inconnues = [r for r in references if r not in chiffres]
        if inconnues:
            raise ErreurUsage(f"{eq.nom} : secret(s) absent(s) du coffre : {', '.join(inconnues)}")
        groupes[nom_groupe("ecole", eq.uai)]["hosts"][eq.nom] = hote
        inventaire = {
            "all": {
                "vars": {
                    "ardoise_syndicat": tout["ardoise_syndicat"],
                    "ardoise_coffre": {r: _Chiffre(chiffres[r]) for r in references},
                },
                "children": groupes,
            }
        }
        entete = (
            f"# Inventaire du poste {eq.nom} pour ansible-pull — généré par « ardoise echelle publier ».\n"
        )
        resultat[eq.nom] = entete + yaml.dump(
            _inerte(inventaire), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110
        )
    return resultat


def _fichiers(racine: Path, inventaires: dict[str, str]) -> dict[str, bytes]:
    """Relative path → content of everything the repository must hold."""
    fichiers: dict[str, bytes] = {
        "ansible.cfg": ANSIBLE_CFG.encode(),
        "LISEZMOI.md": LISEZMOI.encode(),
    }
    for p in PLAYBOOKS:
        fichiers[f"playbooks/{p}"] = (racine / "playbooks" / p).read_bytes()
    for role in sorted((racine / "roles").glob("ardoise_*")):
        for f in sorted(role.rglob("*")):
            rel = f.relative_to(role)
            if f.is_file() and rel.parts[0] != "molecule" and "__pycache__" not in rel.parts:
                fichiers[f"roles/{role.name}/{rel.as_posix()}"] = f.read_bytes()
    for nom, texte in inventaires.items():
        fichiers[f"inventaires/{nom}.yml"] = texte.encode()
    return fichiers


def publier(
    t: Territoire,
    depot: Path,
    racine: Path,
    selection: Selection | None = None,
    variables: dict[str, Any] | None = None,
) -> Publication:
    """Write the repository's managed files, then commit them if anything changed."""
    selection = (selection or Selection()).verifier(t)
    branche = _branche(t, selection)
    inventaires = inventaires_postes(t, selection, variables)
    if not inventaires:
        raise ErreurUsage("aucun PC Linux dans la sélection : rien à publier")
    if depot.exists() and not depot.is_dir():
        raise ErreurUsage(
            f"{depot} n'est pas un dossier : donnez le dossier d'un dépôt git (ou un dossier neuf)"
        )
    if not (depot / ".git").exists():
        if depot.exists() and any(depot.iterdir()):
            raise ErreurUsage(
                f"{depot} n'est pas un dépôt git et n'est pas vide : donnez un dépôt git ou un dossier neuf"
            )
        depot.mkdir(parents=True, exist_ok=True)
        _git(depot, "init", "-q", "-b", branche)
    actuelle = _git(depot, "symbolic-ref", "--short", "HEAD").strip()
    if actuelle != branche:
        raise ErreurUsage(
            f"le dépôt {depot} est sur la branche « {actuelle} », le territoire attend « {branche} »"
            " (politique.depot_pull.branche) : changez de branche (git switch) ou de dépôt"
        )
    voulus = _fichiers(racine, inventaires)
    for gere in GERES:
        chemin = depot / gere
        if chemin.is_dir():
            for f in sorted(chemin.rglob("*"), reverse=True):
                rel = f.relative_to(depot).as_posix()
                if f.is_file() and rel not in voulus:
                    f.unlink()
                elif f.is_dir() and not any(f.iterdir()):
                    f.rmdir()
    for rel, contenu in voulus.items():
        f = depot / rel
        if not f.is_file() or f.read_bytes() != contenu:
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(contenu)
            if rel.startswith("roles/"):
                f.chmod(0o755 if os.access(racine / rel, os.X_OK) else 0o644)
    _git(depot, "add", "-A", "--", *GERES)
    modifies = [ligne[3:] for ligne in _git(depot, "status", "--porcelain", "--", *GERES).splitlines()]
    if not modifies:
        log.info("dépôt %s à jour : aucun commit", depot)
        return Publication(depot, sorted(inventaires), None)
    identite = []
    if not _git_config(depot, "user.email"):
        identite = ["-c", "user.name=Ardoise", "-c", f"user.email=ardoise@{t.syndicat.siren}.invalid"]
    message = (
        f"Ardoise : publication pour {len(inventaires)} poste(s) ({len(modifies)} fichier(s) modifié(s))"
    )
    r = subprocess.run(["git", "-C", str(depot), *identite, "commit", "-q", "-m", message],
                       capture_output=True, text=True)  # fmt: skip
    if r.returncode != 0:
        raise ErreurUsage(f"git commit a échoué dans {depot} : {r.stderr.strip()[-400:]}")
    commit = _git(depot, "rev-parse", "HEAD").strip()
    return Publication(depot, sorted(inventaires), commit, sorted(modifies))


def _git_config(depot: Path, cle: str) -> str:
    r = subprocess.run(["git", "-C", str(depot), "config", cle], capture_output=True, text=True)
    return r.stdout.strip()


__all__ = ["publier", "inventaires_postes", "Publication"]
