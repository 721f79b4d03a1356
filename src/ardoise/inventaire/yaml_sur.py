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


class FlottantYaml(float):
    """A float read from YAML that remembers its source text (``modele: 3.10`` stays ``3.10``)."""

    texte: str

    def __new__(cls, valeur: float, texte: str) -> FlottantYaml:
        obj = super().__new__(cls, valeur)
        obj.texte = texte
        return obj

    def __reduce__(self):
        return (FlottantYaml, (float(self), self.texte))


# YAML 1.1 also reads yes/no/on/off as booleans: they stay text (``ssid: ON``), and pydantic still
# reads them as booleans where the schema wants one.
_BOOLEENS = {"true": True, "false": False}


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
        raise ErreurYaml(
            chemin, f"lecture impossible ({e.strerror})", "vérifiez le chemin et les droits"
        ) from e
    return lire_texte(chemin, brut, vault_permis)


def lire_texte(chemin: Path, brut: bytes, vault_permis: bool = False) -> DocumentYaml:
    """Parse ``brut`` (the bytes of ``chemin``); see :func:`lire`."""
    if brut.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ErreurYaml(
            chemin,
            "encodage UTF-16 : le fichier doit être en UTF-8",
            "réenregistrez le fichier en UTF-8 (par exemple : iconv -f utf-16 -t utf-8)",
        )
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
    retrait_max = indicateurs_max = 0
    for n, ligne in enumerate(texte.splitlines(), start=1):
        debut = ligne[: len(ligne) - len(ligne.lstrip(" \t"))]
        retrait_max = max(retrait_max, len(debut))
        if "- " in ligne or "? " in ligne:
            indicateurs_max = max(indicateurs_max, ligne.count("- ") + ligne.count("? "))
        if "\t" in debut:
            raise ErreurYaml(
                chemin,
                "tabulation dans l'indentation (YAML n'accepte que des espaces)",
                "remplacez les tabulations par des espaces",
                n,
                debut.index("\t") + 1,
            )
    try:
        # Nesting needs a flow opener, more indentation or a "- "/"? " indicator on the line: when
        # their sum cannot reach the limit, the (costly) event pass is not needed.
        if texte.count("[") + texte.count("{") + retrait_max + indicateurs_max + 1 > PROFONDEUR_MAX:
            _verifier_profondeur(chemin, texte)
        racine = yaml.compose(texte, Loader=_Chargeur)
    except yaml.MarkedYAMLError as e:
        raise _traduire(chemin, e) from None
    except yaml.reader.ReaderError as e:
        # e.position counts bytes with libyaml, characters without: find the character itself
        i = texte.find(chr(e.character)) if isinstance(e.character, int) else -1
        i = max(i, 0)
        ligne = texte.count("\n", 0, i) + 1
        colonne = i - (texte.rfind("\n", 0, i) + 1) + 1
        raise ErreurYaml(
            chemin,
            f"caractère de contrôle interdit (U+{e.character:04X})"
            if isinstance(e.character, int)
            else "caractère interdit",
            "supprimez ce caractère invisible (copier-coller depuis un traitement de texte ?)",
            ligne,
            colonne,
        ) from None
    except yaml.YAMLError:
        raise ErreurYaml(chemin, "YAML invalide", _CORRECTION_SYNTAXE) from None
    constructeur = _Constructeur(chemin, vault_permis)
    if racine is not None and "*" in texte:  # without aliases the size is bounded by the file's
        constructeur.mesurer(racine, 0, {}, set())
    donnees = constructeur.construire(racine, 0)
    return DocumentYaml(chemin, donnees, texte)


