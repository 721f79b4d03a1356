"""``ardoise commune importer``: bring an exported commune back into a territory.

Everything is checked before anything is written: the export validates on its own, nothing of it
clashes with the territory (commune, UAI, address, MAC, serial, hostname, secret, profile, app,
contract), and the merged territory validates (on a temporary mirror, with the one validator).
Then the history is merged (idempotent: rows already there are not copied again) and the files are
written. ``essai`` stops before writing and says what would change.
"""

from __future__ import annotations

import difflib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ardoise.commune import ErreurReprise
from ardoise.commune.exportation import BASE_EXPORT, FICHIER_MDP, entrees_coffre
from ardoise.commune.historique import compter, copier
from ardoise.commune.perimetre import perimetre
from ardoise.erreurs import ErreurManifeste
from ardoise.inventaire import coffre
from ardoise.inventaire.chargeur import FICHIER_TERRITOIRE, charger, valider
from ardoise.inventaire.politique import fusionner
from ardoise.inventaire.territoire import Territoire
from ardoise.parc.edition import _ecrire_atomique, _vider, _yaml_pour, copie, transplanter
from ardoise.resultats.magasin import Magasin, url_par_defaut

log = logging.getLogger(__name__)


@dataclass
class Import:
    """What an import does (or would do, with ``essai``): files, secrets by name, history rows."""

    commune: str
    essai: bool
    nouveaux: list[str] = field(default_factory=list)  # files added (relative to the project root)
    modifies: list[str] = field(default_factory=list)
    secrets_ajoutes: list[str] = field(default_factory=list)
    secrets_communs: list[str] = field(default_factory=list)  # already in the vault with the same value
    historique: dict[str, int] = field(default_factory=dict)
    diff: str = ""
    avertissements: list[str] = field(default_factory=list)


def difference(effectif: Any, base: Any) -> Any:
    """The smallest override that, merged over ``base``, gives ``effectif`` (None: nothing to say)."""
    if isinstance(effectif, dict) and isinstance(base, dict):
        resultat = {}
        for k, v in effectif.items():
            if k not in base:
                resultat[k] = v
                continue
            d = difference(v, base[k])
            if d is not None:
                resultat[k] = d
        return resultat or None
    return None if copie(effectif) == copie(base) else effectif


