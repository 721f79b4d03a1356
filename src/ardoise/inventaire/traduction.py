"""pydantic validation errors → French problems with a fix ("vouliez-vous dire … ?")."""

from __future__ import annotations

import difflib
import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

_NOMS_TYPES = {
    "int": "un nombre entier",
    "float": "un nombre",
    "bool": "oui/non (true/false)",
    "str": "un texte",
    "string": "un texte",
    "list": "une liste",
    "dict": "un dictionnaire (clé: valeur)",
    "date": "une date (AAAA-MM-JJ ou JJ/MM/AAAA)",
}

_VALEURS: dict[str, tuple[str, str]] = {
    "uai_format": ("code UAI invalide", "un UAI s'écrit 7 chiffres et une lettre, par exemple 0331101T"),
    "siren_format": ("SIREN invalide", "un SIREN compte 9 chiffres"),
    "siren_cle": (
        "SIREN invalide (clé de contrôle fausse)",
        "recopiez le SIREN depuis l'avis de situation INSEE",
    ),
    "mac_format": ("adresse MAC invalide", "écrivez 6 octets hexadécimaux, par exemple 00:1a:2b:3c:4d:5e"),
    "heure_format": ("heure invalide", 'écrivez l\'heure HH:MM entre guillemets, par exemple "13:30"'),
    "date_invalide": ("date invalide", "écrivez une date existante, AAAA-MM-JJ ou JJ/MM/AAAA"),
    "proxy_adresse": (
        "proxy sans adresse ou sans port",
        "en mode local ou academique, donnez « adresse » et « port »",
    ),
    "proxy_pac": ("proxy en mode pac sans URL de fichier PAC", "donnez « pac: https://…/proxy.pac »"),
    "tarif_double": (
        "tarif déclaré deux fois pour le même type et le même modèle",
        "gardez un seul prix par type (et par modèle)",
    ),
    "chemin_nul": (
        "chemin invalide (caractère nul)",
        "écrivez un chemin relatif au dossier de l'inventaire, par exemple coffre.yml",
    ),
}


def _deballer(annotation: Any) -> Any:
    """Strip Annotated / Optional / list / dict wrappers down to the inner type."""
    while True:
        origine = typing.get_origin(annotation)
        if origine is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origine in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation
        else:
            return annotation


def _type_a(modele: type[BaseModel], loc: tuple) -> Any:
    """The annotation found by following ``loc`` from ``modele`` (None when lost)."""
    courant: Any = modele
    for etape in loc:
        courant = _deballer(courant)
        origine = typing.get_origin(courant)
        if origine is list:
            if isinstance(etape, int):
                courant = typing.get_args(courant)[0]
                continue
            return None
        if origine is dict:
            courant = typing.get_args(courant)[1]
            continue
        if isinstance(courant, type) and issubclass(courant, BaseModel):
            champ = courant.model_fields.get(str(etape))
            if champ is None:
                return None
            courant = champ.annotation
            continue
        return None
    return _deballer(courant)


def suggestion(mot: str, possibles: list[str]) -> str:
    """`` (vouliez-vous dire « x » ?)`` when a close word exists, else empty."""
    proches = difflib.get_close_matches(mot, possibles, n=1, cutoff=0.6)
    return f" (vouliez-vous dire « {proches[0]} » ?)" if proches else ""


def _afficher(valeur: Any) -> str:
    texte = str(getattr(valeur, "texte", valeur))
    # control characters (NUL, terminal escapes) are shown, never sent to the terminal
    texte = "".join(c if c.isprintable() else repr(c)[1:-1] for c in texte)
    return texte if len(texte) <= 60 else texte[:57] + "…"