def _verifier_profondeur(chemin: Path, texte: str) -> None:
    """Refuse deep nesting before composing: libyaml's composer recurses in C, and a few hundred
    thousand ``[`` (a small file) crash the Python process."""
    profondeur = 0
    for evenement in yaml.parse(texte, Loader=_Chargeur):
        if isinstance(evenement, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            profondeur += 1
            if profondeur > PROFONDEUR_MAX:
                m = evenement.start_mark
                raise ErreurYaml(
                    chemin,
                    f"imbrication trop profonde (plus de {PROFONDEUR_MAX} niveaux)",
                    "aplatissez la structure ; un manifeste n'a jamais besoin d'autant de niveaux",
                    m.line + 1,
                    m.column + 1,
                )
        elif isinstance(evenement, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            profondeur -= 1


_CORRECTION_SYNTAXE = "vérifiez à cet endroit l'indentation, les « : », les guillemets et les crochets"


def _traduire(chemin: Path, e: yaml.MarkedYAMLError) -> ErreurYaml:
    marque = e.problem_mark or e.context_mark
    ligne, colonne = (marque.line + 1, marque.column + 1) if marque else (1, 1)
    probleme = (e.problem or "").strip()
    table = [
        ("while scanning a quoted scalar", "guillemet non fermé", "fermez le guillemet"),
        (
            "mapping values are not allowed",
            "« : » inattendu",
            "mettez la valeur entre guillemets ou corrigez l'indentation",
        ),
        ("could not find expected ':'", "« : » attendu", "chaque entrée s'écrit « clé: valeur »"),
        (
            "found undefined alias",
            "alias « * » vers une ancre inconnue",
            "déclarez l'ancre « & » avant de l'utiliser",
        ),
        ("found duplicate anchor", "ancre « & » déclarée deux fois", "donnez un nom unique à chaque ancre"),
        ("did not find expected key", "indentation incohérente", "alignez les clés du même bloc"),
        ("expected <block end>", "indentation incohérente", "alignez les clés du même bloc"),
        (
            "found unexpected end of stream",
            "fin de fichier inattendue (guillemet ou crochet non fermé ?)",
            "fermez le guillemet ou le crochet ouvert",
        ),
        (
            "did not find expected ','",
            "crochet ou accolade non fermé",
            "fermez la liste « ] » ou le dictionnaire « } »",
        ),
        (
            "found character",
            "caractère interdit à cet endroit",
            "supprimez ce caractère ou mettez la valeur entre guillemets",
        ),
        (
            "found another document",
            "plusieurs documents (« --- ») dans un même fichier",
            "un fichier ne contient qu'un document : retirez le second « --- » ou découpez le fichier",
        ),
        (
            "found unknown escape character",
            "séquence d'échappement « \\ » inconnue entre guillemets",
            "doublez la barre oblique inverse (\\\\) ou utilisez des guillemets simples",
        ),
        (
            "escape",
            "séquence d'échappement « \\ » invalide entre guillemets",
            "doublez la barre oblique inverse (\\\\) ou utilisez des guillemets simples",
        ),
        (
            "did not find expected node content",
            "valeur attendue",
            "complétez la valeur ou retirez le « - » ou le « ... »",
        ),
        ("did not find expected '-' indicator", "élément de liste attendu", "alignez les « - » de la liste"),
        ("tab character", "tabulation interdite à cet endroit", "remplacez les tabulations par des espaces"),
        ("document indicator", "« --- » ou « ... » inattendu", "retirez ce marqueur de document"),
        ("%YAML", "directive %YAML invalide ou répétée", "retirez les lignes « %YAML »"),
        ("%TAG", "directive %TAG invalide ou répétée", "retirez les lignes « %TAG »"),
        ("directive", "directive « % » invalide", "retirez la ligne qui commence par « % »"),
        ("tag handle", "étiquette « ! » inconnue", "retirez l'étiquette"),
        (
            "not allowed in this context",
            "élément inattendu à cet endroit (indentation ?)",
            "alignez les clés du même bloc",
        ),
        (
            "anchor",
            "ancre « & » ou alias « * » invalide",
            "un nom d'ancre s'écrit en lettres, chiffres, « - » ou « _ »",
        ),
        (
            "alias",
            "ancre « & » ou alias « * » invalide",
            "un nom d'ancre s'écrit en lettres, chiffres, « - » ou « _ »",
        ),
        (
            "indentation indicator",
            "indicateur d'indentation invalide après « | » ou « > »",
            "retirez le chiffre après « | »",
        ),
        (
            "comment or line break",
            "texte inattendu après la valeur",
            "mettez la valeur entre guillemets ou ajoutez un espace avant « # »",
        ),
    ]
    ouvert = ""
    if (
        e.context_mark
        and marque
        and e.context_mark.line != marque.line
        and (e.context or "").startswith(("while parsing a flow", "while scanning a quoted"))
    ):
        ouvert = f" (ouvert ligne {e.context_mark.line + 1})"
    for motif, message, correction in table:
        if motif in probleme or motif in (e.context or ""):
            return ErreurYaml(chemin, f"YAML invalide : {message}{ouvert}", correction, ligne, colonne)
    return ErreurYaml(chemin, "YAML invalide", _CORRECTION_SYNTAXE, ligne, colonne)


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

    def _trop_profond(self, noeud: Any) -> ErreurYaml:
        return self._erreur(
            noeud,
            f"imbrication trop profonde (plus de {PROFONDEUR_MAX} niveaux, ou alias récursif)",
            "aplatissez la structure ; un manifeste n'a jamais besoin d'autant de niveaux",
        )

    def _trop_gros(self, noeud: Any) -> ErreurYaml:
        return self._erreur(
            noeud,
            f"document trop volumineux une fois les alias développés (plus de {NOEUDS_MAX} éléments)",
            "n'utilisez pas d'alias imbriqués (« bombe » d'alias) ; écrivez les valeurs directement",
        )

    def mesurer(self, noeud: Any, profondeur: int, tailles: dict[int, int], en_cours: set[int]) -> int:
        """The expanded size of ``noeud``, each alias counted every time it is used.

        Memoised per node, so an alias bomb is measured (and refused) in microseconds, before
        anything is built; a node met again while being measured is a recursive alias.
        """
        cle = id(noeud)
        if cle in tailles:
            return tailles[cle]
        if profondeur > PROFONDEUR_MAX or cle in en_cours:
            raise self._trop_profond(noeud)
        if isinstance(noeud, yaml.MappingNode):
            enfants = [n for paire in noeud.value for n in paire]
        else:
            enfants = noeud.value if isinstance(noeud, yaml.SequenceNode) else []
        en_cours.add(cle)
        taille = 1
        for enfant in enfants:
            taille += self.mesurer(enfant, profondeur + 1, tailles, en_cours)
            if taille > NOEUDS_MAX:
                raise self._trop_gros(noeud)
        en_cours.discard(cle)
        tailles[cle] = taille
        return taille

    def construire(self, noeud: Any, profondeur: int) -> Any:
        if noeud is None:
            return None
        self.noeuds += 1
        if self.noeuds > NOEUDS_MAX:  # already refused by mesurer(); kept as a backstop
            raise self._trop_gros(noeud)
        if profondeur > PROFONDEUR_MAX:
            raise self._trop_profond(noeud)
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
        if noeud.tag == _STR:  # most scalars: skip PyYAML's generic constructor
            return noeud.value
        if noeud.tag == TAG_VAULT and self.vault_permis:
            return ValeurChiffree(noeud.value)
        if noeud.tag not in _SCALAIRES:
            raise self._etiquette(noeud)
        try:
            valeur = self._scalaires.construct_object(noeud)
        except (ValueError, yaml.YAMLError):
            return noeud.value
        if isinstance(valeur, bool):
            return _BOOLEENS.get(noeud.value.lower(), noeud.value)
        if isinstance(valeur, int):
            return EntierYaml(valeur, noeud.value)
        if isinstance(valeur, float):
            return FlottantYaml(valeur, noeud.value)
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
                        raise self._erreur(
                            f,
                            "fusion « << » d'autre chose qu'un dictionnaire",
                            "fusionnez une ancre de dictionnaire",
                        )
                    fusions.append(d)
                continue
            if not isinstance(k, yaml.ScalarNode):
                raise self._erreur(
                    k, "clé complexe (liste ou dictionnaire utilisé comme clé)", "utilisez une clé simple"
                )
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