def importer(
    inventaire: Path | str | None,
    depuis: Path,
    base: str | None = None,
    mot_de_passe: Path | None = None,
    mot_de_passe_export: Path | None = None,
    essai: bool = False,
) -> Import:
    """Add the commune exported in ``depuis`` to the territory at ``inventaire``."""
    depuis = Path(depuis)
    inv_export = depuis / "inventaire"
    if not (inv_export / FICHIER_TERRITOIRE).is_file():
        raise ErreurReprise(
            f"« {depuis} » n'est pas un export de commune Ardoise (pas d'inventaire/{FICHIER_TERRITOIRE})"
        )
    ex = charger(inv_export)
    if len(ex.communes) != 1:
        raise ErreurReprise(
            f"{inv_export / FICHIER_TERRITOIRE} : un export contient une seule commune, pas {len(ex.communes)}"
        )
    t = charger(inventaire)
    commune = ex.communes[0]
    p = perimetre(ex, commune.id)
    conflits = _conflits(t, ex)
    # -- secrets: clear values from the export, compared with the territory's ----------------------
    mdp_export = mot_de_passe_export or inv_export / FICHIER_MDP
    if ex.noms_coffre and not Path(mdp_export).is_file():
        raise ErreurReprise(
            f"mot de passe du coffre de l'export introuvable ({mdp_export}) : donnez son fichier avec --mdp-export"
        )
    mdp_t = mot_de_passe or coffre.fichier_mot_de_passe(t.racine.parent)
    valeurs = coffre.reveler(ex.fichier_coffre, list(ex.noms_coffre), mdp_export) if ex.noms_coffre else {}
    presents = [n for n in valeurs if n in t.noms_coffre]
    actuels = coffre.reveler(t.fichier_coffre, presents, mdp_t) if presents else {}
    r = Import(commune=commune.id, essai=essai)
    for nom in sorted(valeurs):
        if nom not in actuels:
            r.secrets_ajoutes.append(nom)
        elif actuels[nom].reveler() == valeurs[nom].reveler():
            r.secrets_communs.append(nom)
        else:
            conflits.append(f"{_rel(t, t.fichier_coffre)} : le secret « {nom} » y a une autre valeur que dans"
                            f" {_rel_ex(depuis, ex.fichier_coffre)} (renommez-le dans l'export)")  # fmt: skip
    # -- new texts ------------------------------------------------------------------------------------
    textes: dict[Path, str] = {}
    dossier_profils_t = _dossier_profils(t)
    dossier_profils_ex = _dossier_profils(ex)
    for f in p.fichiers_ecoles:
        textes[t.racine.resolve() / f.relative_to(ex.racine.resolve())] = f.read_text(encoding="utf-8")
    binaires = {(t.racine / a).resolve(): (inv_export / a).read_bytes() for a in p.annexes
                if (inv_export / a).is_file() and not (t.racine / a).is_file()}  # fmt: skip
    for nom in p.profils:
        source = (dossier_profils_ex / "profils" / f"{nom}.yml").read_text(encoding="utf-8")
        cible = dossier_profils_t / "profils" / f"{nom}.yml"
        if not cible.is_file():
            textes[cible] = source
        elif ex.profils[nom] != t.profils.get(nom):
            conflits.append(f"{_rel(t, cible)} : le profil « {nom} » diffère de celui de l'export"
                            f" ({_rel_ex(depuis, dossier_profils_ex / 'profils' / f'{nom}.yml')})")  # fmt: skip
    catalogue = _catalogue(t, ex, p, dossier_profils_t, conflits)
    if catalogue is not None:
        textes[dossier_profils_t / "catalogue.yml"] = catalogue
    textes[(t.racine / FICHIER_TERRITOIRE).resolve()] = _territoire(t, ex, depuis, conflits, r)
    if r.secrets_ajoutes:
        actuel = t.fichier_coffre.read_text(encoding="utf-8")
        ajout = entrees_coffre({n: valeurs[n] for n in r.secrets_ajoutes}, mdp_t.read_bytes().strip())
        textes[t.fichier_coffre.resolve()] = actuel.rstrip("\n") + "\n" + ajout
    if conflits:
        raise ErreurReprise("import refusé, rien n'a été écrit :\n  " + "\n  ".join(conflits))
    _valider_miroir(t, textes, binaires, dossier_profils_t)
    # -- report, then write ---------------------------------------------------------------------------
    for chemin in [*textes, *binaires]:
        (r.modifies if chemin.exists() else r.nouveaux).append(_rel(t, chemin))
    territoire_yml = (t.racine / FICHIER_TERRITOIRE).resolve()
    r.diff = "".join(difflib.unified_diff(
        territoire_yml.read_text(encoding="utf-8").splitlines(True), textes[territoire_yml].splitlines(True),
        f"a/{_rel(t, territoire_yml)}", f"b/{_rel(t, territoire_yml)}", n=1))  # fmt: skip
    base_export = depuis / BASE_EXPORT
    source = Magasin(f"sqlite:///{base_export}", migrer=False) if base_export.is_file() else None
    try:
        if essai:
            r.historique = compter(source) if source else {}
            return r
        if source is not None:
            source.migrer()
            cible = Magasin(base or url_par_defaut())
            try:
                r.historique = copier(source, cible)  # idempotent: safe to rerun if writing files fails below
            finally:
                cible.moteur.dispose()
    finally:
        if source is not None:
            source.moteur.dispose()
    for chemin, contenu in binaires.items():
        chemin.parent.mkdir(parents=True, exist_ok=True)
        chemin.write_bytes(contenu)
    nouveaux = [c for c in textes if not c.exists()]
    for chemin in nouveaux:  # schools, profiles first: territoire.yml (which names the commune) comes last
        chemin.parent.mkdir(parents=True, exist_ok=True)
        chemin.write_text(textes[chemin], encoding="utf-8")
    for chemin in sorted(
        (c for c in textes if c not in nouveaux), key=lambda c: c.name == FICHIER_TERRITOIRE
    ):
        _ecrire_atomique(chemin, textes[chemin])
    return r