def traduire(erreur: dict, modele: type[BaseModel]) -> tuple[str, str, bool]:
    """Return (message, correction, at_key) for one pydantic error dict."""
    loc = tuple(erreur["loc"])
    genre = erreur["type"]
    entree = erreur.get("input")
    cle = str(loc[-1]) if loc else ""
    if cle == "[key]":
        return (
            f"clé « {_afficher(entree)} » invalide",
            "une clé s'écrit en minuscules, chiffres, « - », « _ » ou « . », sans accent ni espace",
            True,
        )
    if genre == "extra_forbidden":
        parent = _type_a(modele, loc[:-1])
        possibles = (
            list(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        )
        return (
            f"clé inconnue « {cle} »{suggestion(cle, possibles)}",
            "clés possibles ici : " + ", ".join(possibles) if possibles else "supprimez cette clé",
            True,
        )
    if genre == "missing":
        return (f"clé obligatoire « {cle} » absente", f"ajoutez « {cle}: … » à cet endroit", False)
    if genre == "enum":
        attendu = _type_a(modele, loc)
        valeurs = (
            [e.value for e in attendu] if isinstance(attendu, type) and issubclass(attendu, Enum) else []
        )
        return (
            f"valeur « {_afficher(entree)} » inconnue pour « {cle} »{suggestion(str(entree), valeurs)}",
            "valeurs possibles : " + ", ".join(valeurs),
            False,
        )
    if genre == "value_error":
        code = str(erreur.get("ctx", {}).get("error", ""))
        base, _, extra = code.partition(":")
        if base == "uai_cle":
            return (
                f"code UAI « {_afficher(entree)} » invalide : la lettre de contrôle devrait être « {extra} »",
                "vérifiez le code dans l'annuaire de l'Éducation nationale (7 chiffres, puis la lettre-clé)",
                False,
            )
        if base in _VALEURS:
            message, correction = _VALEURS[base]
            return (
                f"{message} : « {_afficher(entree)} »"
                if entree is not None and not isinstance(entree, dict)
                else message,
                correction,
                False,
            )
        return (f"valeur « {_afficher(entree)} » invalide pour « {cle} »", "corrigez la valeur", False)
    if genre.startswith("ip_v4_network"):
        return (
            f"réseau IPv4 invalide « {_afficher(entree)} »",
            "écrivez l'adresse du réseau et son masque, par exemple 10.1.2.0/24 (pas une adresse d'hôte)",
            False,
        )
    if genre.startswith("ip_v4"):
        return (
            f"adresse IPv4 invalide « {_afficher(entree)} »",
            "écrivez quatre nombres de 0 à 255, par exemple 10.1.2.3",
            False,
        )
    if genre == "string_pattern_mismatch":
        motif = erreur.get("ctx", {}).get("pattern", "")
        if "a-z0-9" in motif:
            correction = "utilisez des minuscules, chiffres, « - », « _ » ou « . » (sans accent ni espace)"
        elif "https?" in motif:
            correction = "écrivez une URL complète, par exemple https://ent.example.fr/"
        elif "2[AB]" in motif:
            correction = 'un code INSEE compte 5 caractères, entre guillemets, par exemple "33063"'
        elif r"\d{5}" in motif:
            correction = 'un code postal compte 5 chiffres, entre guillemets, par exemple "33000"'
        elif "acces|trunk" in motif:
            correction = "valeurs possibles : acces, trunk"
        elif "planifiee" in motif:
            correction = "valeurs possibles : planifiee, sur_acces"
        elif "ABC" in motif:
            correction = "valeurs possibles : A, B, C"
        else:
            correction = f"la valeur doit respecter le format {motif}"
        return (f"valeur « {_afficher(entree)} » invalide pour « {cle} »", correction, False)
    if genre == "int_from_float":
        return (
            f"« {cle} » doit être un nombre entier, pas « {_afficher(entree)} »",
            "écrivez un nombre entier",
            False,
        )
    if genre.endswith("_type") or genre.endswith("_parsing"):
        attendu = genre.split("_")[0]
        if genre == "model_type" or genre == "dict_type":
            attendu = "dict"
        nom = _NOMS_TYPES.get(attendu, attendu)
        if not loc:
            return (
                f"le fichier doit contenir {nom}, pas {_nature(entree)}",
                "écrivez des entrées « clé: valeur » au premier niveau",
                False,
            )
        return (
            f"« {cle} » doit être {nom}, pas {_nature(entree)} « {_afficher(entree)} »",
            f"écrivez {nom}",
            False,
        )
    if genre in _LIMITES:
        cle_ctx, libelle = _LIMITES[genre]
        borne = erreur.get("ctx", {}).get(cle_ctx)
        return (
            f"valeur « {_afficher(entree)} » hors limites pour « {cle} » (elle doit être {libelle} {borne})",
            f"écrivez une valeur {libelle} {borne}",
            False,
        )
    if genre in ("too_short", "too_long", "string_too_short", "string_too_long"):
        return (f"« {cle} » : {_longueur(erreur)}", "complétez ou raccourcissez la liste ou le texte", False)
    return (f"valeur « {_afficher(entree)} » invalide pour « {cle} »", "corrigez la valeur", False)


_LIMITES = {
    "greater_than_equal": ("ge", "supérieure ou égale à"),
    "greater_than": ("gt", "supérieure à"),
    "less_than_equal": ("le", "inférieure ou égale à"),
    "less_than": ("lt", "inférieure à"),
}


_REGLES_VALEURS = {
    "uai_format": "uai",
    "uai_cle": "uai",
    "siren_format": "siren",
    "siren_cle": "siren",
    "mac_format": "mac",
    "heure_format": "heure",
    "date_invalide": "date",
    "proxy_adresse": "proxy",
    "proxy_pac": "proxy",
    "chemin_nul": "chemin",
    "tarif_double": "tarif-double",
}


def chemin_erreur(erreur: dict) -> tuple:
    """Where a schema error sits in the document (a bad dict key is located on the key itself)."""
    loc = tuple(erreur["loc"])
    return loc[:-1] if loc and loc[-1] == "[key]" else loc


def regle(erreur: dict) -> str:
    """The stable rule id of a schema error (pydantic's own error types are not shown)."""
    genre = erreur["type"]
    if erreur["loc"] and erreur["loc"][-1] == "[key]":
        return "cle-invalide"
    if genre == "extra_forbidden":
        return "cle-inconnue"
    if genre == "missing":
        return "cle-absente"
    if genre == "enum":
        return "valeur-inconnue"
    if genre == "value_error":
        code = str(erreur.get("ctx", {}).get("error", "")).partition(":")[0]
        return _REGLES_VALEURS.get(code, "valeur-invalide")
    if genre.startswith("ip_v4_network"):
        return "reseau-ipv4"
    if genre.startswith("ip_v4"):
        return "ipv4"
    if genre.startswith("date"):
        return "date"
    if genre == "string_pattern_mismatch":
        return "format"
    if genre.endswith("_type") or genre.endswith("_parsing"):
        return "type"
    if genre == "int_from_float":
        return "type"
    if genre in _LIMITES:
        return "hors-limites"
    if genre in ("too_short", "too_long", "string_too_short", "string_too_long"):
        return "longueur"
    return "valeur-invalide"


def _nature(v: Any) -> str:
    if isinstance(v, list):
        return "une liste"
    if isinstance(v, dict):
        return "un dictionnaire"
    if v is None:
        return "une valeur vide"
    if isinstance(v, bool):
        return "un booléen"
    if isinstance(v, int | float):
        return "un nombre"
    return "le texte"


def _longueur(erreur: dict) -> str:
    ctx = erreur.get("ctx", {})
    if erreur["type"].endswith("too_short"):
        return f"au moins {ctx.get('min_length')} élément(s) ou caractère(s) attendus"
    return f"au plus {ctx.get('max_length')} élément(s) ou caractère(s) permis"


def erreurs_pydantic(exc: ValidationError) -> list[dict]:
    """The raw error dicts, without pydantic's English URLs."""
    return exc.errors(include_url=False)
