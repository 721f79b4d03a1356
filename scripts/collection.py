"""Build the Ansible collection ``ardoise.territoire`` (inventory plugin + ardoise_* roles) for AWX/Semaphore/AAP.

A clean build directory is generated from the repository (the plugin and the roles are copied, never kept
twice in git), then ``ansible-galaxy collection build`` makes the tarball. The plugin still imports the
``ardoise`` Python package: an execution environment installs it with pip (``meta/execution-environment.yml``
and ``requirements.txt`` for ansible-builder).

Usage: ``.venv/bin/python scripts/collection.py [--sortie sortie/collection]`` (or ``make collection``);
prints the path of ``ardoise-territoire-<version>.tar.gz``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

DEPOT = Path(__file__).resolve().parents[1]
ESPACE, NOM = "ardoise", "territoire"
# what a collection must not carry: test scenarios, caches, editor leftovers
IGNORER = shutil.ignore_patterns("molecule", "__pycache__", "*.pyc", ".*")


def version() -> str:
    for ligne in (DEPOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if ligne.startswith("version = "):
            return ligne.split("=", 1)[1].strip().strip('"')
    raise SystemExit("version introuvable dans pyproject.toml")


def roles() -> list[Path]:
    return sorted(p for p in (DEPOT / "roles").glob("ardoise_*") if (p / "tasks" / "main.yml").is_file())


GALAXY = """\
# Généré par scripts/collection.py : ne pas modifier ici.
namespace: {espace}
name: {nom}
version: {version}
readme: README.md
authors:
  - Ardoise
description: >-
  Le manifeste Ardoise d'un territoire (syndicat, communes, écoles) comme inventaire Ansible, et les rôles
  qui configurent les postes des écoles. Pour AWX, Semaphore, AAP et ansible-pull.
license:
  - AGPL-3.0-or-later
tags: [inventory, education, debian, schools]
dependencies: {{}}
repository: https://ardoise.invalid/ardoise
build_ignore: []
"""

RUNTIME = """\
---
requires_ansible: ">=2.15.0"
"""

ENVIRONNEMENT = """\
---
# Dépendances de la collection pour ansible-builder (environnement d'exécution AWX / AAP).
version: 1
dependencies:
  python: requirements.txt
"""

EXIGENCES = """\
# Le greffon d'inventaire importe le paquet Python « ardoise » (chargeur et validation du manifeste).
# Paquet du dépôt Ardoise (roue construite par « pip wheel . » et publiée sur l'index du syndicat) :
ardoise=={version}
"""

README = """\
# Collection Ansible `ardoise.territoire`

Générée par `scripts/collection.py` (`make collection`) depuis le dépôt Ardoise, version {version}.

## Contenu

- Greffon d'inventaire `ardoise.territoire.ardoise` : lit et valide le manifeste Ardoise d'un territoire
  (`territoire.yml`, un fichier par école, profils de terminaux) et en fait un inventaire Ansible (groupes
  `commune_*`, `ecole_*`, `type_*`, `os_*`, `profil_*`, `etat_*`, `vlan_*`). Les secrets restent chiffrés
  (références au coffre, déchiffrées seulement à l'usage).
- Rôles : {roles}.

## Prérequis

Le greffon importe le paquet Python `ardoise` : il doit être installé dans le Python qui exécute Ansible
(`pip install ardoise=={version}`). Pour AWX / AAP, `meta/execution-environment.yml` et `requirements.txt`
permettent à `ansible-builder` de l'installer dans l'environnement d'exécution.

## Source d'inventaire

Fichier `inventaire.yml` à côté du dossier du manifeste (ou option `inventaire:`) :

```yaml
plugin: ardoise.territoire.ardoise
inventaire: inventaire          # dossier qui contient territoire.yml, relatif à ce fichier
communes: [bellerive]           # facultatif : ne garder que ces communes
ecoles: [0331101T]              # facultatif : ne garder que ces écoles (UAI)
cache_ardoise: /tmp/ardoise     # facultatif ; un dossier en lecture seule désactive le cache
```

`ansible-inventory -i inventaire.yml --graph` ; `ansible-doc -t inventory ardoise.territoire.ardoise`.

## Rôles

```yaml
- hosts: type_pc
  roles:
    - ardoise.territoire.ardoise_socle
```

Licence : AGPL-3.0-or-later.
"""


def preparer(dossier: Path) -> Path:
    """Write the collection's build directory (emptied first); return it."""
    v = version()
    racine = dossier / f"{ESPACE}_{NOM}"
    if racine.exists():
        shutil.rmtree(racine)
    (racine / "meta").mkdir(parents=True)
    (racine / "plugins" / "inventory").mkdir(parents=True)
    shutil.copy2(
        DEPOT / "plugins" / "inventory" / "ardoise.py", racine / "plugins" / "inventory" / "ardoise.py"
    )
    noms = []
    for role in roles():
        shutil.copytree(role, racine / "roles" / role.name, ignore=IGNORER)
        noms.append(f"`{ESPACE}.{NOM}.{role.name}`")
    (racine / "galaxy.yml").write_text(GALAXY.format(espace=ESPACE, nom=NOM, version=v), encoding="utf-8")
    (racine / "meta" / "runtime.yml").write_text(RUNTIME, encoding="utf-8")
    (racine / "meta" / "execution-environment.yml").write_text(ENVIRONNEMENT, encoding="utf-8")
    (racine / "requirements.txt").write_text(EXIGENCES.format(version=v), encoding="utf-8")
    (racine / "README.md").write_text(README.format(version=v, roles=", ".join(noms)), encoding="utf-8")
    return racine


def construire(dossier: Path) -> Path:
    """Prepare the build directory under ``dossier`` and build the tarball there; return its path."""
    dossier = dossier.resolve()
    racine = preparer(dossier)
    galaxy = Path(sys.executable).with_name("ansible-galaxy")
    r = subprocess.run(
        [str(galaxy if galaxy.exists() else "ansible-galaxy"), "collection", "build", str(racine),
         "--output-path", str(dossier), "--force"],
        capture_output=True, text=True,
    )  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"ansible-galaxy collection build a échoué :\n{r.stdout}{r.stderr}")
    return dossier / f"{ESPACE}-{NOM}-{version()}.tar.gz"


def main() -> None:
    p = argparse.ArgumentParser(description="Construit la collection Ansible ardoise.territoire.")
    p.add_argument("--sortie", type=Path, default=DEPOT / "sortie" / "collection", help="dossier de sortie")
    a = p.parse_args()
    print(construire(a.sortie))


if __name__ == "__main__":
    main()
