"""Every Ansible task that handles a secret carries ``no_log: true``.

Secrets reach Ansible through the inventory plugin: a manifest's ``{coffre: nom}`` becomes
``{{ ardoise_coffre['nom'] }}`` at some path of a group variable (``ardoise_comptes.mot_de_passe_administrateur``,
``ardoise_snmp.auth``…). Starting from those paths (read from the real inventory structure, not listed by hand)
and from the vault password file, every role default, role var, play var and task var whose value uses one
becomes a secret variable too (to a fixed point). Then every task of ``roles/*/tasks``, ``roles/*/handlers`` and
``playbooks/*.yml`` (blocks included) that uses a secret variable, directly or through the template it renders,
must carry ``no_log: true`` (its own, or its block's or play's).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.export import vers_ansible

RACINE = Path(__file__).resolve().parents[2]
REFERENCE_COFFRE = "ardoise_coffre["
SECTIONS = ("tasks", "pre_tasks", "post_tasks", "handlers")
BLOCS = ("block", "rescue", "always")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


class _Chargeur(yaml.SafeLoader):
    pass


_Chargeur.add_constructor("!vault", lambda chargeur, noeud: "<vault>")
_Chargeur.add_constructor("!unsafe", lambda chargeur, noeud: chargeur.construct_scalar(noeud))


def _a_plat(donnees) -> str:
    """Every key and scalar of a YAML structure, one per line, unquoted."""
    if isinstance(donnees, dict):
        return "\n".join(f"{k}\n{_a_plat(v)}" for k, v in donnees.items())
    if isinstance(donnees, list):
        return "\n".join(_a_plat(v) for v in donnees)
    return "" if donnees is None else str(donnees)


def _lire(f: Path):
    return yaml.load(f.read_text(encoding="utf-8"), Loader=_Chargeur)  # noqa: S506 (SafeLoader subclass)


@dataclass
class Secrets:
    """Secret paths of the inventory's variables and bare secret variables."""

    cles: dict[
        str, set[str]
    ]  # dict variable -> its secret keys (ardoise_comptes -> {mot_de_passe_administrateur})
    variables: set[str]  # variables secret as a whole

    def utilise(self, texte: str) -> set[str]:
        """The secret variables (or ``var.key``) that ``texte`` uses."""
        trouves = {v for v in self.variables if re.search(rf"\b{re.escape(v)}\b", texte)}
        for var, cles in self.cles.items():
            for cle in cles:
                if re.search(rf"\b{re.escape(var)}\s*(\[\s*['\"]{re.escape(cle)}['\"]\s*\]|\.{re.escape(cle)}\b)",
                             texte):  # fmt: skip
                    trouves.add(f"{var}.{cle}")
            if re.search(rf"\b{re.escape(var)}\b(?!\s*[\[.])", texte):  # the whole dict, secrets included
                trouves.add(var)
        return trouves


