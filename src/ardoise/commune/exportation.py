"""``ardoise commune exporter``: a self-contained Ardoise directory for one commune only.

Everything is written into a temporary directory next to the destination, validated with the one
validator (``chargeur.valider``), checked for leaks (no identifier of another commune, no secret the
commune does not reference, clear or encrypted), and only then moved into place: a refusal leaves
nothing behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import secrets as aleatoire
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import ardoise
from ardoise.commune import ErreurReprise
from ardoise.commune.historique import Portee, compacter_sqlite, copier
from ardoise.commune.perimetre import (
    Perimetre,
    jetons_etrangers,
    motif,
    nettoyer,
    perimetre,
    references_coffre,
)
from ardoise.erreurs import ErreurManifeste, ErreurUsage
from ardoise.inventaire import coffre
from ardoise.inventaire.chargeur import FICHIER_TERRITOIRE, charger, valider
from ardoise.inventaire.territoire import Territoire
from ardoise.inventaire.yaml_sur import lire
from ardoise.parc.edition import _vider, _yaml_pour
from ardoise.resultats.magasin import Magasin
from ardoise.secrets import Secret, enregistrer

log = logging.getLogger(__name__)

FICHIER_MDP = "coffre.mdp"  # in the exported inventory, mode 0600
FICHIER_ROTATION = "secrets-a-renouveler.csv"
BASE_EXPORT = Path("var") / "ardoise" / "resultats.sqlite"
GREFFON = Path(ardoise.__file__).resolve().parents[2] / "plugins" / "inventory" / "ardoise.py"


@dataclass
class Export:
    """What an export wrote (never a secret value, never the new password)."""

    commune: str
    dossier: Path
    ecoles: list[str]
    appareils: int
    profils: list[str]
    applications: int
    secrets: list[str]
    historique: dict[str, int] = field(default_factory=dict)
    fichiers: list[str] = field(default_factory=list)


def verifier_destination(dossier: Path) -> None:
    if dossier.exists() and (not dossier.is_dir() or any(dossier.iterdir())):
        raise ErreurReprise(
            f"destination « {dossier} » déjà existante et non vide : rien n'a été écrit ;"
            " choisissez un dossier neuf (ou videz celui-ci)"
        )


def exporter(
    inventaire: Path | str | None,
    commune: str,
    vers: Path,
    base: str | None = None,
    mot_de_passe: Path | None = None,
    maintenant: dt.datetime | None = None,
) -> Export:
    """Export ``commune`` of the territory at ``inventaire`` into the new directory ``vers``."""
    vers = Path(vers).absolute()
    verifier_destination(vers)
    t = charger(inventaire)
    p = perimetre(t, commune)
    if not p.ecoles:
        raise ErreurReprise(
            f"la commune « {p.commune} » n'a aucune école dans le manifeste : rien à exporter"
        )
    mdp_territoire = mot_de_passe or coffre.fichier_mot_de_passe(t.racine.parent)
    valeurs = coffre.reveler(t.fichier_coffre, list(p.secrets), mdp_territoire) if p.secrets else {}
    vers.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=vers.parent, prefix=f".{vers.name}-export-"))
    try:
        resultat = _ecrire(t, p, valeurs, tmp, base, maintenant or dt.datetime.now(dt.UTC))
        _controler(t, p, tmp)
        if vers.exists():
            vers.rmdir()  # checked empty above
        os.replace(tmp, vers)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    resultat.dossier = vers
    return resultat


# -- writing ---------------------------------------------------------------------------------------
def _ecrire(t: Territoire, p: Perimetre, valeurs: dict[str, Secret], racine: Path, base: str | None,
            maintenant: dt.datetime) -> Export:  # fmt: skip
    inv = racine / "inventaire"
    inv.mkdir()
    (inv / FICHIER_TERRITOIRE).write_text(_territoire_yml(t, p, maintenant), encoding="utf-8")
    for f in p.fichiers_ecoles:
        cible = inv / f.relative_to(t.racine.resolve())
        cible.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, cible)
    for annexe in p.annexes:
        source = t.racine / annexe
        if source.is_file():
            (inv / annexe).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, inv / annexe)
    mdp = aleatoire.token_urlsafe(32)
    enregistrer(mdp)  # masked if it ever reached a message
    descripteur = os.open(inv / FICHIER_MDP, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descripteur, "w", encoding="utf-8") as f:
        f.write(mdp + "\n")
    (inv / "coffre.yml").write_text(texte_coffre(valeurs, mdp.encode(), p.commune), encoding="utf-8")
    (inv / "ardoise.yml").write_text(ARDOISE_YML, encoding="utf-8")
    _profils(t, p, racine / "profils_terminaux")
    (racine / "ansible.cfg").write_text(ANSIBLE_CFG, encoding="utf-8")
    (racine / "plugins" / "inventory").mkdir(parents=True)
    (racine / "plugins" / "inventory" / "ardoise.py").write_text(_greffon(p), encoding="utf-8")
    (racine / ".gitignore").write_text(f"inventaire/{FICHIER_MDP}\nvar/\n", encoding="utf-8")
    (racine / FICHIER_ROTATION).write_text(_rotation(t, p), encoding="utf-8")
    historique = _historique(t, p, base, racine / BASE_EXPORT)
    appareils = len(p.hotes)
    (racine / "LISEZMOI.md").write_text(_lisezmoi(t, p, appareils, historique, maintenant), encoding="utf-8")
    return Export(
        commune=p.commune, dossier=racine, ecoles=sorted(p.uais), appareils=appareils, profils=list(p.profils),
        applications=len(p.applications), secrets=list(p.secrets), historique=historique,
        fichiers=sorted(str(f.relative_to(racine)) for f in racine.rglob("*") if f.is_file()),
    )  # fmt: skip


def _territoire_yml(t: Territoire, p: Perimetre, maintenant: dt.datetime) -> str:
    """territoire.yml with the territory's defaults, this commune only, the contracts that cover it."""
    source = (t.racine / FICHIER_TERRITOIRE).read_text(encoding="utf-8")
    y = _yaml_pour(source)
    doc = y.load(source)
    communes = doc["communes"]
    for i in reversed(range(len(communes))):
        if communes[i].get("id") != p.commune:
            del communes[i]
    fournisseurs_utiles = {str(g.fournisseur) for e in p.ecoles for g in _garanties(e)}
    contrats = doc.get("contrats_maintenance")
    if contrats is not None:
        for i in reversed(range(len(contrats))):
            liste = contrats[i].get("communes")
            if liste and p.commune not in liste:
                del contrats[i]
                continue
            if liste:
                for j in reversed(range(len(liste))):
                    if liste[j] != p.commune:
                        del liste[j]
            fournisseurs_utiles.add(str(contrats[i].get("fournisseur")))
        if not contrats:
            del doc["contrats_maintenance"]
    fournisseurs = doc.get("fournisseurs")
    if fournisseurs is not None:
        for i in reversed(range(len(fournisseurs))):
            if str(fournisseurs[i].get("id")) not in fournisseurs_utiles:
                del fournisseurs[i]
        if not fournisseurs:
            del doc["fournisseurs"]
    doc["coffre"] = "coffre.yml"
    doc["profils"] = "../profils_terminaux"
    entete = (
        f"# Export Ardoise de la commune « {p.commune} » du {maintenant:%d/%m/%Y} : la politique par défaut"
        " du territoire\n# d'origine, cette seule commune, et les contrats qui la couvrent. Voir LISEZMOI.md.\n"
    )
    return entete + _vider(y, doc)


