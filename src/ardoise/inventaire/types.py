"""Constrained value types shared by the manifest models (codes, addresses, times...)."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StringConstraints

from ardoise.inventaire.yaml_sur import EntierYaml, FlottantYaml

_LETTRES_UAI = "ABCDEFGHJKLMNPRSTUVWXYZ"


def _texte(v: Any) -> Any:
    """Numbers YAML read by mistake (octal, base 60, ``3.10``) come back as their source text."""
    if isinstance(v, EntierYaml | FlottantYaml):
        return v.texte
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    return v


Texte = Annotated[str, BeforeValidator(_texte)]
Identifiant = Annotated[
    str, BeforeValidator(_texte), StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
]
NomHote = Annotated[
    str,
    BeforeValidator(_texte),
    StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", to_lower=False),
]


def cle_uai(sept_chiffres: str) -> str:
    """The check letter of a UAI (RNE) code: the 7 digits modulo 23 in the UAI alphabet."""
    return _LETTRES_UAI[int(sept_chiffres) % 23]


def _uai(v: str) -> str:
    v = v.strip().upper()
    if not re.fullmatch(r"\d{7}[A-Z]", v):
        raise ValueError("uai_format")
    if cle_uai(v[:7]) != v[7]:
        raise ValueError(f"uai_cle:{cle_uai(v[:7])}")
    return v


Uai = Annotated[str, BeforeValidator(_texte), AfterValidator(_uai)]


def _siren(v: str) -> str:
    v = v.replace(" ", "")
    if not re.fullmatch(r"\d{9}", v):
        raise ValueError("siren_format")
    total = 0
    for i, c in enumerate(reversed(v)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    if total % 10:
        raise ValueError("siren_cle")
    return v


Siren = Annotated[str, BeforeValidator(_texte), AfterValidator(_siren)]
Insee = Annotated[str, BeforeValidator(_texte), StringConstraints(pattern=r"^(\d{5}|2[AB]\d{3})$")]
CodePostal = Annotated[str, BeforeValidator(_texte), StringConstraints(pattern=r"^\d{5}$")]


def _mac(v: str) -> str:
    brut = re.sub(r"[:\-.]", "", v.strip().lower())
    if not re.fullmatch(r"[0-9a-f]{12}", brut):
        raise ValueError("mac_format")
    return ":".join(brut[i : i + 2] for i in range(0, 12, 2))


Mac = Annotated[str, BeforeValidator(_texte), AfterValidator(_mac)]


def _heure(v: Any) -> str:
    if isinstance(v, EntierYaml):
        v = v.texte
    if isinstance(v, dt.time):
        return v.strftime("%H:%M")
    if not isinstance(v, str) or not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", v.strip()):
        raise ValueError("heure_format")
    h, m = v.strip().split(":")
    return f"{int(h):02d}:{m}"


Heure = Annotated[str, BeforeValidator(_heure)]


def _date(v: Any) -> Any:
    """Accept ISO dates (YAML reads them) and French ``JJ/MM/AAAA`` text."""
    if isinstance(v, str):
        m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", v.strip())
        if m:
            try:
                return dt.date(int(m[3]), int(m[2]), int(m[1]))
            except ValueError:
                raise ValueError("date_invalide") from None
    if isinstance(v, dt.datetime):
        return v.date()
    return v


Date = Annotated[dt.date, BeforeValidator(_date)]


def _chemin(v: str) -> str:
    if "\x00" in v:
        raise ValueError("chemin_nul")
    return v


Chemin = Annotated[str, BeforeValidator(_texte), AfterValidator(_chemin)]
Url = Annotated[str, BeforeValidator(_texte), StringConstraints(pattern=r"^(https?|git|ssh)://\S+$")]


class Jour(StrEnum):
    lundi = "lundi"
    mardi = "mardi"
    mercredi = "mercredi"
    jeudi = "jeudi"
    vendredi = "vendredi"
    samedi = "samedi"
    dimanche = "dimanche"


class RoleAtelier(StrEnum):
    """The workshop's roles (``playbooks/atelier.yml``, one tag each): what ansible-pull may replay."""

    socle = "socle"
    proxy_client = "proxy_client"
    antivirus = "antivirus"
    applications = "applications"
    navigateur = "navigateur"
    comptes = "comptes"


class RoleVlan(StrEnum):
    pedagogique = "pedagogique"
    administratif = "administratif"
    wifi_eleves = "wifi-eleves"
    wifi_invites = "wifi-invites"
    gestion = "gestion"
    serveurs = "serveurs"


ROLES_ELEVES = frozenset({RoleVlan.pedagogique, RoleVlan.wifi_eleves})


class TypePoste(StrEnum):
    pc = "pc"
    tablette = "tablette"
    ipad = "ipad"
    eni = "eni"


class TypeEquipement(StrEnum):
    """Every kind of device ``inventaire lister --type`` knows."""

    pc = "pc"
    tablette = "tablette"
    ipad = "ipad"
    eni = "eni"
    switch = "switch"
    ap = "ap"
    serveur = "serveur"


class Os(StrEnum):
    debian = "debian"
    primtux = "primtux"
    windows = "windows"
    android = "android"
    ipados = "ipados"
    autre = "autre"


OS_LINUX = frozenset({Os.debian, Os.primtux})


class Etat(StrEnum):
    atelier = "atelier"
    livre = "livre"
    en_service = "en_service"
    en_panne = "en_panne"
    reserve = "reserve"
    prete = "prete"
    reforme = "reforme"


class StatutDemande(StrEnum):
    demandee = "demandee"
    approuvee = "approuvee"
    refusee = "refusee"
    livree = "livree"


STATUTS_ACCORDES = frozenset({StatutDemande.approuvee, StatutDemande.livree})


class ModeProxy(StrEnum):
    local = "local"
    academique = "academique"
    pac = "pac"
    dns = "dns"


class Plateforme(StrEnum):
    cisco_ios = "cisco_ios"
    hp_procurve = "hp_procurve"
    aruba_aoscx = "aruba_aoscx"


class SecuriteWifi(StrEnum):
    wpa2_psk = "wpa2-psk"
    wpa3_sae = "wpa3-sae"
    wpa2_wpa3 = "wpa2-wpa3"
    wpa2_entreprise = "wpa2-entreprise"
    ouvert = "ouvert"


SECURITES_PSK = frozenset({SecuriteWifi.wpa2_psk, SecuriteWifi.wpa3_sae, SecuriteWifi.wpa2_wpa3})


class TypeEcole(StrEnum):
    maternelle = "maternelle"
    elementaire = "elementaire"
    primaire = "primaire"
    groupe_scolaire = "groupe_scolaire"
    college = "college"


class Administration(StrEnum):
    syndicat = "syndicat"
    commune = "commune"