# -- conflicts -------------------------------------------------------------------------------------
def _conflits(t: Territoire, ex: Territoire) -> list[str]:
    conflits = []
    commune = ex.communes[0]
    fichier_t = _rel(t, t.racine / FICHIER_TERRITOIRE)
    for c in t.communes:
        if c.id == commune.id or c.insee == commune.insee:
            conflits.append(
                f"{fichier_t} : la commune « {c.id} » (INSEE {c.insee}) est déjà dans le territoire"
            )
    dossier = t.racine / "communes" / commune.id
    if dossier.is_dir() and any(dossier.rglob("*.yml")):
        conflits.append(f"{_rel(t, dossier)} : le dossier de la commune existe déjà et contient des écoles")
    deja: dict[tuple[str, str], str] = {}
    for e in t.ecoles:
        deja[("UAI", e.uai)] = e.fichier
        for eq in _equipements(e):
            for genre, valeur in eq:
                deja[(genre, valeur)] = e.fichier
    for e in ex.ecoles:
        cles = [("UAI", e.uai)] + [c for eq in _equipements(e) for c in eq]
        par_fichier: dict[str, list[str]] = {}
        for genre, valeur in cles:
            if (genre, valeur) in deja:
                par_fichier.setdefault(deja[(genre, valeur)], []).append(f"{genre} {valeur}")
        for fichier, doubles in par_fichier.items():
            exemples = ", ".join(doubles[:4]) + (
                f" et {len(doubles) - 4} autre(s)" if len(doubles) > 4 else ""
            )
            conflits.append(
                f"{fichier} : déjà pris dans le territoire ({exemples}) ; l'export les donne à {e.fichier}"
            )
    return conflits


def _equipements(e) -> list[list[tuple[str, str]]]:
    from ardoise.inventaire.territoire import equipements_ecole

    resultat = []
    for eq in equipements_ecole(e):
        cles = [("nom d'hôte", eq.nom)]
        if eq.adresse:
            cles.append(("adresse", str(eq.adresse)))
        if eq.mac:
            cles.append(("MAC", str(eq.mac)))
        if eq.numero_serie:
            cles.append(("n° de série", eq.numero_serie))
        resultat.append(cles)
    return resultat


# -- edited files ----------------------------------------------------------------------------------
def _territoire(t: Territoire, ex: Territoire, depuis: Path, conflits: list[str], r: Import) -> str:
    """territoire.yml with the commune appended (policy reduced to what differs), its contracts and suppliers."""
    source = (t.racine / FICHIER_TERRITOIRE).read_text(encoding="utf-8")
    y = _yaml_pour(source)
    doc = y.load(source)
    source_ex = (ex.racine / FICHIER_TERRITOIRE).read_text(encoding="utf-8")
    doc_ex = _yaml_pour(source_ex).load(source_ex)
    entree = doc_ex["communes"][0]
    effective = fusionner(doc_ex["politique"], entree.get("politique") or {})
    base = copie(doc["politique"])
    override = difference(effective, base) or {}
    for chemin in _cles_absentes(effective, base):
        r.avertissements.append(
            f"réglage « {chemin} » du territoire : absent de l'export, il s'appliquera à la commune"
        )
    nouvelle = CommentedMap()
    for k, v in entree.items():
        if k != "politique":
            nouvelle[k] = v
    if override:
        nouvelle["politique"] = override
    doc["communes"].append(nouvelle)
    fichier_t = _rel(t, t.racine / FICHIER_TERRITOIRE)
    fichier_ex = _rel_ex(depuis, ex.racine / FICHIER_TERRITOIRE)
    for cle in ("fournisseurs", "contrats_maintenance"):
        for item in doc_ex.get(cle) or []:
            liste = doc.get(cle)
            if liste is None:
                doc[cle] = liste = CommentedSeq()
            existant = next((x for x in liste if x.get("id") == item.get("id")), None)
            if existant is None:
                liste.append(item)
                continue
            a = {k: copie(v) for k, v in existant.items() if k != "communes"}
            b = {k: copie(v) for k, v in item.items() if k != "communes"}
            if a != b:
                conflits.append(
                    f"{fichier_t} : « {item.get('id')} » ({cle}) diffère de celui de {fichier_ex}"
                )
            elif existant.get("communes") and ex.communes[0].id not in existant["communes"]:
                existant["communes"].append(ex.communes[0].id)
    return transplanter(source, _vider(y, y.load(source)), _vider(y, doc))