def _greffon(p: Perimetre) -> str:
    """The inventory plugin, its examples rewritten with this commune's names only."""
    source = GREFFON.read_text(encoding="utf-8")
    debut = source.index('EXAMPLES = r"""')
    fin = source.index('"""', debut + len('EXAMPLES = r"""')) + 3
    uai = sorted(p.uais)[0]
    exemples = (
        'EXAMPLES = r"""\n# inventaire/ardoise.yml : toute la commune (le dossier de ce fichier est l\'inventaire)\n'
        f"plugin: ardoise\n---\n# Une seule école\nplugin: ardoise\necoles: [{uai}]\n"
        '"""'
    )
    return source[:debut] + exemples + source[fin:]


def _garanties(e) -> list:
    m = e.modele
    appareils = [*m.postes, *m.commutateurs, *m.bornes_wifi, *([m.serveur] if m.serveur else [])]
    return [a.garantie for a in appareils if a.garantie]


def _profils(t: Territoire, p: Perimetre, dossier: Path) -> None:
    """The profiles the commune uses (whole inheritance chain) and only their catalogue entries."""
    (dossier / "profils").mkdir(parents=True)
    source_dossier = _dossier_profils(t)
    for nom in p.profils:
        shutil.copyfile(source_dossier / "profils" / f"{nom}.yml", dossier / "profils" / f"{nom}.yml")
    source = (source_dossier / "catalogue.yml").read_text(encoding="utf-8")
    y = _yaml_pour(source)
    doc = y.load(source)
    apps = doc["applications"]
    for i in reversed(range(len(apps))):
        if apps[i].get("id") not in p.applications:
            del apps[i]
    if not apps:  # the schema wants at least one entry
        raise ErreurUsage(f"la commune « {p.commune} » n'utilise aucune application du catalogue")
    (dossier / "catalogue.yml").write_text(_vider(y, doc), encoding="utf-8")


