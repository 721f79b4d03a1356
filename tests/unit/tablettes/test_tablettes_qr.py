"""The Android Enterprise provisioning payload and its QR code (decoded back with zbarimg)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from ardoise.inventaire.territoire import Territoire
from ardoise.profils.resolution import profil_effectif
from ardoise.tablettes import qr as q
from ardoise.tablettes.appareils import tablettes_android
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes
from ardoise.tablettes.wifi import choisir_wifi, reseau_tablettes
from tests.aide_tablettes import APK_DPC, UAI
from tests.aide_tablettes import decoder_qr as decoder


def _charge(territoire: Territoire, numero: int = 0, parametres=None):
    ecole = territoire.ecole(UAI)
    poste = tablettes_android(ecole)[numero]
    pe = profil_effectif(territoire, ecole, poste)
    reseau = reseau_tablettes(territoire, ecole)
    donnees = q.charge_utile(
        territoire, ecole, q.Identite.de_poste(ecole, poste), parametres or pe.parametres, reseau
    )
    return ecole, poste, donnees


def test_empreinte_egale_un_calcul_independant():
    fichier = APK_DPC
    attendu = base64.urlsafe_b64encode(hashlib.sha256(fichier.read_bytes()).digest()).decode().rstrip("=")
    assert q.empreinte_apk(fichier) == attendu
    assert "=" not in attendu and "+" not in attendu and "/" not in attendu


def test_charge_utile_complete(territoire: Territoire, psk: str):
    ecole, poste, d = _charge(territoire)
    dpc = territoire.politique.dpc
    fichier = APK_DPC
    assert d[q.COMPOSANT] == "com.hmdm.launcher/com.hmdm.launcher.AdminReceiver" == dpc.composant
    assert d[q.TELECHARGEMENT] == str(dpc.url_telechargement)
    assert d[q.EMPREINTE] == base64.urlsafe_b64encode(
        hashlib.sha256(fichier.read_bytes()).digest()
    ).decode().rstrip("=")
    assert d[q.WIFI_SSID] == "CLASSE-JEAN-JAURES"
    assert d[q.WIFI_SECURITE] == "WPA"
    assert d[q.WIFI_MDP] == psk
    assert d[q.LANGUE] == "fr_FR" and d[q.FUSEAU] == "Europe/Paris"
    # the school's explicit proxy (policy override 10.11.50.10:8080) reaches the setup wizard
    assert d[q.WIFI_PROXY_HOTE] == "10.11.50.10" and d[q.WIFI_PROXY_PORT] == 8080
    assert "ent.coteaux.example" in d[q.WIFI_PROXY_EXCLUSIONS].split(",")
    # profile tablette-android: chiffrement true → do not skip; applications_systeme false
    assert d[q.SANS_CHIFFREMENT] is False
    assert d[q.APPS_SYSTEME] is False
    assert d[q.EXTRAS] == {
        "ardoise.uai": UAI,
        "ardoise.profil": "tablette-android",
        "ardoise.nom_hote": poste.nom,
        "ardoise.numero_serie": poste.numero_serie,
        "ardoise.classe": poste.classe,
        "ardoise.jeton_ref": f"ardoise:{UAI}:tablette-android",
    }
    assert all(isinstance(v, str) for v in d[q.EXTRAS].values())  # a PersistableBundle of strings
    assert all(k.startswith("android.app.extra.PROVISIONING_") for k in d)


def test_options_du_profil_suivent_les_parametres(territoire: Territoire):
    _, _, base = _charge(territoire)
    params = {"chiffrement": (False, "test"), "applications_systeme": (True, "test")}
    _, _, d = _charge(territoire, parametres=params)
    assert d[q.SANS_CHIFFREMENT] is True and d[q.APPS_SYSTEME] is True
    assert base[q.SANS_CHIFFREMENT] is False and base[q.APPS_SYSTEME] is False


def test_qr_decode_egal_a_la_charge_utile(territoire: Territoire, tmp_path: Path):
    _, _, d = _charge(territoire, 2)
    symbole = q.symbole(d)
    symbole.save(tmp_path / "qr.png", scale=4)
    (texte,) = decoder(tmp_path / "qr.png")
    assert texte == q.texte_qr(d)
    assert json.loads(texte) == d


def test_ssid_non_ascii_passe_en_echappement_json(territoire: Territoire, tmp_path: Path):
    _, _, d = _charge(territoire)
    d = {**d, q.WIFI_SSID: "École-Élèves"}
    q.symbole(d).save(tmp_path / "qr.png", scale=4)
    (texte,) = decoder(tmp_path / "qr.png")
    assert texte.isascii() and json.loads(texte)[q.WIFI_SSID] == "École-Élèves"


def test_wifi_choisi_sur_le_vlan_wifi_eleves_sinon_le_premier_psk(territoire: Territoire):
    ecole = territoire.ecole(UAI)
    w, raison = choisir_wifi(ecole)
    assert w.ssid == "CLASSE-JEAN-JAURES" and "wifi-eleves" in raison
    # without a wifi-eleves VLAN: the first PSK network of the file
    vlans = [
        v.model_copy(update={"role": "pedagogique"}) if v.role == "wifi-eleves" else v
        for v in ecole.modele.vlans
    ]
    sans = dataclasses.replace(ecole, modele=ecole.modele.model_copy(update={"vlans": vlans}))
    w, raison = choisir_wifi(sans)
    assert w.ssid == ecole.modele.wifi[0].ssid and "premier" in raison
    # no PSK network at all: a French usage error
    vide = dataclasses.replace(ecole, modele=ecole.modele.model_copy(update={"wifi": []}))
    with pytest.raises(ErreurConfigurationTablettes, match="aucun réseau Wi-Fi à clé partagée"):
        choisir_wifi(vide)


def test_dpc_sans_fichier_apk_refuse(territoire: Territoire):
    ecole = territoire.ecole(UAI)
    politique = ecole.politique.model_copy(
        update={"dpc": ecole.politique.dpc.model_copy(update={"fichier_apk": None})}
    )
    sans = dataclasses.replace(ecole, politique=politique)
    with pytest.raises(ErreurConfigurationTablettes, match="fichier_apk"):
        q.dpc_du_territoire(territoire, sans)
