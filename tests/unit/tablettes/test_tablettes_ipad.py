"""iPad configuration profiles: plists carry the manifest, the signature verifies with openssl, and
the cfgutil batch script applies the right profile per serial (against a cfgutil stand-in)."""

from __future__ import annotations

import csv
import os
import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from ardoise.inventaire.territoire import Territoire
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes
from ardoise.tablettes.ipad import produire_profils
from ardoise.tablettes.signature import certificat_autosigne, charger_signataire
from tests.aide_tablettes import RACINE, UAI

DOUBLURE_CFGUTIL = RACINE / "tests" / "doublures" / "cfgutil"


@pytest.fixture(scope="module")
def certificat(tmp_path_factory) -> tuple[Path, Path]:
    return certificat_autosigne(tmp_path_factory.mktemp("cert"))


@pytest.fixture(scope="module")
def profils(territoire: Territoire, certificat, tmp_path_factory):
    return produire_profils(territoire, UAI, tmp_path_factory.mktemp("ipad"), charger_signataire(*certificat))


def _charges(plist: dict) -> dict[str, dict]:
    return {
        c["PayloadType"]: c
        for c in plist["PayloadContent"]
        if c["PayloadType"] != "com.apple.webClip.managed"
    }


def test_plist_porte_chaque_valeur_du_manifeste(territoire: Territoire, profils, psk: str):
    ecole = territoire.ecole(UAI)
    pol = ecole.politique
    fichier = profils.dossier / "ipad.mobileconfig"
    plist = plistlib.loads(fichier.read_bytes())
    assert plist["PayloadType"] == "Configuration" and plist["PayloadVersion"] == 1
    assert plist["PayloadOrganization"] == territoire.syndicat.nom
    assert UAI in plist["PayloadDescription"] and plist["PayloadRemovalDisallowed"] is True
    c = _charges(plist)
    wifi = c["com.apple.wifi.managed"]
    assert wifi["SSID_STR"] == "CLASSE-JEAN-JAURES" and wifi["Password"] == psk
    assert wifi["EncryptionType"] == "WPA2" and wifi["AutoJoin"] is True and wifi["HIDDEN_NETWORK"] is False
    assert (wifi["ProxyType"], wifi["ProxyServer"], wifi["ProxyServerPort"]) == (
        "Manual",
        pol.proxy.adresse,
        pol.proxy.port,
    )
    proxy = c["com.apple.proxy.http.global"]
    assert (proxy["ProxyServer"], proxy["ProxyServerPort"]) == ("10.11.50.10", 8080)
    filtre = c["com.apple.webcontent-filter"]
    assert filtre["FilterType"] == "BuiltIn" and filtre["AutoFilterEnabled"] is True
    assert filtre["PermittedURLs"] == [f"https://{d}" for d in pol.filtrage.domaines_autorises]
    restrictions = c["com.apple.applicationaccess"]
    attendues = territoire.profils["ipad"].parametres.restrictions
    assert attendues and all(restrictions[k] is v for k, v in attendues.items())
    clips = {
        x["Label"]: x for x in plist["PayloadContent"] if x["PayloadType"] == "com.apple.webClip.managed"
    }
    assert clips["ENT"]["URL"] == str(pol.ent.url) and clips["ENT"]["IsRemovable"] is False
    assert clips["Ressources GAR"]["URL"] == str(pol.ent.gar)
    uuids = [x["PayloadUUID"] for x in plist["PayloadContent"]] + [plist["PayloadUUID"]]
    assert len(set(uuids)) == len(uuids)
    assert os.stat(fichier).st_mode & 0o077 == 0  # the Wi-Fi key is inside: owner only


def test_regeneration_identique(territoire: Territoire, profils, tmp_path: Path):
    autre = produire_profils(territoire, UAI, tmp_path)
    assert (autre.dossier / "ipad.mobileconfig").read_bytes() == (
        profils.dossier / "ipad.mobileconfig"
    ).read_bytes()