def _dossier_profils(t: Territoire) -> Path:
    brut = lire(t.racine / FICHIER_TERRITOIRE).donnees
    return (t.racine / str(brut.get("profils") or "../profils_terminaux")).resolve()


def texte_coffre(valeurs: dict[str, Secret], mot_de_passe: bytes, commune: str) -> str:
    """A vault file: one ``nom: !vault |`` entry per secret, encrypted like ``ansible-vault encrypt_string``."""
    from ansible.parsing.vault import VaultLib, VaultSecret

    vault = VaultLib([("default", VaultSecret(mot_de_passe))])
    lignes = [
        f"# Coffre de la commune « {commune} » : chaque secret chiffré avec ansible-vault (encrypt_string),",
        "# avec un mot de passe NEUF (fichier coffre.mdp, à mettre hors du dossier). Ces secrets étaient connus",
        "# du syndicat : changez-les (voir secrets-a-renouveler.csv).",
        "",
    ]
    for nom in sorted(valeurs):
        chiffre = vault.encrypt(valeurs[nom].reveler().encode()).decode()
        lignes.append(f"{nom}: !vault |")
        lignes.extend(f"          {ligne}" for ligne in chiffre.splitlines())
    return "\n".join(lignes) + "\n"


def entrees_coffre(valeurs: dict[str, Secret], mot_de_passe: bytes) -> str:
    """Only the entries (no header), to append to an existing vault."""
    texte = texte_coffre(valeurs, mot_de_passe, "")
    return "\n".join(ligne for ligne in texte.splitlines() if not ligne.startswith("#") and ligne) + "\n"


def _rotation(t: Territoire, p: Perimetre) -> str:
    """Names and why, never values."""
    autres: dict[str, set[str]] = {}
    for e in t.ecoles:
        if e.commune == p.commune:
            continue
        for nom in references_coffre(lire((t.racine.parent / e.fichier).resolve()).donnees):
            autres.setdefault(nom, set()).add(e.commune)
    sortie = io.StringIO()
    w = csv.writer(sortie, delimiter=";", lineterminator="\n")
    w.writerow(["secret", "raison", "utilise_dans"])
    for nom, fichiers in p.secrets.items():
        if fichiers == (FICHIER_TERRITOIRE,) or nom in autres:
            raison = ("partagé avec d'autres communes du territoire d'origine : le syndicat et ces communes le"
                      " connaissent ; changez-le en premier")  # fmt: skip
        else:
            raison = "connu du syndicat (il l'a administré) : changez-le lors de la reprise"
        w.writerow([nom, raison, " ".join(fichiers)])
    return sortie.getvalue()


