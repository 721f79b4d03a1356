"""The Android Enterprise provisioning payload (QR enrolment) and its QR code.

The payload is the JSON object Android's setup wizard reads after six taps on the welcome screen:
``android.app.extra.PROVISIONING_*`` keys, booleans as JSON booleans, the proxy port as a number,
the admin extras bundle as a nested object of strings. It carries the Wi-Fi PSK in clear: it is only
ever put into the QR symbol, never logged nor written as text.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import segno

from ardoise.inventaire.modele import Dpc, Poste
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import SecuriteWifi
from ardoise.tablettes.appareils import proxy_explicite
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes
from ardoise.tablettes.wifi import ReseauWifi

P = "android.app.extra.PROVISIONING_"
COMPOSANT = P + "DEVICE_ADMIN_COMPONENT_NAME"
TELECHARGEMENT = P + "DEVICE_ADMIN_PACKAGE_DOWNLOAD_LOCATION"
EMPREINTE = P + "DEVICE_ADMIN_PACKAGE_CHECKSUM"
WIFI_SSID = P + "WIFI_SSID"
WIFI_SECURITE = P + "WIFI_SECURITY_TYPE"
WIFI_MDP = P + "WIFI_PASSWORD"
WIFI_MASQUE = P + "WIFI_HIDDEN"
WIFI_PROXY_HOTE = P + "WIFI_PROXY_HOST"
WIFI_PROXY_PORT = P + "WIFI_PROXY_PORT"
WIFI_PROXY_EXCLUSIONS = P + "WIFI_PROXY_BYPASS"
WIFI_PAC = P + "WIFI_PAC_URL"
LANGUE = P + "LOCALE"
FUSEAU = P + "TIME_ZONE"
SANS_CHIFFREMENT = P + "SKIP_ENCRYPTION"
APPS_SYSTEME = P + "LEAVE_ALL_SYSTEM_APPS_ENABLED"
EXTRAS = P + "ADMIN_EXTRAS_BUNDLE"

LOCALE = "fr_FR"
FUSEAU_HORAIRE = "Europe/Paris"

# Android knows NONE, WPA, WEP and EAP: every pre-shared-key family (WPA2, WPA3-SAE, mixed) is "WPA".
SECURITE_ANDROID = {
    SecuriteWifi.wpa2_psk: "WPA",
    SecuriteWifi.wpa3_sae: "WPA",
    SecuriteWifi.wpa2_wpa3: "WPA",
    SecuriteWifi.ouvert: "NONE",
}

# Admin extras bundle keys: the DPC (its server-side configuration) reads the device identity here.
X_UAI, X_PROFIL, X_HOTE, X_SERIE, X_CLASSE, X_JETON = (
    "ardoise.uai",
    "ardoise.profil",
    "ardoise.nom_hote",
    "ardoise.numero_serie",
    "ardoise.classe",
    "ardoise.jeton_ref",
)


def dpc_du_territoire(territoire: Territoire, ecole: EcoleChargee) -> Dpc:
    dpc = ecole.politique.dpc
    if dpc is None:
        raise ErreurConfigurationTablettes(
            "aucun DPC Android Enterprise : renseignez politique.dpc (composant, url_telechargement, "
            "fichier_apk) dans inventaire/territoire.yml"
        )
    if not dpc.fichier_apk:
        raise ErreurConfigurationTablettes(
            "politique.dpc.fichier_apk manque : l'empreinte SHA-256 du QR se calcule sur une copie locale "
            "de l'APK du DPC (chemin relatif au dossier de l'inventaire)"
        )
    return dpc


def empreinte_apk(fichier: Path) -> str:
    """SHA-256 of the package file, URL-safe base64 without padding (what Android compares)."""
    h = hashlib.sha256()
    try:
        with fichier.open("rb") as f:
            for bloc in iter(lambda: f.read(1 << 16), b""):
                h.update(bloc)
    except OSError as e:
        raise ErreurConfigurationTablettes(
            f"APK du DPC illisible ({fichier}) : {e.strerror} ; vérifiez politique.dpc.fichier_apk"
        ) from None
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode("ascii")


def reference_jeton(uai: str, profil: str) -> str:
    """The enrolment token reference: the name of the DPC server's enrolment configuration."""
    return f"ardoise:{uai}:{profil}"


@dataclass(frozen=True)
class Identite:
    """Who the QR enrols: one device, or a batch (one profile of a school) when nom/serie are None."""

    uai: str
    profil: str
    nom: str | None = None
    serie: str | None = None
    classe: str | None = None

    @classmethod
    def de_poste(cls, ecole: EcoleChargee, poste: Poste) -> Identite:
        return cls(ecole.uai, poste.profil, poste.nom, poste.numero_serie, poste.classe)


def charge_utile(
    territoire: Territoire,
    ecole: EcoleChargee,
    identite: Identite,
    parametres: dict[str, tuple[Any, str]],
    reseau: ReseauWifi,
) -> dict[str, Any]:
    """The provisioning payload of one QR (PSK in clear: only for :func:`symbole`)."""
    dpc = dpc_du_territoire(territoire, ecole)
    extras = {
        X_UAI: identite.uai,
        X_PROFIL: identite.profil,
        X_JETON: reference_jeton(identite.uai, identite.profil),
    }
    if identite.nom:
        extras[X_HOTE] = identite.nom
    if identite.serie:
        extras[X_SERIE] = identite.serie
    if identite.classe:
        extras[X_CLASSE] = identite.classe
    chiffrement = parametres.get("chiffrement", (None, ""))[0]
    apps_systeme = parametres.get("applications_systeme", (None, ""))[0]
    donnees: dict[str, Any] = {
        COMPOSANT: dpc.composant,
        TELECHARGEMENT: str(dpc.url_telechargement),
        EMPREINTE: empreinte_apk(territoire.racine / dpc.fichier_apk),
        WIFI_SSID: reseau.ssid,
        WIFI_SECURITE: SECURITE_ANDROID[reseau.securite],
        WIFI_MDP: reseau.psk.reveler(),
    }
    if reseau.masque:
        donnees[WIFI_MASQUE] = True
    proxy = proxy_explicite(ecole.politique.proxy)
    if proxy is not None and proxy.hote:
        donnees[WIFI_PROXY_HOTE] = proxy.hote
        donnees[WIFI_PROXY_PORT] = proxy.port
        if proxy.exclusions:
            donnees[WIFI_PROXY_EXCLUSIONS] = ",".join(proxy.exclusions)
    elif proxy is not None and proxy.pac:
        donnees[WIFI_PAC] = str(proxy.pac)
    donnees |= {
        LANGUE: LOCALE,
        FUSEAU: FUSEAU_HORAIRE,
        SANS_CHIFFREMENT: chiffrement is False,
        APPS_SYSTEME: apps_systeme is True,
        EXTRAS: extras,
    }
    return donnees


def texte_qr(donnees: dict[str, Any]) -> str:
    """The exact text encoded in the QR: compact JSON, ASCII only (non-ASCII as \\u escapes)."""
    return json.dumps(donnees, ensure_ascii=True, separators=(",", ":"))


def symbole(donnees: dict[str, Any]) -> segno.QRCode:
    """The QR symbol (byte mode, error correction M: printed sheets get scratched)."""
    return segno.make_qr(texte_qr(donnees), error="m", mode="byte", boost_error=False)
