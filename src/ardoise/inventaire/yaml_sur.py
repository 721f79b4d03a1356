"""Safe YAML reading with line numbers, for every manifest file Ardoise reads.

PyYAML's C composer builds the node graph (fast, marks included); this module turns it into plain
Python data itself so that it can refuse what a manifest must never contain: duplicate keys, tags
other than the standard ones (no ``!!python/…``), alias expansion beyond a bound ("billion laughs"),
nesting deeper than :data:`PROFONDEUR_MAX`, binary or non-UTF-8 content, tabs, oversized files.
Locations are found again on demand (:meth:`DocumentYaml.position`): the node graph is not kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    _Chargeur: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml is shipped with PyYAML wheels
    _Chargeur = yaml.SafeLoader

TAILLE_MAX = 16 * 1024 * 1024  # bytes per manifest file
NOEUDS_MAX = 500_000  # expanded nodes per document (bounds alias bombs)
PROFONDEUR_MAX = 64

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAIRES = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}
TAG_VAULT = "!vault"


class EntierYaml(int):
    """An int read from YAML that remembers its source text.

    YAML 1.1 reads ``01053`` as octal and ``13:00`` or ``10:20:30:40:50:59`` as base-60 numbers;
    fields that are really codes, times or MAC addresses take :attr:`texte` instead.
    """

    texte: str

    def __new__(cls, valeur: int, texte: str) -> EntierYaml:
        obj = super().__new__(cls, valeur)
        obj.texte = texte
        return obj

    def __reduce__(self):
        return (EntierYaml, (int(self), self.texte))


@dataclass(frozen=True)
class ValeurChiffree:
    """An ansible-vault encrypted value (``!vault |`` in a vault file); never decrypted here."""

    texte_chiffre: str = field(repr=False)


@dataclass
class ErreurYaml(Exception):
    """A file that cannot be read as a safe manifest; French message, 1-based line/column."""

    chemin: Path
    message: str
    correction: str
    ligne: int = 1
    colonne: int = 1

    def __str__(self) -> str:
        return f"{self.chemin}:{self.ligne}:{self.colonne}: {self.message}"


@dataclass
class DocumentYaml:
    """One parsed manifest file: its data and a way back to line numbers."""

    chemin: Path
    donnees: Any
    _texte: str = field(repr=False, default="")
    _racine: Any = field(repr=False, default=None)

    def position(self, chemin: tuple[str | int, ...], cle: bool = False) -> tuple[int, int]:
        """Return the 1-based (line, column) of the value at ``chemin`` (of its key if ``cle``).

        When the path does not exist entirely, the deepest existing node is used.
        """
        if self._racine is None:
            self._racine = yaml.compose(self._texte, Loader=_Chargeur)
        noeud = self._racine
        if noeud is None:
            return (1, 1)
        meilleur = noeud.start_mark
        for i, etape in enumerate(chemin):
            dernier = i == len(chemin) - 1
            if isinstance(noeud, yaml.MappingNode):
                trouve = _chercher_cle(noeud, etape)
                if trouve is None:
                    break
                k, v = trouve
                if dernier and cle:
                    meilleur = k.start_mark
                    break
                noeud = v
            elif isinstance(noeud, yaml.SequenceNode) and isinstance(etape, int):
                if not 0 <= etape < len(noeud.value):
                    break
                noeud = noeud.value[etape]
            else:
                break
            meilleur = noeud.start_mark
        return (meilleur.line + 1, meilleur.column + 1)


def _chercher_cle(noeud: yaml.MappingNode, etape: str | int, profondeur: int = 0):
    for k, v in noeud.value:
        if k.tag == _MERGE and profondeur < 8:
            fusions = v.value if isinstance(v, yaml.SequenceNode) else [v]
            for f in fusions:
                if isinstance(f, yaml.MappingNode):
                    r = _chercher_cle(f, etape, profondeur + 1)
                    if r is not None:
                        return r
        elif isinstance(k, yaml.ScalarNode) and k.value == str(etape):
            return k, v
    return None


def lire(chemin: Path, vault_permis: bool = False) -> DocumentYaml:
    """Read ``chemin`` as a safe YAML manifest; raise :class:`ErreurYaml` with a French message."""
    try:
        taille = chemin.stat().st_size
        if taille > TAILLE_MAX:
            raise ErreurYaml(
                chemin,
                f"fichier trop gros ({taille // 1024} Kio, limite {TAILLE_MAX // (1024 * 1024)} Mio)",
                "découpez-le (un fichier par école) ou vérifiez qu'il s'agit bien d'un manifeste",
            )
        brut = chemin.read_bytes()
    except OSError as e:
        raise ErreurYaml(chemin, f"lecture impossible ({e.strerror})", "vérifiez le chemin et les droits") from e
    return lire_texte(chemin, brut, vault_permis)


def lire_texte(chemin: Path, brut: bytes, vault_permis: bool = False) -> DocumentYaml:
    """Parse ``brut`` (the bytes of ``chemin``); see :func:`lire`."""
    if b"\x00" in brut:
        ligne = brut[: brut.index(b"\x00")].count(b"\n") + 1
        raise ErreurYaml(
            chemin,
            "contenu binaire (octet nul) : ce n'est pas un fichier YAML",
            "remplacez ce fichier par un manifeste texte",
            ligne,
        )
    if brut.startswith(b"\xef\xbb\xbf"):
        brut = brut[3:]
    try:
        texte = brut.decode("utf-8")
    except UnicodeDecodeError as e:
        ligne = brut[: e.start].count(b"\n") + 1
        colonne = e.start - (brut.rfind(b"\n", 0, e.start) + 1) + 1
        raise ErreurYaml(
            chemin,
            "encodage invalide : le fichier n'est pas en UTF-8",
            "réenregistrez le fichier en UTF-8 (par exemple : iconv -f latin1 -t utf-8)",
            ligne,
            colonne,
        ) from None
    if not texte.strip() or all(
        ligne.strip() == "" or ligne.lstrip().startswith("#") for ligne in texte.splitlines()
    ):
        raise ErreurYaml(chemin, "fichier vide", "complétez le manifeste ou supprimez ce fichier")
    for n, ligne in enumerate(texte.splitlines(), start=1):
        debut = ligne[: len(ligne) - len(ligne.lstrip(" \t"))]
        if "\t" in debut:
            raise ErreurYaml(
                chemin,
                "tabulation dans l'indentation (YAML n'accepte que des espaces)",
                "remplacez les tabulations par des espaces",
                n,
                debut.index("\t") + 1,
            )
    try:
        racine = yaml.compose(texte, Loader=_Chargeur)
    except yaml.MarkedYAMLError as e:
        raise _traduire(chemin, e) from None
    except yaml.YAMLError as e:
        raise ErreurYaml(chemin, f"YAML invalide ({e})", "corrigez la syntaxe YAML") from None
    constructeur = _Constructeur(chemin, vault_permis)
    donnees = constructeur.construire(racine, 0)
    return DocumentYaml(chemin, donnees, texte)


def _traduire(chemin: Path, e: yaml.MarkedYAMLError) -> ErreurYaml:
    marque = e.problem_mark or e.context_mark
    ligne, colonne = (marque.line + 1, marque.column + 1) if marque else (1, 1)
    probleme = (e.problem or "").strip()
    table = [
        ("mapping values are not allowed", "« : » inattendu", "mettez la valeur entre guillemets ou corrigez l'indentation"),
        ("could not find expected ':'", "« : » attendu", "chaque entrée s'écrit « clé: valeur »"),
        ("found undefined alias", "alias « * » vers une ancre inconnue", "déclarez l'ancre « & » avant de l'utiliser"),
        ("found duplicate anchor", "ancre « & » déclarée deux fois", "donnez un nom unique à chaque ancre"),
        ("did not find expected key", "indentation incohérente", "alignez les clés du même bloc"),
        ("expected <block end>", "indentation incohérente", "alignez les clés du même bloc"),
        ("found unexpected end of stream", "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
         "fermez le guillemet ou le crochet ouvert"),
        ("while scanning a quoted scalar", "guillemet non fermé", "fermez le guillemet"),
        ("did not find expected ','", "crochet ou accolade non fermé", "fermez la liste « ] » ou le dictionnaire « } »"),
        ("found character", "caractère interdit à cet endroit", "supprimez ce caractère ou mettez la valeur entre guillemets"),
    ]
    for motif, message, correction in table:
        if motif in probleme or motif in (e.context or ""):
            return ErreurYaml(chemin, f"YAML invalide : {message}", correction, ligne, colonne)
    return ErreurYaml(chemin, f"YAML invalide ({probleme or e.context})", "corrigez la syntaxe YAML", ligne, colonne)


class _Constructeur:
    """Turns a composed node graph into plain data, enforcing the safety bounds."""

    def __init__(self, chemin: Path, vault_permis: bool) -> None:
        self.chemin = chemin
        self.vault_permis = vault_permis
        self.noeuds = 0
        self._scalaires = yaml.constructor.SafeConstructor()

    def _erreur(self, noeud: Any, message: str, correction: str) -> ErreurYaml:
        m = noeud.start_mark
        return ErreurYaml(self.chemin, message, correction, m.line + 1, m.column + 1)

    def construire(self, noeud: Any, profondeur: int) -> Any:
        if noeud is None:
            return None
        self.noeuds += 1
        if self.noeuds > NOEUDS_MAX:
            raise self._erreur(
                noeud,
                f"document trop volumineux une fois les alias développés (plus de {NOEUDS_MAX} éléments)",
                "n'utilisez pas d'alias imbriqués (« bombe » d'alias) ; écrivez les valeurs directement",
            )
        if profondeur > PROFONDEUR_MAX:
            raise self._erreur(
                noeud,
                f"imbrication trop profonde (plus de {PROFONDEUR_MAX} niveaux, ou alias récursif)",
                "aplatissez la structure ; un manifeste n'a jamais besoin d'autant de niveaux",
            )
        if isinstance(noeud, yaml.ScalarNode):
            return self._scalaire(noeud)
        if isinstance(noeud, yaml.SequenceNode):
            if noeud.tag != _SEQ:
                raise self._etiquette(noeud)
            return [self.construire(n, profondeur + 1) for n in noeud.value]
        if noeud.tag != _MAP:
            raise self._etiquette(noeud)
        return self._mapping(noeud, profondeur)

    def _etiquette(self, noeud: Any) -> ErreurYaml:
        return self._erreur(
            noeud,
            f"étiquette YAML interdite « {noeud.tag} »",
            "un manifeste ne contient que des données simples : retirez l'étiquette"
            + (" (les secrets vont dans le coffre : ardoise-vault)" if noeud.tag == TAG_VAULT else ""),
        )

    def _scalaire(self, noeud: yaml.ScalarNode) -> Any:
        if noeud.tag == TAG_VAULT and self.vault_permis:
            return ValeurChiffree(noeud.value)
        if noeud.tag not in _SCALAIRES:
            raise self._etiquette(noeud)
        try:
            valeur = self._scalaires.construct_object(noeud)
        except (ValueError, yaml.YAMLError):
            return noeud.value
        if isinstance(valeur, bool):
            return valeur
        if isinstance(valeur, int):
            return EntierYaml(valeur, noeud.value)
        if isinstance(valeur, dt.datetime):
            return valeur
        return valeur

    def _mapping(self, noeud: yaml.MappingNode, profondeur: int) -> dict:
        resultat: dict = {}
        vus: dict[Any, Any] = {}
        fusions: list[dict] = []
        for k, v in noeud.value:
            if k.tag == _MERGE:
                valeurs = v.value if isinstance(v, yaml.SequenceNode) else [v]
                for f in valeurs:
                    d = self.construire(f, profondeur + 1)
                    if not isinstance(d, dict):
                        raise self._erreur(f, "fusion « << » d'autre chose qu'un dictionnaire", "fusionnez une ancre de dictionnaire")
                    fusions.append(d)
                continue
            if not isinstance(k, yaml.ScalarNode):
                raise self._erreur(k, "clé complexe (liste ou dictionnaire utilisé comme clé)", "utilisez une clé simple")
            cle = self._scalaire(k)
            if isinstance(cle, EntierYaml):
                cle = int(cle)
            if not isinstance(cle, str | int | bool | dt.date) or cle is None:
                cle = k.value
            if cle in vus:
                premiere = vus[cle].start_mark.line + 1
                raise self._erreur(
                    k,
                    f"clé « {k.value} » en double (déjà définie ligne {premiere})",
                    "supprimez l'une des deux définitions ou fusionnez-les",
                )
            vus[cle] = k
            resultat[cle] = self.construire(v, profondeur + 1)
        for d in reversed(fusions):
            for cle, valeur in d.items():
                resultat.setdefault(cle, valeur)
        return resultat
