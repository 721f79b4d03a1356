"""In-place edits of manifest files that keep comments, order and quoting (ruamel.yaml round trip).

The one way the ``parc`` domain writes the manifest. An :class:`Edition` loads the files it needs,
lets the caller change them, then :meth:`Edition.ecrire` validates the whole edited inventory on a
temporary mirror (through :func:`ardoise.inventaire.chargeur.valider`, the only validator) and only
then replaces the files, atomically, one by one. If the result would not validate, nothing is
written and :class:`ardoise.erreurs.ErreurManifeste` carries every problem.

The diff stays minimal: values are replaced in place (a nested mapping is updated key by key, so the
comments attached to its keys stay where they were), and if ruamel's output of the untouched
document is not byte-identical to the source, only the changed hunks are transplanted onto the
source text.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from ardoise.erreurs import ErreurManifeste, ErreurUsage
from ardoise.inventaire.chargeur import FICHIER_TERRITOIRE, valider
from ardoise.inventaire.modele import Poste
from ardoise.inventaire.problemes import Probleme
from ardoise.inventaire.territoire import Territoire

log = logging.getLogger(__name__)

ORDRE_POSTE = list(Poste.model_fields)  # the schema's key order, for keys added to an entry


@dataclasses.dataclass
class _Document:
    chemin: Path
    source: str
    donnees: Any
    yaml: YAML


def _yaml_pour(source: str) -> YAML:
    y = YAML()  # round trip
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap long lines
    _, indentation, decalage = load_yaml_guess_indent(source)
    sequence = indentation if indentation is not None else 2
    y.indent(mapping=2, sequence=sequence, offset=decalage if decalage is not None else 0)
    return y


def _vider(y: YAML, donnees: Any) -> str:
    sortie = io.StringIO()
    y.dump(donnees, sortie)
    return sortie.getvalue()


def transplanter(source: str, vierge: str, modifie: str) -> str:
    """Apply the change ``vierge`` → ``modifie`` (two ruamel dumps) to ``source``, line by line.

    When ruamel reproduces the source exactly (the usual case), this is just ``modifie``; otherwise
    only the changed hunks land in the source, so a re-formatting never reaches the user's file.
    """
    if vierge == source:
        return modifie
    src, v0, v1 = source.splitlines(True), vierge.splitlines(True), modifie.splitlines(True)
    correspondance: dict[int, int] = {}
    for a, b, n in difflib.SequenceMatcher(None, src, v0, autojunk=False).get_matching_blocks():
        for k in range(n):
            correspondance[b + k] = a + k
    resultat = list(src)
    decalage = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, v0, v1, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i1 < i2:
            lignes = [correspondance.get(i) for i in range(i1, i2)]
            if None in lignes or lignes != list(range(lignes[0], lignes[0] + len(lignes))):
                log.warning("mise en forme YAML normalisée : le fichier ne se relit pas à l'identique")
                return modifie
            debut, fin = lignes[0], lignes[-1] + 1
        else:
            if i1 in correspondance:
                debut = correspondance[i1]
            elif i1 - 1 in correspondance:
                debut = correspondance[i1 - 1] + 1
            elif i1 == 0:
                debut = 0
            else:
                log.warning("mise en forme YAML normalisée : le fichier ne se relit pas à l'identique")
                return modifie
            fin = debut
        resultat[debut + decalage : fin + decalage] = v1[j1:j2]
        decalage += (j2 - j1) - (fin - debut)
    return "".join(resultat)


def mettre(m: CommentedMap, cle: str, valeur: Any, ordre: list[str] | None = None) -> None:
    """Set ``m[cle]`` in place: same position, nested mappings updated key by key, None deletes.

    A key the entry did not have is inserted after the nearest key preceding it in ``ordre``.
    """
    if valeur is None:
        if cle in m:
            del m[cle]
        return
    if cle in m:
        actuel = m[cle]
        if isinstance(actuel, CommentedMap) and isinstance(valeur, dict):
            for k in [k for k in actuel if k not in valeur]:
                del actuel[k]
            for k, v in valeur.items():
                mettre(actuel, k, v, list(valeur))
            return
        if actuel == valeur and type(actuel) is type(valeur):
            return
        m[cle] = valeur
        return
    ordre = ordre or []
    position = len(m)
    if cle in ordre:
        avant = ordre[: ordre.index(cle)]
        presents = [i for i, k in enumerate(m) if k in avant]
        position = (max(presents) + 1) if presents else 0
    m.insert(position, cle, valeur)


def copie(valeur: Any) -> Any:
    """A detached copy of a round-trip value (mappings become plain dicts, kept in order)."""
    if isinstance(valeur, dict):
        return {k: copie(v) for k, v in valeur.items()}
    if isinstance(valeur, list):
        return [copie(v) for v in valeur]
    return valeur


class Edition:
    """A set of in-place edits to the inventory at ``racine``, written all together or not at all."""

    def __init__(self, racine: Path) -> None:
        self.racine = Path(racine)
        self._documents: dict[Path, _Document] = {}

    def document(self, chemin: Path) -> Any:
        """The round-trip data of ``chemin`` (loaded once; later edits change this object)."""
        chemin = Path(chemin).resolve()
        if chemin not in self._documents:
            try:
                source = chemin.read_text(encoding="utf-8")
            except OSError as e:
                raise ErreurUsage(f"lecture impossible de {chemin} : {e.strerror}") from None
            y = _yaml_pour(source)
            self._documents[chemin] = _Document(chemin, source, y.load(source), y)
        return self._documents[chemin].donnees

    def poste(self, chemin: Path, nom: str) -> CommentedMap:
        """The ``postes:`` entry named ``nom`` in the school file ``chemin``."""
        for p in self.document(chemin).get("postes") or []:
            if isinstance(p, dict) and str(p.get("nom")) == nom:
                return p
        raise ErreurUsage(f"poste « {nom} » introuvable dans {chemin.name}")

    def ajouter_postes(self, chemin: Path, entrees: Iterable[dict]) -> None:
        """Append entries at the end of the school's ``postes:`` list (created if absent)."""
        doc = self.document(chemin)
        if doc.get("postes") is None:
            mettre(doc, "postes", CommentedSeq(), ["postes", "demandes", "profils"])
            if "demandes" in doc or "profils" in doc:  # keep postes before those sections
                valeur = doc.pop("postes")
                cles = list(doc)
                position = min(cles.index(k) for k in ("demandes", "profils") if k in doc)
                doc.insert(position, "postes", valeur)
        for e in entrees:
            m = CommentedMap()
            for k, v in e.items():
                if v is not None:
                    m[k] = v
            doc["postes"].append(m)

    # -- output ----------------------------------------------------------------------------------
    def textes(self) -> dict[Path, str]:
        """The new text of every changed file."""
        nouveaux = {}
        for chemin, d in self._documents.items():
            vierge = _vider(d.yaml, d.yaml.load(d.source))
            texte = transplanter(d.source, vierge, _vider(d.yaml, d.donnees))
            if texte != d.source:
                nouveaux[chemin] = texte
        return nouveaux

    def diff(self) -> str:
        """A unified diff of the pending changes (paths relative to the inventory's parent)."""
        morceaux = []
        for chemin, texte in self.textes().items():
            nom = self._nom(chemin)
            morceaux.extend(
                difflib.unified_diff(
                    self._documents[chemin].source.splitlines(True),
                    texte.splitlines(True),
                    f"a/{nom}",
                    f"b/{nom}",
                    n=1,
                )
            )
        return "".join(morceaux)

    def _nom(self, chemin: Path) -> str:
        try:
            return str(chemin.relative_to(self.racine.resolve().parent))
        except ValueError:
            return str(chemin)

    def verifier(self) -> tuple[Territoire | None, list[Probleme]]:
        """Validate the inventory as it would be after the edits, on a temporary mirror."""
        textes = self.textes()
        racine = self.racine.resolve()
        with tempfile.TemporaryDirectory(dir=racine.parent, prefix=f".{racine.name}-essai-") as tmp:
            miroir = Path(tmp)
            for dossier, sous, fichiers in os.walk(racine):
                rel = Path(dossier).relative_to(racine)
                sous[:] = [s for s in sous if not s.startswith(".")]
                (miroir / rel).mkdir(parents=True, exist_ok=True)
                for f in fichiers:
                    origine = Path(dossier) / f
                    cible = miroir / rel / f
                    if origine.resolve() in textes:
                        cible.write_text(textes[origine.resolve()], encoding="utf-8")
                    else:
                        cible.symlink_to(origine.resolve())
            territoire, problemes = valider(miroir)
        nom_miroir = miroir.name
        problemes = [
            dataclasses.replace(p, fichier=p.fichier.replace(nom_miroir, racine.name, 1)) for p in problemes
        ]
        return territoire, problemes

    def ecrire(self) -> list[Path]:
        """Validate, then write every changed file (atomic replace); nothing is written on error."""
        textes = self.textes()
        if not textes:
            return []
        territoire, problemes = self.verifier()
        if territoire is None:
            raise ErreurManifeste(problemes)
        for chemin in textes:
            actuel = chemin.read_text(encoding="utf-8")
            if actuel != self._documents[chemin].source:
                raise ErreurUsage(
                    f"{self._nom(chemin)} a été modifié pendant l'opération : rien n'a été écrit, relancez"
                )
        for chemin, texte in textes.items():
            _ecrire_atomique(chemin, texte)
            self._documents[chemin].source = texte
        return list(textes)


def _ecrire_atomique(chemin: Path, texte: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=chemin.parent, prefix=f".{chemin.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(texte)
        shutil.copymode(chemin, tmp)
        os.replace(tmp, chemin)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fichier_ecole(territoire: Territoire, uai: str) -> Path:
    """The source file of a school (``EcoleChargee.fichier`` is relative to the inventory's parent)."""
    e = territoire.ecole(uai)
    return (territoire.racine.parent / e.fichier).resolve()


__all__ = ["Edition", "FICHIER_TERRITOIRE", "copie", "fichier_ecole", "mettre", "transplanter"]