def _cles_absentes(effectif: Any, base: Any, prefixe: str = "") -> list[str]:
    if not (isinstance(effectif, dict) and isinstance(base, dict)):
        return []
    resultat = []
    for k, v in base.items():
        chemin = f"{prefixe}{k}"
        if k not in effectif:
            resultat.append(chemin)
        else:
            resultat.extend(_cles_absentes(effectif[k], v, chemin + "."))
    return resultat


def _catalogue(t: Territoire, ex: Territoire, p, dossier: Path, conflits: list[str]) -> str | None:
    manquantes = [a for a in sorted(p.applications) if a not in t.applications]
    for a in sorted(p.applications):
        if a in t.applications and t.applications[a] != ex.applications[a]:
            conflits.append(
                f"{_rel(t, dossier / 'catalogue.yml')} : l'application « {a} » diffère de celle de l'export"
            )
    if not manquantes:
        return None
    source = (dossier / "catalogue.yml").read_text(encoding="utf-8")
    y = _yaml_pour(source)
    doc = y.load(source)
    source_ex = (_dossier_profils(ex) / "catalogue.yml").read_text(encoding="utf-8")
    for item in _yaml_pour(source_ex).load(source_ex)["applications"]:
        if item.get("id") in manquantes:
            doc["applications"].append(item)
    return transplanter(source, _vider(y, y.load(source)), _vider(y, doc))


def _dossier_profils(t: Territoire) -> Path:
    from ardoise.inventaire.yaml_sur import lire

    brut = lire(t.racine / FICHIER_TERRITOIRE).donnees
    return (t.racine / str(brut.get("profils") or "../profils_terminaux")).resolve()


def _valider_miroir(t: Territoire, textes: dict[Path, str], binaires: dict[Path, bytes],
                    dossier_profils: Path) -> None:  # fmt: skip
    """Validate the territory as it would be, on a temporary copy; nothing is written on error."""
    racine = t.racine.resolve()
    parent = racine.parent
    dossiers = [racine]
    if dossier_profils.is_relative_to(parent) and not dossier_profils.is_relative_to(racine):
        dossiers.append(dossier_profils)
    with tempfile.TemporaryDirectory(dir=parent.parent, prefix=f".{parent.name}-import-") as tmp:
        miroir = Path(tmp)
        for d in dossiers:
            for dossier, sous, fichiers in os.walk(d):
                sous[:] = [s for s in sous if not s.startswith(".")]
                rel = Path(dossier).relative_to(parent)
                (miroir / rel).mkdir(parents=True, exist_ok=True)
                for f in fichiers:
                    origine = (Path(dossier) / f).resolve()
                    if origine not in textes and origine not in binaires:
                        (miroir / rel / f).symlink_to(origine)
        for chemin, texte in textes.items():
            cible = miroir / chemin.relative_to(parent)
            cible.parent.mkdir(parents=True, exist_ok=True)
            cible.write_text(texte, encoding="utf-8")
        for chemin, contenu in binaires.items():
            cible = miroir / chemin.relative_to(parent)
            cible.parent.mkdir(parents=True, exist_ok=True)
            cible.write_bytes(contenu)
        territoire, problemes = valider(miroir / racine.name)
    if territoire is None:
        prefixe = str(miroir)
        raise ErreurManifeste([_sans_miroir(pb, prefixe, str(parent)) for pb in problemes])


def _sans_miroir(pb, prefixe: str, parent: str):
    import dataclasses

    return dataclasses.replace(pb, fichier=pb.fichier.replace(prefixe, parent))


def _rel(t: Territoire, chemin: Path) -> str:
    try:
        return str(Path(chemin).resolve().relative_to(t.racine.resolve().parent))
    except ValueError:
        return str(chemin)


def _rel_ex(depuis: Path, chemin: Path) -> str:
    try:
        return str(Path(chemin).resolve().relative_to(depuis.resolve().parent))
    except ValueError:
        return str(chemin)
