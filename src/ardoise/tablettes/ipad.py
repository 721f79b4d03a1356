"""iPad configuration profiles (``.mobileconfig``, plistlib) and the cfgutil batch script.

One profile per terminal profile of the school (``ipad``…): Wi-Fi (same network choice as the
Android QR), global HTTP proxy or PAC (supervised iPads), built-in content filter, restrictions from
the profile's ``parametres.restrictions``, web clips for the ENT (and the GAR). The Wi-Fi payload
carries the PSK, as the device needs it: the files are written readable by their owner only.
"""

from __future__ import annotations

import os
import plistlib
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from ardoise.inventaire.modele import Poste
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import SecuriteWifi
from ardoise.profils.resolution import profil_effectif
from ardoise.tablettes.appareils import ipads, proxy_explicite
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes
from ardoise.tablettes.signature import Signataire, signer
from ardoise.tablettes.wifi import ReseauWifi, reseau_tablettes

CHIFFREMENT_APPLE = {
    SecuriteWifi.wpa2_psk: "WPA2",
    SecuriteWifi.wpa3_sae: "WPA3",
    SecuriteWifi.wpa2_wpa3: "WPA2",  # WPA2 accepts a WPA2/WPA3 transition network
    SecuriteWifi.ouvert: "None",
}
SCRIPT_CFGUTIL = "appliquer-cfgutil.sh"


def _identifiant_racine(ecole: EcoleChargee) -> str:
    domaine = ".".join(reversed(ecole.politique.domaine.lower().split(".")))
    return f"{domaine}.ardoise.{ecole.uai.lower()}"


def _charge(type_: str, identifiant: str, nom: str, **contenu: Any) -> dict[str, Any]:
    return {
        "PayloadType": type_,
        "PayloadVersion": 1,
        "PayloadIdentifier": identifiant,
        # stable UUIDs: regenerating an unchanged profile gives the same file (iOS updates in place)
        "PayloadUUID": str(uuid.uuid5(uuid.NAMESPACE_URL, identifiant)).upper(),
        "PayloadDisplayName": nom,
        **contenu,
    }


def _wifi(racine: str, reseau: ReseauWifi, ecole: EcoleChargee) -> dict[str, Any]:
    contenu: dict[str, Any] = {
        "SSID_STR": reseau.ssid,
        "HIDDEN_NETWORK": reseau.masque,
        "AutoJoin": True,
        "EncryptionType": CHIFFREMENT_APPLE[reseau.securite],
        "Password": reseau.psk.reveler(),
        "ProxyType": "None",
    }
    proxy = proxy_explicite(ecole.politique.proxy)
    if proxy is not None and proxy.hote:
        contenu |= {"ProxyType": "Manual", "ProxyServer": proxy.hote, "ProxyServerPort": proxy.port}
    elif proxy is not None and proxy.pac:
        contenu |= {"ProxyType": "Auto", "ProxyPACURL": str(proxy.pac)}
    return _charge("com.apple.wifi.managed", f"{racine}.wifi", f"Wi-Fi {reseau.ssid}", **contenu)


def _proxy_global(racine: str, ecole: EcoleChargee) -> dict[str, Any] | None:
    proxy = proxy_explicite(ecole.politique.proxy)
    if proxy is None:
        return None
    if proxy.hote:
        contenu: dict[str, Any] = {
            "ProxyType": "Manual",
            "ProxyServer": proxy.hote,
            "ProxyServerPort": proxy.port,
            "ProxyCaptiveLoginAllowed": True,
        }
    else:
        contenu = {"ProxyType": "Auto", "ProxyPACURL": str(proxy.pac), "ProxyPACFallbackAllowed": False}
    return _charge(
        "com.apple.proxy.http.global", f"{racine}.proxy", "Proxy de l'école (iPad supervisé)", **contenu
    )


def _filtre(racine: str, ecole: EcoleChargee) -> dict[str, Any] | None:
    filtrage = ecole.politique.filtrage
    if filtrage is None or not filtrage.categories_bloquees:
        return None
    return _charge(
        "com.apple.webcontent-filter",
        f"{racine}.filtre",
        f"Filtrage des contenus ({filtrage.profil})",
        FilterType="BuiltIn",
        AutoFilterEnabled="adult" in filtrage.categories_bloquees,
        PermittedURLs=[d if "://" in d else f"https://{d}" for d in filtrage.domaines_autorises],
    )


def _restrictions(racine: str, profil: str, parametres: dict[str, tuple[Any, str]]) -> dict[str, Any] | None:
    restrictions = parametres.get("restrictions", (None, ""))[0]
    if not restrictions:
        return None
    return _charge(
        "com.apple.applicationaccess",
        f"{racine}.{profil}.restrictions",
        f"Restrictions ({profil})",
        **dict(restrictions),
    )