def _historique(t: Territoire, p: Perimetre, base: str | None, fichier: Path) -> dict[str, int]:
    from ardoise.resultats.magasin import url_par_defaut

    url = base or url_par_defaut()
    fichier.parent.mkdir(parents=True, exist_ok=True)
    cible = Magasin(f"sqlite:///{fichier}")
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        log.info("pas de base de résultats (%s) : historique vide", url)
        compacter_sqlite(cible)
        return {}
    source = Magasin(url)
    m = motif(jetons_etrangers(t, p))
    try:
        return copier(source, cible, Portee(p.commune, p.hotes, p.uais), lambda v: nettoyer(v, m))
    finally:
        source.moteur.dispose()
        compacter_sqlite(cible)


# -- checks ----------------------------------------------------------------------------------------
def _controler(t: Territoire, p: Perimetre, racine: Path) -> None:
    """The export validates on its own and names nothing of another commune; else nothing is kept."""
    territoire_export, problemes = valider(racine / "inventaire")
    if territoire_export is None:
        raise ErreurManifeste(problemes)
    fuites = fuites_dans(racine, jetons_etrangers(t, p) | secrets_etrangers(t, p))
    if fuites:
        raise ErreurReprise(
            "l'export contiendrait des données d'autres communes, rien n'a été écrit : "
            + ", ".join(sorted(fuites)[:10])
        )


def secrets_etrangers(t: Territoire, p: Perimetre) -> set[str]:
    """Names and ciphertext lines of the secrets this commune does not reference."""
    resultat: set[str] = set()
    for nom, chiffre in coffre.textes_chiffres(t.fichier_coffre).items():
        if nom not in p.secrets:
            resultat.add(nom)
            resultat.update(ligne.strip() for ligne in chiffre.splitlines()[1:] if ligne.strip())
    return resultat


def fuites_dans(racine: Path, interdits: set[str]) -> set[str]:
    """``fichier : texte`` for each forbidden text found in any file under ``racine`` (whole words)."""
    jetons = sorted({j.lower() for j in interdits if j})
    trouvees: set[str] = set()
    for f in sorted(racine.rglob("*")):
        if not f.is_file():
            continue
        texte = f.read_bytes().decode("utf-8", errors="replace").lower()
        for j in jetons:
            i = texte.find(j)
            while i >= 0:
                avant = texte[i - 1] if i else " "
                apres = texte[i + len(j)] if i + len(j) < len(texte) else " "
                if not (avant.isascii() and avant.isalnum()) and not (apres.isascii() and apres.isalnum()):
                    trouvees.add(f"{f.relative_to(racine)} : « {j} »")
                    break
                i = texte.find(j, i + 1)
    return trouvees


# -- fixed texts -----------------------------------------------------------------------------------
ARDOISE_YML = """\
# Source d'inventaire Ansible de la commune : le greffon « ardoise » (plugins/inventory/ardoise.py)
# lit et valide le manifeste de ce dossier. Exemple : ansible-inventory --graph
plugin: ardoise
"""

ANSIBLE_CFG = f"""\
# Configuration Ansible de cet export Ardoise : lancer ansible-* depuis ce dossier, avec le Python
# où Ardoise est installé (le greffon d'inventaire importe le paquet ardoise).
[defaults]
inventory = inventaire/ardoise.yml
inventory_plugins = plugins/inventory
# Mot de passe du coffre produit par l'export : déplacez-le hors du dossier et corrigez ce chemin.
vault_password_file = inventaire/{FICHIER_MDP}
host_key_checking = True
interpreter_python = auto_silent

[inventory]
enable_plugins = ardoise, host_list, yaml
any_unparsed_is_failed = True
"""


