"""The Wi-Fi network tablets join, and its pre-shared key from the vault.

Choice (documented in the README): the school's PSK network carried by a VLAN whose role is
``wifi-eleves``; failing that, the first PSK network of the school file. Guest networks are never
chosen first because they are isolated from the school server (proxy, MDM relay). Enterprise (802.1X)
and open networks are not used: the QR and the iPad profile need a pre-shared key.
"""

from __future__ import annotations

from dataclasses import dataclass

from ardoise.inventaire.coffre import reveler
from ardoise.inventaire.modele import Wifi
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import SECURITES_PSK, RoleVlan, SecuriteWifi
from ardoise.secrets import Secret
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes


@dataclass(frozen=True)
class ReseauWifi:
    ssid: str
    securite: SecuriteWifi
    masque: bool
    psk: Secret
    choix: str  # why this network (French, shown to the user)


def choisir_wifi(ecole: EcoleChargee) -> tuple[Wifi, str]:
    """The network tablets join and the reason of the choice."""
    psk = [w for w in ecole.modele.wifi if w.securite in SECURITES_PSK and w.psk is not None]
    for w in psk:
        vlan = ecole.vlan(w.vlan)
        if vlan is not None and vlan.role is RoleVlan.wifi_eleves:
            return w, f"réseau du VLAN {vlan.id} ({vlan.role.value})"
    if psk:
        return psk[0], "premier réseau à clé partagée de l'école (aucun sur un VLAN wifi-eleves)"
    raise ErreurConfigurationTablettes(
        f"école {ecole.uai} : aucun réseau Wi-Fi à clé partagée (wpa2-psk, wpa3-sae, wpa2-wpa3) avec "
        "sa clé dans le coffre ; ajoutez-en un (rubrique wifi:) sur un VLAN de rôle wifi-eleves"
    )


def reseau_tablettes(territoire: Territoire, ecole: EcoleChargee) -> ReseauWifi:
    """The chosen network with its PSK revealed from the vault (a :class:`Secret`, never printed)."""
    w, choix = choisir_wifi(ecole)
    assert w.psk is not None
    secret = reveler(territoire.fichier_coffre, [w.psk.coffre])[w.psk.coffre]
    return ReseauWifi(w.ssid, w.securite, w.masque, secret, choix)