def test_profil_signe_verifie_par_openssl(profils):
    signe = profils.dossier / "ipad.signe.mobileconfig"
    r = subprocess.run(
        ["openssl", "smime", "-verify", "-inform", "DER", "-noverify", "-in", str(signe)],
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert b"Verification successful" in r.stderr
    assert r.stdout == (profils.dossier / "ipad.mobileconfig").read_bytes()  # the signed content, unchanged
    r = subprocess.run(
        ["openssl", "cms", "-verify", "-inform", "DER", "-noverify", "-in", str(signe), "-out", os.devnull],
        capture_output=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr


def test_signature_alteree_refusee_par_openssl(profils, tmp_path: Path):
    donnees = bytearray((profils.dossier / "ipad.signe.mobileconfig").read_bytes())
    i = donnees.index(b"CLASSE-JEAN-JAURES")
    donnees[i] = ord("X")
    (tmp_path / "altere").write_bytes(bytes(donnees))
    r = subprocess.run(
        ["openssl", "smime", "-verify", "-inform", "DER", "-noverify", "-in", str(tmp_path / "altere")],
        capture_output=True,
        timeout=60,
    )
    assert r.returncode != 0


def test_cle_qui_ne_correspond_pas_refusee(certificat, tmp_path: Path):
    _, autre_cle = certificat_autosigne(tmp_path)
    with pytest.raises(ErreurConfigurationTablettes, match="ne correspond pas"):
        charger_signataire(certificat[0], autre_cle)


def test_script_cfgutil_par_numero_de_serie(profils, tmp_path: Path):
    assert shutil.which("bash")
    subprocess.run(["bash", "-n", str(profils.script)], check=True)
    trace, journal = tmp_path / "trace", tmp_path / "journal.csv"
    env = dict(
        os.environ,
        CFGUTIL=str(DOUBLURE_CFGUTIL),
        JOURNAL=str(journal),
        DOUBLURE_CFGUTIL_TRACE=str(trace),
        DOUBLURE_CFGUTIL_APPAREILS="0x1A01=DMPX110000Q,0x1A02=INCONNU0000,0x1A03=DMPX110002Q",
        DOUBLURE_CFGUTIL_ECHEC="0x1A03",
    )
    r = subprocess.run(["bash", str(profils.script)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1, r.stderr  # one refusal, one failure
    # only the iPad of the manifest that accepted it got its (signed) profile; the unknown one got nothing
    assert trace.read_text().split("\n")[:-1] == ["0x1A01 DMPX110000Q ipad.signe.mobileconfig False"]
    lignes = list(csv.DictReader(journal.open(), delimiter=";"))
    par_serie = {x["numero_serie"]: x for x in lignes}
    assert (
        par_serie["DMPX110000Q"]["resultat"] == "ok"
        and par_serie["DMPX110000Q"]["hote"] == "ipad-jean-jaures-01"
    )
    assert par_serie["INCONNU0000"]["resultat"] == "refuse" and par_serie["INCONNU0000"]["profil"] == ""
    assert par_serie["DMPX110002Q"]["resultat"] == "echec" and "refused" in par_serie["DMPX110002Q"]["detail"]
    assert "bilan : 1 installé(s), 1 échec(s), 1 refusé(s)" in r.stderr


def test_script_cfgutil_supervision(profils, tmp_path: Path):
    trace = tmp_path / "trace"
    env = dict(
        os.environ,
        CFGUTIL=str(DOUBLURE_CFGUTIL),
        JOURNAL=str(tmp_path / "j.csv"),
        DOUBLURE_CFGUTIL_TRACE=str(trace),
        DOUBLURE_CFGUTIL_APPAREILS="0x1B01=DMPX110001Q",
        SUPERVISION_CERT=str(tmp_path / "sup.crt"),
        SUPERVISION_CLE=str(tmp_path / "sup.key"),
    )
    r = subprocess.run(["bash", str(profils.script)], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert trace.read_text() == "0x1B01 DMPX110001Q ipad.signe.mobileconfig True\n"


def test_ecole_sans_ipad(territoire: Territoire, tmp_path: Path):
    sans = next(e for e in territoire.ecoles if not any(p.type == "ipad" for p in e.modele.postes))
    with pytest.raises(ErreurConfigurationTablettes, match="aucun iPad"):
        produire_profils(territoire, sans.uai, tmp_path)
