"""Wi-Fi: hostapd and OpenWrt files per SSID/VLAN/security, schedule as cron data, PSKs kept secret,
``wifi couper|retablir`` recorded in the store and refused on non-``coupable`` SSIDs.

How hostapd configurations are checked: by the real Debian ``hostapd`` 2.10 binary (package ``hostapd``),
started on a copy of each generated file with ``driver=none`` (no radio needed) and a private control
socket. hostapd parses the whole file first and exits at once with ``N errors found in configuration
file`` on any unknown key or invalid value (PSK length, key management, MFP combination); a file that
parses goes on to set up its BSSes, which then fail without a radio (``Failed to add BSS``): that phase
is not a test of ours. So this proves the files are valid hostapd configuration for 2.10, not that a
given radio accepts the channel/mode. Skipped (with the reason) when hostapd is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ardoise.cli.main import app
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire import coffre
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.types import SecuriteWifi
from ardoise.reseau import wifi
from ardoise.resultats.magasin import Magasin

RACINE = Path(__file__).resolve().parents[3]
MDP = RACINE / "inventaire" / "coffre-demo.mdp"
UAI = "0331101T"


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


@pytest.fixture(scope="module")
def ecole(territoire):
    return territoire.ecole(UAI)


@pytest.fixture(scope="module")
def secrets(territoire, ecole):
    return coffre.reveler(territoire.fichier_coffre, wifi.references_coffre(ecole), MDP)


def _psks(secrets) -> list[str]:
    return [s.reveler() for s in secrets.values()]


def _variante(ecole, **changes):
    """The school with its first SSID changed (security, mask…) and the other SSIDs kept."""
    premier = ecole.modele.wifi[0].model_copy(update=changes)
    modele = ecole.modele.model_copy(update={"wifi": [premier, *ecole.modele.wifi[1:]]})
    return type(ecole)(modele, ecole.commune, ecole.fichier, ecole.politique, ecole.provenance)


def _blocs(texte: str) -> dict[str, dict[str, str]]:
    """SSID -> its BSS keys (hostapd's documented key=value format, one BSS per ``bss=``/first block)."""
    blocs: dict[str, dict[str, str]] = {}
    courant: dict[str, str] | None = None
    for ligne in texte.splitlines():
        if ligne.startswith("# SSID "):
            courant = {}
        elif "=" in ligne and not ligne.startswith("#") and courant is not None:
            cle, valeur = ligne.split("=", 1)
            courant[cle] = valeur
            if cle == "ssid":
                blocs[valeur] = courant
    return blocs


def test_hostapd_one_bss_per_ssid_bridged_into_its_vlan(ecole, secrets) -> None:
    configs = wifi.configurations(ecole, secrets)
    assert [c.borne for c in configs] == ["ap-jean-jaures-1", "ap-jean-jaures-2"]
    fichiers = {f.nom: f for f in configs[0].fichiers}
    assert set(fichiers) == {"hostapd-1.conf", "hostapd-2.conf", "ardoise-wifi.cron"}
    complet = fichiers["hostapd-1.conf"].contenu
    assert complet.startswith("# Ardoise : ap-jean-jaures-1") and "\ninterface=wlan0\n" in complet
    blocs = _blocs(complet)
    assert list(blocs) == ["CLASSE-JEAN-JAURES", "INVITES-JEAN-JAURES"]
    assert "bss" not in blocs["CLASSE-JEAN-JAURES"] and blocs["INVITES-JEAN-JAURES"]["bss"] == "wlan0_1"
    assert blocs["CLASSE-JEAN-JAURES"]["bridge"] == "br-vlan30"
    assert blocs["INVITES-JEAN-JAURES"]["bridge"] == "br-vlan40"
    classe = blocs["CLASSE-JEAN-JAURES"]
    assert (classe["wpa"], classe["wpa_key_mgmt"], classe["rsn_pairwise"]) == ("2", "WPA-PSK", "CCMP")
    assert classe["wpa_passphrase"] == secrets["wifi_0331101t_classe"].reveler()
    # out of class hours only the guest SSID: a separate complete file
    assert list(_blocs(fichiers["hostapd-2.conf"].contenu)) == ["INVITES-JEAN-JAURES"]
    assert fichiers["hostapd-1.conf"].secret and not fichiers["ardoise-wifi.cron"].secret


@pytest.mark.parametrize(
    ("securite", "attendu"),
    [
        (SecuriteWifi.wpa3_sae, {"wpa_key_mgmt": "SAE", "ieee80211w": "2", "sae_password": "PSK"}),
        (SecuriteWifi.wpa2_wpa3, {"wpa_key_mgmt": "WPA-PSK SAE", "ieee80211w": "1", "wpa_passphrase": "PSK",
                                  "sae_password": "PSK"}),
        (SecuriteWifi.ouvert, {}),
    ],
)  # fmt: skip
def test_security_modes(ecole, secrets, securite, attendu) -> None:
    e = _variante(
        ecole,
        securite=securite,
        masque=True,
        psk=None if securite is SecuriteWifi.ouvert else ecole.modele.wifi[0].psk,
    )
    bloc = _blocs(wifi.configurations(e, secrets)[0].fichiers[0].contenu)["CLASSE-JEAN-JAURES"]
    psk = secrets["wifi_0331101t_classe"].reveler()
    assert bloc["ignore_broadcast_ssid"] == "1"
    for cle, valeur in attendu.items():
        assert bloc[cle] == (psk if valeur == "PSK" else valeur)
    if securite is SecuriteWifi.ouvert:
        assert not {"wpa", "wpa_passphrase", "sae_password"} & set(bloc)


def test_refusals(ecole, secrets, tmp_path) -> None:
    with pytest.raises(
        wifi.ErreurWifi, match="wpa2-entreprise : le manifeste ne déclare pas de serveur RADIUS"
    ):
        wifi.configurations(_variante(ecole, securite=SecuriteWifi.wpa2_entreprise), secrets)
    magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    non_coupable = _variante(ecole, coupable=False)
    with pytest.raises(ErreurUsage, match="« CLASSE-JEAN-JAURES » n'est pas coupable"):
        wifi.basculer(non_coupable, "CLASSE-JEAN-JAURES", True, magasin, tmp_path, lambda n: secrets)
    with pytest.raises(
        ErreurUsage, match="SSID « CLASSE » inconnu .* CLASSE-JEAN-JAURES, INVITES-JEAN-JAURES"
    ):
        wifi.basculer(ecole, "CLASSE", True, magasin, tmp_path, lambda n: secrets)


def test_schedule_as_cron_data(ecole, secrets) -> None:
    cron = wifi.configurations(ecole, secrets)[0].fichiers[-1].contenu
    lignes = [ligne for ligne in cron.splitlines() if ligne and not ligne.startswith(("#", "SHELL", "PATH"))]
    vers = {
        ligne.split(" root ")[0]: re.search(r"= (hostapd-\d\.conf) ]", ligne).group(1) for ligne in lignes
    }
    # lundi, mardi, jeudi, vendredi 08:30-16:30 (cron: 1-2,4-5): both SSIDs; otherwise guests only
    assert vers == {
        "30-59 8 * * 1-2,4-5": "hostapd-1.conf", "* 9-15 * * 1-2,4-5": "hostapd-1.conf",
        "0-29 16 * * 1-2,4-5": "hostapd-1.conf",
        "0-29 8 * * 1-2,4-5": "hostapd-2.conf", "30-59 16 * * 1-2,4-5": "hostapd-2.conf",
        "* 8-16 * * 0,3,6": "hostapd-2.conf", "* 0-7,17-23 * * *": "hostapd-2.conf",
    }  # fmt: skip
    # every minute of the week is covered exactly once
    assert sum(len(m) for m in wifi.etats_semaine(ecole.modele.wifi).values()) == wifi.MINUTES_SEMAINE
    assert wifi.expressions_cron(range(wifi.MINUTES_SEMAINE)) == ["* * * * *"]
    assert wifi.expressions_cron([1440 * 5 + 22 * 60 + m for m in range(120)]) == ["* 22-23 * * 5"]


def test_openwrt_uci_and_its_schedule(ecole, secrets) -> None:
    borne = ecole.modele.bornes_wifi[0].model_copy(update={"plateforme": "openwrt"})
    modele = ecole.modele.model_copy(update={"bornes_wifi": [borne]})
    e = type(ecole)(modele, ecole.commune, ecole.fichier, ecole.politique, ecole.provenance)
    wireless, crontab = wifi.configurations(e, secrets)[0].fichiers
    assert wireless.secret and not crontab.secret
    assert "config wifi-iface 'ardoise_classe_jean_jaures'" in wireless.contenu
    assert "\toption network 'vlan30'\n\toption encryption 'psk2+ccmp'\n" in wireless.contenu
    assert f"\toption key '{secrets['wifi_0331101t_classe'].reveler()}'" in wireless.contenu
    assert (
        '30-59 8 * * 1-2,4-5 [ "$(uci -q get wireless.ardoise_classe_jean_jaures.disabled)" = 0 ]'
        in crontab.contenu
    )
    assert (
        '* 0-7,17-23 * * * [ "$(uci -q get wireless.ardoise_classe_jean_jaures.disabled)" = 1 ]'
        in crontab.contenu
    )
    assert "invites" not in crontab.contenu  # coupable without schedule: always on


def _sortie_hostapd(conf: Path, delai: float = 20) -> str:
    """hostapd's output until it is past the parser (state change) or exits; a valid file makes it wait on a
    radio that does not exist, so it is stopped there (stdout line-buffered with stdbuf to see it at once)."""
    proc = subprocess.Popen(
        ["stdbuf", "-oL", "hostapd", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lignes: list[str] = []
    minuteur = threading.Timer(delai, proc.kill)
    minuteur.start()
    try:
        for ligne in proc.stdout:
            lignes.append(ligne)
            if "interface state UNINITIALIZED->" in ligne:
                break
    finally:
        minuteur.cancel()
        proc.kill()
        proc.wait()
    return "".join(lignes)


@pytest.mark.skipif(shutil.which("hostapd") is None, reason="hostapd absent (paquet Debian hostapd)")
def test_generated_files_are_accepted_by_hostapd(ecole, secrets, tmp_path) -> None:
    variantes = [ecole, _variante(ecole, securite=SecuriteWifi.wpa3_sae), _variante(ecole, securite=SecuriteWifi.wpa2_wpa3),
                 _variante(ecole, securite=SecuriteWifi.ouvert, psk=None, masque=True)]  # fmt: skip
    verifies = 0
    for n, e in enumerate(variantes):
        for f in wifi.configurations(e, secrets)[0].fichiers:
            if not f.nom.endswith(".conf"):
                continue
            copie = tmp_path / f"{n}-{f.nom}"
            copie.write_text(f.contenu.replace("driver=nl80211", "driver=none")
                             .replace("ctrl_interface=/var/run/hostapd", f"ctrl_interface={tmp_path}/ctrl{n}"))  # fmt: skip
            sortie = _sortie_hostapd(copie)
            assert "errors found in configuration file" not in sortie, sortie
            assert "unknown configuration item" not in sortie and "Line " not in sortie, sortie
            assert "interface state UNINITIALIZED->" in sortie, sortie  # past the parser, on to the radio
            verifies += 1
    assert verifies == 8  # 4 variants x (all SSIDs, guests only)
    # the check does catch a broken file
    casse = tmp_path / "casse.conf"
    casse.write_text(
        "interface=wlan0\ndriver=none\nssid=X\nwpa=2\nwpa_key_mgmt=WPA-PSK\nwpa_passphrase=court\nclef=1\n"
    )
    sortie = subprocess.run(
        ["hostapd", str(casse)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20
    ).stdout
    assert "unknown configuration item 'clef'" in sortie and "invalid WPA passphrase length" in sortie


def test_cli_generer_couper_retablir_never_shows_a_psk(tmp_path, secrets, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARDOISE_COFFRE_MDP", str(MDP))
    monkeypatch.setenv("ARDOISE_BASE", f"sqlite:///{tmp_path}/r.sqlite")
    monkeypatch.setenv("ARDOISE_INVENTAIRE", str(RACINE / "inventaire"))
    runner = CliRunner()
    sorties = []

    def lancer(*args: str, code: int = 0) -> str:
        r = runner.invoke(app, list(args))
        sorties.append(r.output)
        assert r.exit_code == code, r.output
        return r.output

    sortie = lancer("wifi", "generer", "--ecole", UAI, "--sortie", "w", "--format", "json")
    fichier = tmp_path / "w" / UAI / "ap-jean-jaures-1" / "hostapd-1.conf"
    assert str(Path("w") / UAI / "ap-jean-jaures-1" / "hostapd-1.conf") in sortie and "600" in sortie
    assert os.stat(fichier).st_mode & 0o777 == 0o600
    assert secrets["wifi_0331101t_classe"].reveler() in fichier.read_text()

    assert "« CLASSE-JEAN-JAURES » coupé sur ap-jean-jaures-1, ap-jean-jaures-2" in lancer(
        "wifi", "couper", "--ecole", UAI, "--ssid", "CLASSE-JEAN-JAURES", "--sortie", "w"
    )
    assert "déjà coupé" in lancer(
        "wifi", "couper", "--ecole", UAI, "--ssid", "CLASSE-JEAN-JAURES", "--sortie", "w"
    )
    # cut: absent from every file of its APs, the remaining state is the guest SSID all week
    dossier = tmp_path / "w" / UAI / "ap-jean-jaures-1"
    assert sorted(p.name for p in dossier.iterdir()) == ["ardoise-wifi.cron", "hostapd-1.conf"]
    assert "CLASSE-JEAN-JAURES" not in (dossier / "hostapd-1.conf").read_text()
    assert "* * * * * root" in (dossier / "ardoise-wifi.cron").read_text()
    assert "oui" in lancer("wifi", "horaires", "--ecole", UAI, "--format", "csv")
    assert "rétabli" in lancer(
        "wifi", "retablir", "--ecole", UAI, "--ssid", "CLASSE-JEAN-JAURES", "--sortie", "w"
    )
    assert "CLASSE-JEAN-JAURES" in (dossier / "hostapd-1.conf").read_text()
    assert "pas de coupure en cours" in lancer(
        "wifi", "retablir", "--ecole", UAI, "--ssid", "CLASSE-JEAN-JAURES"
    )

    magasin = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    from ardoise.resultats.modeles import Evenement

    with magasin.session() as s:
        lignes = [
            (e.action, e.cible, e.resultat, repr(e.details))
            for e in s.query(Evenement).order_by(Evenement.id)
        ]
    assert [ligne[:3] for ligne in lignes] == [("wifi.couper", f"{UAI}/CLASSE-JEAN-JAURES", "ok"),
                                              ("wifi.retablir", f"{UAI}/CLASSE-JEAN-JAURES", "ok")]  # fmt: skip
    texte_base = (tmp_path / "r.sqlite").read_bytes()
    for psk in _psks(secrets):
        assert all(psk not in s for s in sorties), "PSK in stdout/stderr"
        assert all(psk not in ligne[3] for ligne in lignes) and psk.encode() not in texte_base