def _lisezmoi(t: Territoire, p: Perimetre, appareils: int, historique: dict[str, int],
              maintenant: dt.datetime) -> str:  # fmt: skip
    c = t.commune(p.commune)
    ecoles = "\n".join(f"- {e.uai} — {e.nom} (`{Path(e.fichier).name}`)" for e in p.ecoles)
    lignes_h = ", ".join(f"{n} {k}" for k, n in historique.items() if n) or "aucun historique"
    return f"""# {c.nom} : reprise en main de ses écoles

Cet export a été produit le {maintenant:%d/%m/%Y à %H:%M} UTC par `ardoise commune exporter` depuis le
territoire du {t.syndicat.nom}. Il contient tout ce qu'il faut pour que la commune administre seule
ses écoles avec Ardoise, et rien des autres communes.

## Contenu

{ecoles}

- `inventaire/territoire.yml` : la politique par défaut du territoire d'origine, la commune seule (avec sa
  propre politique), les contrats de maintenance qui la couvrent. Les coordonnées `syndicat:` sont celles de
  l'ancien gestionnaire : remplacez-les par celles de la commune.
- `inventaire/communes/{p.commune}/ecoles/` : les manifestes des écoles, copiés tels quels (commentaires compris).
  {appareils} appareils.
- `profils_terminaux/` : les profils utilisés ({", ".join(p.profils)}) avec leur chaîne d'héritage, et les
  seules entrées du catalogue d'applications qu'ils emploient.
- `inventaire/coffre.yml` : les secrets utilisés par ces fichiers, chiffrés avec un **nouveau** mot de passe,
  dans `inventaire/{FICHIER_MDP}` (lisible par son seul propriétaire). Déplacez ce fichier hors du dossier
  (et corrigez `vault_password_file` dans `ansible.cfg`, ou utilisez `ARDOISE_COFFRE_MDP`) ; ne le versionnez
  jamais (`.gitignore` l'exclut).
- `{FICHIER_ROTATION}` : les secrets à changer et pourquoi (jamais leur valeur) : le syndicat les connaît.
- `var/ardoise/resultats.sqlite` : l'historique de la commune dans la base de résultats ({lignes_h}).
- `ansible.cfg`, `inventaire/ardoise.yml`, `plugins/inventory/ardoise.py` : Ansible lit le manifeste par le
  greffon d'Ardoise.

## Premiers pas

```sh
cd <ce dossier>
ardoise inventaire valider                  # le manifeste se valide seul
ardoise inventaire lister
ansible-inventory --graph                   # avec le Python où Ardoise est installé
ardoise maintenance rapport                 # l'historique repris
```

Les rôles et playbooks Ansible (`roles/`, `playbooks/`) viennent avec l'installation d'Ardoise : copiez-les
ici ou ajoutez `roles_path` à `ansible.cfg`.

## Changer les secrets

Pour chaque ligne de `{FICHIER_ROTATION}` : changez la valeur sur l'équipement (commutateur, borne Wi-Fi,
comptes des postes), puis dans le coffre :
`ansible-vault encrypt_string --vault-password-file inventaire/{FICHIER_MDP} --name <secret>` et remplacez
l'entrée de `inventaire/coffre.yml`.

## Revenir au syndicat

`ardoise commune importer --depuis <ce dossier>` (lancé dans le dépôt du syndicat) remet la commune, ses
secrets (rechiffrés avec le mot de passe du territoire) et son historique dans le territoire ; il refuse tout
conflit (commune déjà présente, UAI, adresse, MAC ou nom d'hôte déjà pris) sans rien écrire.
"""