def _clips(racine: str, ecole: EcoleChargee) -> list[dict[str, Any]]:
    ent = ecole.politique.ent
    clips = [("ent", "ENT", str(ent.url))]
    if ent.gar:
        clips.append(("gar", "Ressources GAR", str(ent.gar)))
    return [
        _charge(
            "com.apple.webClip.managed",
            f"{racine}.clip.{cle}",
            f"Raccourci {libelle}",
            URL=url,
            Label=libelle,
            IsRemovable=False,
            FullScreen=False,
            Precomposed=True,
        )
        for cle, libelle, url in clips
    ]


def profil_configuration(
    territoire: Territoire,
    ecole: EcoleChargee,
    profil: str,
    parametres: dict[str, tuple[Any, str]],
    reseau: ReseauWifi,
) -> dict[str, Any]:
    """The configuration profile of one terminal profile of the school, as a plist dict."""
    racine = _identifiant_racine(ecole)
    charges = [_wifi(racine, reseau, ecole)]
    charges += [c for c in (_proxy_global(racine, ecole), _filtre(racine, ecole)) if c]
    if r := _restrictions(racine, profil, parametres):
        charges.append(r)
    charges += _clips(racine, ecole)
    nom = territoire.profils[profil].nom
    return _charge(
        "Configuration",
        f"{racine}.{profil}",
        f"{nom} — {ecole.nom}",
        PayloadDescription=(
            f"Profil « {profil} » de l'école {ecole.nom} ({ecole.uai}) : Wi-Fi, proxy, filtrage, "
            "restrictions et raccourcis ENT. Généré par Ardoise depuis le manifeste."
        ),
        PayloadOrganization=territoire.syndicat.nom,
        PayloadScope="System",
        PayloadRemovalDisallowed=True,
        PayloadContent=charges,
    )


@dataclass(frozen=True)
class ProfilsIpad:
    uai: str
    dossier: Path
    fichiers: list[Path]
    script: Path
    appareils: dict[str, tuple[str, str]]  # serial → (hostname, profile)
    ssid: str
    choix_wifi: str


def _ecrire_prive(chemin: Path, donnees: bytes, mode: int = 0o600) -> None:
    descripteur = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descripteur, "wb") as f:
        f.write(donnees)
    os.chmod(chemin, mode)


def _par_profil(ecole: EcoleChargee) -> dict[str, list[Poste]]:
    groupes: dict[str, list[Poste]] = {}
    for p in ipads(ecole):
        groupes.setdefault(p.profil, []).append(p)
    return groupes


def produire_profils(
    territoire: Territoire, uai: str, sortie: Path, signataire: Signataire | None = None
) -> ProfilsIpad:
    """Write ``<profil>.mobileconfig`` (and ``<profil>.signe.mobileconfig``) plus the cfgutil script."""
    ecole = territoire.ecole(uai)
    groupes = _par_profil(ecole)
    if not groupes:
        raise ErreurConfigurationTablettes(f"école {ecole.uai} : aucun iPad dans le manifeste")
    reseau = reseau_tablettes(territoire, ecole)
    dossier = sortie / f"ipad-{ecole.uai.lower()}"
    dossier.mkdir(parents=True, exist_ok=True)
    fichiers: list[Path] = []
    a_appliquer: dict[str, str] = {}
    for profil, postes in sorted(groupes.items()):
        pe = profil_effectif(territoire, ecole, postes[0])
        donnees = plistlib.dumps(profil_configuration(territoire, ecole, profil, pe.parametres, reseau))
        brut = dossier / f"{profil}.mobileconfig"
        _ecrire_prive(brut, donnees)
        fichiers.append(brut)
        a_appliquer[profil] = brut.name
        if signataire is not None:
            signe = dossier / f"{profil}.signe.mobileconfig"
            _ecrire_prive(signe, signer(donnees, signataire))
            fichiers.append(signe)
            a_appliquer[profil] = signe.name
    appareils = {p.numero_serie: (p.nom, p.profil) for ps in groupes.values() for p in ps}
    script = dossier / SCRIPT_CFGUTIL
    texte = script_cfgutil(ecole, {s: (h, a_appliquer[pr]) for s, (h, pr) in appareils.items()})
    _ecrire_prive(script, texte.encode("utf-8"), 0o700)
    return ProfilsIpad(ecole.uai, dossier, fichiers, script, appareils, reseau.ssid, reseau.choix)


def script_cfgutil(ecole: EcoleChargee, appareils: dict[str, tuple[str, str]]) -> str:
    """The bash script (macOS bash 3.2 compatible) applying each iPad's profile through cfgutil."""
    env = Environment(
        loader=PackageLoader("ardoise.tablettes", "modeles"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["shell"] = _quote_shell
    return env.get_template("cfgutil.sh.j2").render(
        uai=ecole.uai, ecole_nom=ecole.nom, appareils=sorted(appareils.items())
    )


def _quote_shell(valeur: str) -> str:
    return "'" + str(valeur).replace("'", "'\"'\"'") + "'"


def est_executable(chemin: Path) -> bool:
    return bool(chemin.stat().st_mode & stat.S_IXUSR)
