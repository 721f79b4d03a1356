"""The adb workshop path against the adb server STAND-IN (tests/doublures/adb_serveur.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ardoise.inventaire.territoire import Territoire
from ardoise.profils.resolution import profil_effectif
from ardoise.resultats.forme import StatutHote
from ardoise.resultats.magasin import Magasin
from ardoise.tablettes.adb import Preparation, client_adb
from ardoise.tablettes.appareils import tablettes_android
from tests.aide_tablettes import faux_apk
from tests.doublures.adb_serveur import ServeurAdbDoublure, Tablette

PAQUETS = ["net.gcompris.full", "org.scratchjr.android", "org.videolan.vlc"]  # profile tablette-android


@pytest.fixture
def apk(tmp_path: Path, territoire: Territoire) -> Path:
    """Every APK the school's tablets need (profile apps + approved teacher requests)."""
    ecole = territoire.ecole("0331101T")
    for poste in tablettes_android(ecole):
        for a in profil_effectif(territoire, ecole, poste).applications:
            if a.installation:
                faux_apk(tmp_path / "apk" / f"{a.installation}.apk", a.installation)
    return tmp_path / "apk"


@pytest.fixture
def magasin(tmp_path: Path) -> Magasin:
    return Magasin(f"sqlite:///{tmp_path / 'resultats.sqlite'}")


def _contenu_base(magasin: Magasin) -> str:
    moteur = create_engine(magasin.url)
    with moteur.connect() as c:
        lignes = []
        for table in ("executions", "resultats_hotes", "verifications", "etats_appareils"):
            lignes += [repr(tuple(r)) for r in c.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(lignes)


def test_lot_avec_une_tablette_inconnue(
    territoire: Territoire, apk: Path, magasin: Magasin, psk: str, caplog
):
    connue, inconnue = Tablette("R9TW110000"), Tablette("ZZ00INCONNU")
    caplog.set_level(logging.DEBUG)
    with ServeurAdbDoublure([connue, inconnue]) as serveur:
        rapport = Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk, magasin).lancer(
            lot="lot-1"
        )
    par_hote = {r.hote: r for r in rapport.resultats}
    ok, refuse = par_hote["tab-jean-jaures-01"], par_hote["ZZ00INCONNU"]
    # the known tablet: apps installed, pushed files cleaned, Wi-Fi joined, proxy, time zone, screen timeout
    assert ok.statut is StatutHote.ok, ok.raison
    assert connue.installations == PAQUETS and set(PAQUETS) <= connue.paquets and connue.fichiers == {}
    assert connue.reseaux_wifi == [
        {"ssid": "CLASSE-JEAN-JAURES", "securite": "wpa2", "psk": psk, "masque": False}
    ]
    assert connue.reglages[("global", "http_proxy")] == "10.11.50.10:8080"
    assert connue.proprietes["persist.sys.timezone"] == "Europe/Paris"
    assert connue.reglages[("system", "screen_off_timeout")] == "300000"  # verrouillage_ecran_min: 5
    assert all(v.niveau == "OK" for v in ok.verifications)
    # the unknown serial: refused, nothing installed, nothing pushed, nothing set — it was only asked its serial
    assert refuse.statut is StatutHote.refuse and "absent du manifeste" in refuse.raison
    assert inconnue.installations == [] and inconnue.fichiers == {} and inconnue.reglages == {}
    assert inconnue.reseaux_wifi == []
    assert all(c.startswith("getprop ro.serialno") for c in inconnue.commandes)
    # the store: one run, both hosts, the device state; the PSK nowhere
    (ex,) = magasin.executions("tablettes")
    assert ex.statut == "echec" and ex.lot == "lot-1" and ex.resume["ok"] == 1 and ex.resume["refuse"] == 1
    assert {r.hote: r.statut for r in magasin.resultats(ex.id)} == {
        "tab-jean-jaures-01": "ok",
        "ZZ00INCONNU": "refuse",
    }
    assert magasin.etats(["tab-jean-jaures-01"])["tab-jean-jaures-01"]["etat"] == "pret"
    assert psk not in _contenu_base(magasin)
    assert psk not in caplog.text


def test_apk_manquant_rien_installe(territoire: Territoire, apk: Path, magasin: Magasin):
    (apk / "org.videolan.vlc.apk").unlink()
    t = Tablette("R9TW110001")
    with ServeurAdbDoublure([t]) as serveur:
        (r,) = Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk, magasin).lancer().resultats
    assert r.statut is StatutHote.echec and r.etape == "apk" and "org.videolan.vlc.apk" in r.raison
    assert t.installations == [] and t.fichiers == {} and t.reseaux_wifi == []
    assert magasin.etats(["tab-jean-jaures-02"])["tab-jean-jaures-02"]["etat"] == "echec"


def test_installation_refusee_par_la_tablette(territoire: Territoire, apk: Path, psk: str):
    t = Tablette("R9TW110001", refuser_installation={"org.scratchjr.android"})
    with ServeurAdbDoublure([t]) as serveur:
        (r,) = Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk).lancer().resultats
    assert r.statut is StatutHote.echec and r.etape == "installation" and "INSTALL_PARSE_FAILED" in r.raison
    assert psk not in r.raison


def test_android_10_wifi_a_la_main(territoire: Territoire, apk: Path):
    t = Tablette("R9TW110002", sdk=29)
    with ServeurAdbDoublure([t]) as serveur:
        (r,) = Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk).lancer().resultats
    assert r.statut is StatutHote.ok
    assert t.reseaux_wifi == [] and not any("wifi" in c for c in t.commandes)
    assert any(v.nom == "wifi" and v.niveau == "ATTENTION" for v in r.verifications)


def test_series_choisies_et_absentes(territoire: Territoire, apk: Path):
    a, b = Tablette("R9TW110000"), Tablette("R9TW110003")
    with ServeurAdbDoublure([a, b]) as serveur:
        rapport = Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk).lancer(
            ["r9tw110003", "R9TW110002"]
        )
    statuts = {r.hote: r.statut for r in rapport.resultats}
    assert statuts == {"tab-jean-jaures-04": StatutHote.ok, "tab-jean-jaures-03": StatutHote.injoignable}
    assert a.commandes == [] and b.installations == PAQUETS


def test_ecole_restreinte_refuse_les_autres(territoire: Territoire, apk: Path):
    t = Tablette("R9TW110000")  # a Jean-Jaurès tablet, presented to another school's run
    autre = next(e.uai for e in territoire.ecoles if e.uai != "0331101T")
    with ServeurAdbDoublure([t]) as serveur:
        (r,) = (
            Preparation(territoire, client_adb("127.0.0.1", serveur.port), apk, uai=autre).lancer().resultats
        )
    assert r.statut is StatutHote.refuse and autre in r.raison and t.installations == []
