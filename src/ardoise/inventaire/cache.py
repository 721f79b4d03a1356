"""A load cache for the validated territory, for listings, exports and the Ansible plugin.

An entry holds the :class:`Territoire` built by :func:`ardoise.inventaire.chargeur.charger` and
the list of every file it was read from with its modification time (ns) and size. It is served
again only if that list is still exactly right: same files (a new or removed school is seen), same
mtimes and sizes, same Ardoise version and same Python. Files modified less than
:data:`MARGE_NS` before they were read are also compared by content (an edit within the same
timestamp tick, with the same size, is still seen).

Validation (``ardoise inventaire valider``) never goes through here: it must never write anything.

The cache directory is ``$ARDOISE_CACHE``, else ``$XDG_CACHE_HOME/ardoise``, else
``~/.cache/ardoise``. Writes are atomic (temporary file then rename). A missing, corrupt,
foreign or stale entry is ignored and rebuilt; a read-only directory (an AWX execution
environment) just means no caching. An entry is a pickle, so only entries owned by the current
user and not writable by others are read.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import io
import json
import logging
import os
import pickle
import struct
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

import ardoise
from ardoise.inventaire.chargeur import FICHIER_TERRITOIRE, charger, fichiers_sources, racine_inventaire
from ardoise.inventaire.modele import FichierTerritoire
from ardoise.inventaire.territoire import Territoire
from ardoise.inventaire.yaml_sur import ErreurYaml, lire

log = logging.getLogger(__name__)

VARIABLE_CACHE = "ARDOISE_CACHE"
MAGIE = b"ARDOISE-CACHE\x01"
FORMAT = 2
MARGE_NS = 3_000_000_000  # files this recent when read are also compared by content
_ENTETE = struct.Struct("<II")  # header length, format


def dossier_cache_defaut() -> Path:
    """``$ARDOISE_CACHE``, else ``$XDG_CACHE_HOME/ardoise``, else ``~/.cache/ardoise``."""
    if os.environ.get(VARIABLE_CACHE):
        return Path(os.environ[VARIABLE_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ardoise"


def _version_code() -> str:
    """Ardoise version, Python version and the state of the modules whose objects are pickled."""
    h = hashlib.sha256(f"{ardoise.__version__}|{sys.version}|{pickle.HIGHEST_PROTOCOL}|{FORMAT}".encode())
    paquet = Path(ardoise.__file__).parent
    for sous in ("inventaire", "profils"):
        for f in sorted((paquet / sous).glob("*.py")):
            try:
                st = f.stat()
            except OSError:
                continue
            h.update(f"{f.name}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()


def _fichiers(racine: Path, extras: dict[str, str | None]) -> list[Path]:
    """Every file a load reads: :func:`fichiers_sources`, the vault, the catalogue and profiles."""
    fichiers = list(fichiers_sources(racine))
    if extras.get("coffre") and Path(extras["coffre"]) not in fichiers:
        fichiers.append(Path(extras["coffre"]))
    if extras.get("profils"):
        dossier = Path(extras["profils"])
        fichiers.append(dossier / "catalogue.yml")
        fichiers += sorted((dossier / "profils").glob("*.yml"))
    return fichiers


def _declares(racine: Path) -> dict[str, str | None]:
    """The vault file and profiles directory named by territoire.yml (defaults of the model)."""
    try:
        donnees = lire(racine / FICHIER_TERRITOIRE).donnees
    except ErreurYaml:
        return {"coffre": None, "profils": None}
    if not isinstance(donnees, dict):
        return {"coffre": None, "profils": None}
    resultat: dict[str, str | None] = {}
    for cle in ("coffre", "profils"):
        valeur = donnees.get(cle, FichierTerritoire.model_fields[cle].default)
        valeur = getattr(valeur, "texte", valeur)
        resultat[cle] = str((racine / str(valeur)).resolve()) if isinstance(valeur, str | int) else None
    return resultat


def _etat(fichiers: list[Path]) -> list[list]:
    """[path, mtime_ns, size] of each file ([path, -1, -1] if it does not exist)."""
    etat = []
    for f in fichiers:
        try:
            st = f.stat()
            etat.append([str(f), st.st_mtime_ns, st.st_size])
        except OSError:
            etat.append([str(f), -1, -1])
    return etat


def _empreintes(etat: list[list], avant_ns: int) -> dict[str, str]:
    """Content hashes of the files modified too recently for their mtime to be trusted."""
    resultat = {}
    for chemin, mtime, _ in etat:
        if mtime >= avant_ns - MARGE_NS:
            try:
                resultat[chemin] = hashlib.sha256(Path(chemin).read_bytes()).hexdigest()
            except OSError:
                resultat[chemin] = ""
    return resultat


def _chemin_entree(dossier: Path, racine: Path) -> Path:
    nom = hashlib.sha256(str(racine).encode()).hexdigest()[:24]
    return dossier / f"territoire-{nom}.cache"


def _lire_entree(
    entree: Path, racine: Path, ecoles: frozenset[str] = frozenset(), communes: frozenset[str] = frozenset()
) -> Territoire | None:
    """The territory of a still-valid entry, or None (missing, corrupt, foreign, stale).

    With ``ecoles`` (UAIs) or ``communes`` (ids or INSEE codes), only the schools selected (both
    conditions, as :class:`Selection`) are unpickled; if one is unknown, all of them are.
    """
    try:
        with open(entree, "rb") as f:
            st = os.fstat(f.fileno())
            if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
                log.debug(
                    "cache %s ignoré : appartient à un autre utilisateur ou modifiable par d'autres", entree
                )
                return None
            if f.read(len(MAGIE)) != MAGIE:
                log.debug("cache %s ignoré : format inconnu", entree)
                return None
            taille, fmt = _ENTETE.unpack(f.read(_ENTETE.size))
            if fmt != FORMAT:
                return None
            entete = json.loads(f.read(taille))
            debut = len(MAGIE) + _ENTETE.size + taille
            if entete.get("version") != _version_code() or entete.get("racine") != str(racine):
                log.debug("cache %s ignoré : autre version d'Ardoise ou autre inventaire", entree)
                return None
            if st.st_size != debut + entete["taille"]:
                log.debug("cache %s ignoré : tronqué", entree)
                return None
            if _etat(_fichiers(racine, entete["extras"])) != entete["fichiers"]:
                log.debug("cache %s périmé : manifeste modifié", entree)
                return None
            for chemin, empreinte in entete["empreintes"].items():
                try:
                    actuelle = hashlib.sha256(Path(chemin).read_bytes()).hexdigest()
                except OSError:
                    actuelle = ""
                if actuelle != empreinte:
                    log.debug("cache %s périmé : %s modifié", entree, chemin)
                    return None
            actif = gc.isenabled()
            gc.disable()  # unpickling many small objects: the cyclic GC would run for nothing
            try:
                socle = pickle.loads(_lire(f, debut, *entete["socle"]))
                parts = _parts(socle, entete["ecoles"], ecoles, communes)
                liste = tuple(pickle.loads(_lire(f, debut, decalage, n)) for _, _, decalage, n in parts)
            finally:
                if actif:
                    gc.enable()
        if not isinstance(socle, Territoire):
            return None
        for texte in entete.get("avertissements", []):
            log.warning("%s", texte)
        return dataclasses.replace(socle, ecoles=liste)
    except FileNotFoundError:
        return None
    except Exception as e:  # any unreadable entry is only a cache miss
        log.debug("cache %s ignoré : illisible (%s)", entree, e)
        return None


def _parts(socle: Territoire, parts: list, ecoles: frozenset[str], communes: frozenset[str]) -> list:
    """The index entries ``[uai, commune, offset, length]`` of the selected schools."""
    if not ecoles and not communes:
        return parts
    uais = {u.strip().upper() for u in ecoles}
    ids = {c.id for c in socle.communes if c.id in communes or c.insee in communes}
    if not uais <= {p[0] for p in parts} or len(ids) < len(communes):
        return parts  # an unknown name: everything, so that the caller's error can suggest names
    return [p for p in parts if (not uais or p[0] in uais) and (not ids or p[1] in ids)]


def _lire(f, debut: int, decalage: int, longueur: int) -> bytes:
    f.seek(debut + decalage)
    donnees = f.read(longueur)
    if len(donnees) != longueur:
        raise ValueError("entrée tronquée")
    return donnees


def _modele(cls: type, etat: dict, champs: set) -> BaseModel:
    """Rebuild a pickled manifest model (already validated: no validation, no ``__setstate__``)."""
    objet = _nouveau(cls)
    _affecter(objet, "__dict__", etat)
    _affecter(objet, "__pydantic_fields_set__", champs)
    _affecter(objet, "__pydantic_extra__", None)
    _affecter(objet, "__pydantic_private__", None)
    return objet


_nouveau = object.__new__
_affecter = object.__setattr__


class _Pickler(pickle.Pickler):
    """Pickles pydantic models as :func:`_modele` calls: unpickling is about 25 % faster."""

    def reducer_override(self, obj):
        if (
            isinstance(obj, BaseModel)
            and getattr(obj, "__pydantic_extra__", None) is None
            and getattr(obj, "__pydantic_private__", None) is None
        ):
            return _modele, (type(obj), obj.__dict__, obj.__pydantic_fields_set__)
        return NotImplemented


def _serialiser(objet) -> bytes:
    tampon = io.BytesIO()
    _Pickler(tampon, protocol=pickle.HIGHEST_PROTOCOL).dump(objet)
    return tampon.getvalue()


def _ecrire_entree(
    entree: Path,
    racine: Path,
    territoire: Territoire,
    extras: dict,
    etat: list[list],
    empreintes: dict[str, str],
    avertissements: list[str],
) -> None:
    """Write the entry atomically; any failure (read-only directory...) only logs at debug level.

    Layout: magic, header length and format, JSON header (files, index), then one pickle for the
    territory without its schools and one per school, so that one school is read alone.
    """
    try:
        parts = [_serialiser(dataclasses.replace(territoire, ecoles=()))]
        parts += [_serialiser(e) for e in territoire.ecoles]
        decalages = [0]
        for p in parts:
            decalages.append(decalages[-1] + len(p))
        entete = json.dumps(
            {
                "version": _version_code(),
                "racine": str(racine),
                "extras": extras,
                "fichiers": etat,
                "empreintes": empreintes,
                "avertissements": avertissements,
                "socle": [0, len(parts[0])],
                "ecoles": [
                    [e.uai, e.commune, decalages[i + 1], len(parts[i + 1])]
                    for i, e in enumerate(territoire.ecoles)
                ],
                "taille": decalages[-1],
            }
        ).encode()
        entree.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=entree.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIE + _ENTETE.pack(len(entete), FORMAT) + entete)
                f.writelines(parts)
            os.replace(tmp, entree)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        log.debug("cache %s écrit", entree)
    except Exception as e:  # no cache is not an error
        log.debug("cache non écrit dans %s : %s", entree.parent, e)


def charger_avec_cache(
    chemin: str | Path | None = None,
    dossier_cache: str | Path | None = None,
    *,
    ecoles: Iterable[str] = (),
    communes: Iterable[str] = (),
) -> Territoire:
    """Like :func:`charger`, served from the cache when no manifest file changed.

    ``ecoles``/``communes`` only make a cache hit cheaper: the territory served may then hold only
    the schools so selected (the whole territory was validated; a caller that asks for one school
    only looks at that one, like the Ansible plugin). Raises
    :class:`ardoise.erreurs.ErreurManifeste` (nothing cached) if the manifest is invalid.
    """
    racine = racine_inventaire(chemin).resolve()
    dossier = Path(dossier_cache) if dossier_cache else dossier_cache_defaut()
    entree = _chemin_entree(dossier, racine)
    territoire = _lire_entree(entree, racine, frozenset(ecoles), frozenset(communes))
    if territoire is not None:
        log.debug("inventaire servi par le cache %s", entree)
        return territoire
    debut_ns = time.time_ns()
    extras = _declares(racine)
    etat = _etat(_fichiers(racine, extras))
    empreintes = _empreintes(etat, debut_ns)
    avertissements: list[str] = []
    gestionnaire = _Collecte(avertissements)
    logger_chargeur = logging.getLogger("ardoise.inventaire.chargeur")
    logger_chargeur.addHandler(gestionnaire)
    try:
        territoire = charger(racine)
    finally:
        logger_chargeur.removeHandler(gestionnaire)
    # the vault actually read, and nothing changed while reading
    if (
        extras["coffre"] != str(territoire.fichier_coffre)
        or _etat(_fichiers(racine, extras)) != etat
        or _empreintes(etat, debut_ns) != empreintes
    ):
        log.debug("cache non écrit : manifeste modifié pendant la lecture")
        return territoire
    _ecrire_entree(entree, racine, territoire, extras, etat, empreintes, avertissements)
    return territoire


class _Collecte(logging.Handler):
    """Keeps the loader's warnings, to show them again when the entry is served."""

    def __init__(self, textes: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.textes = textes

    def emit(self, record: logging.LogRecord) -> None:
        self.textes.append(record.getMessage())