def _chemins_secrets(donnees, chemin: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(donnees, dict):
        for k, v in donnees.items():
            yield from _chemins_secrets(v, (*chemin, str(k)))
    elif isinstance(donnees, list):
        for v in donnees:
            yield from _chemins_secrets(v, chemin)
    elif isinstance(donnees, str) and REFERENCE_COFFRE in donnees:
        yield chemin


def _variables_de_l_inventaire() -> Secrets:
    inv = vers_ansible(charger(RACINE / "inventaire"))
    cles: dict[str, set[str]] = {}
    variables = {"ardoise_coffre"}
    blocs = [g.get("vars", {}) for g in inv.values() if isinstance(g, dict)]
    blocs += list(inv.get("_meta", {}).get("hostvars", {}).values())
    for bloc in blocs:
        for var, valeur in bloc.items():
            for chemin in _chemins_secrets(valeur):
                if len(chemin) >= 1:
                    cles.setdefault(var, set()).add(chemin[0])
                else:
                    variables.add(var)
            if isinstance(valeur, str) and REFERENCE_COFFRE in valeur:
                variables.add(var)
    return Secrets(cles, variables)


def _definitions() -> dict[str, str]:
    """Every variable defined by a role (defaults, vars), a play or a task ``vars:`` -> its text."""
    defs: dict[str, str] = {}

    def ajouter(bloc) -> None:
        if isinstance(bloc, dict):
            for k, v in bloc.items():
                defs[str(k)] = defs.get(str(k), "") + "\n" + _a_plat(v)

    for f in sorted(RACINE.glob("roles/*/defaults/*.yml")) + sorted(RACINE.glob("roles/*/vars/*.yml")):
        ajouter(_lire(f))
    for _, tache, _ in _taches():
        ajouter(tache.get("vars"))
    for f in sorted(RACINE.glob("playbooks/*.yml")):
        for jeu in _lire(f) or []:
            if isinstance(jeu, dict):
                ajouter(jeu.get("vars"))
    return defs


@functools.cache
def secrets() -> Secrets:
    s = _variables_de_l_inventaire()
    defs = _definitions()
    fichiers_mdp = [v for v, texte in defs.items() if "VAULT_PASSWORD_FILE" in texte]
    for (
        var,
        texte,
    ) in defs.items():  # the vault password itself, read from its file (ansible-pull installs it)
        if "lookup('ansible.builtin.file'" in texte and any(
            re.search(rf"\b{f}\b", texte) for f in fichiers_mdp
        ):
            s.variables.add(var)
    while True:
        nouvelles = {v for v, texte in defs.items() if v not in s.variables and s.utilise(texte) - {v}}
        if not nouvelles:
            return s
        s.variables |= nouvelles


def _taches_de(liste, fichier: Path, no_log_herite: bool) -> Iterator[tuple[Path, dict, bool]]:
    for t in liste or []:
        if not isinstance(t, dict):
            continue
        protege = no_log_herite or t.get("no_log") is True
        if any(b in t for b in BLOCS):
            for b in BLOCS:
                yield from _taches_de(t.get(b), fichier, protege)
        else:
            yield fichier, t, protege


def _taches() -> Iterator[tuple[Path, dict, bool]]:
    """(file, task, protected by no_log) for every task of the roles and playbooks."""
    for f in sorted(RACINE.glob("roles/*/tasks/*.yml")) + sorted(RACINE.glob("roles/*/handlers/*.yml")):
        yield from _taches_de(_lire(f), f, False)
    for f in sorted(RACINE.glob("playbooks/*.yml")):
        for jeu in _lire(f) or []:
            if isinstance(jeu, dict):
                for section in SECTIONS:
                    yield from _taches_de(jeu.get(section), f, jeu.get("no_log") is True)


def _texte_utilise(f: Path, tache: dict) -> str:
    """What the task reads: its arguments and conditions, and the template it renders."""
    sans_nom = {k: v for k, v in tache.items() if k not in ("name", "no_log")}
    texte = _a_plat(sans_nom)
    for module in ("ansible.builtin.template", "template"):
        src = (tache.get(module) or {}).get("src") if isinstance(tache.get(module), dict) else None
        if src and "{{" not in src:
            role = f.parents[1] if f.parents[1].parent.name == "roles" else None
            for candidat in ([role / "templates" / src] if role else []) + list(
                RACINE.glob(f"roles/*/templates/{src}")
            ):
                if candidat.is_file():  # only its Jinja expressions and statements, not its comments
                    texte += "\n".join(JINJA.findall(candidat.read_text(encoding="utf-8")))
                    break
    return texte


def sans_no_log(s: Secrets) -> list[str]:
    return [
        f"{f.relative_to(RACINE)} : « {t.get('name', '?')} » utilise {sorted(s.utilise(_texte_utilise(f, t)))}"
        for f, t, protege in _taches()
        if not protege and s.utilise(_texte_utilise(f, t))
    ]


def test_chaque_tache_qui_manipule_un_secret_porte_no_log() -> None:
    s = secrets()
    assert sans_no_log(s) == []


def test_le_detecteur_voit_les_secrets_de_l_inventaire_et_des_roles() -> None:
    """The check cannot pass vacuously: it finds the known secret paths and the tasks that use them."""
    s = secrets()
    assert {"mot_de_passe_administrateur"} <= s.cles.get("ardoise_comptes", set())
    assert {"auth", "priv"} <= s.cles.get("ardoise_snmp", set())
    assert {"ardoise_comptes_administrateur_mdp", "ardoise_pull_coffre_mdp"} <= s.variables
    proteges = [t.get("name") for f, t, p in _taches() if p and s.utilise(_texte_utilise(f, t))]
    assert "Créer l'administrateur de l'école" in proteges
    assert "Déposer le mot de passe du coffre (root seul)" in proteges
    # the same task without no_log is reported
    tache = {"name": "fuite", "ansible.builtin.debug": {"msg": "{{ ardoise_comptes_administrateur_mdp }}"}}
    assert s.utilise(_texte_utilise(RACINE / "playbooks/x.yml", tache))
    assert not s.utilise(_texte_utilise(RACINE / "playbooks/x.yml",
                                        {"ansible.builtin.user": {"name": "{{ ardoise_comptes['eleve'] }}"}}))  # fmt: skip


@pytest.mark.parametrize("texte", ["{{ ardoise_comptes }}", "{{ ardoise_comptes.mot_de_passe_administrateur }}",
                                   "{{ ardoise_coffre['snmp_auth'] }}"])  # fmt: skip
def test_formes_d_usage_reconnues(texte: str) -> None:
    assert secrets().utilise(texte)
