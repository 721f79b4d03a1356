"""The lab's switch emulators, run as real processes and driven with real netmiko.

No namespaces needed: every emulator listens on its own 127.0.x.y address of the loopback.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from netmiko import ConnectHandler
from netmiko.exceptions import NetmikoAuthenticationException, ReadTimeout

from ardoise.labo.emulateur import envoyer_instruction

MOT_DE_PASSE = "Mdp-Labo-7f3c9a"
_ADRESSES = (f"127.0.77.{n}" for n in itertools.count(1))


@dataclass(frozen=True)
class Cas:
    """What one platform is fed and what it must answer."""

    plateforme: str
    ports: list[dict[str, object]]
    initiaux: list[str]  # fragments of the initial running config
    changement: list[str]
    apres_changement: list[str]
    inverse: list[str]
    coupure: list[str]  # couper_apres 2: only the first two are applied
    apres_coupure: list[str]
    absents_apres_coupure: list[str]
    show_vlans: str
    show_startup: str


def _port(nom: str, mode: str, vlan: int | None, vlans: list[int], description: str) -> dict[str, object]:
    return {"nom": nom, "mode": mode, "vlan": vlan, "vlans": vlans, "description": description}


CAS = {
    "cisco_ios": Cas(
        plateforme="cisco_ios",
        ports=[
            _port("GigabitEthernet0/1", "acces", 10, [], "Salle 12"),
            _port("GigabitEthernet0/2", "acces", 20, [], ""),
            _port("GigabitEthernet0/3", "acces", None, [], ""),
            _port("GigabitEthernet0/24", "trunk", None, [10, 20], "Lien serveur"),
        ],
        initiaux=[
            "vlan 10\n name PEDA\n!",
            "vlan 20\n name ADMIN\n!",
            "interface GigabitEthernet0/1\n description Salle 12\n switchport access vlan 10\n"
            " switchport mode access\n!",
            "interface GigabitEthernet0/24\n description Lien serveur\n switchport trunk allowed vlan 10,20\n"
            " switchport mode trunk\n!",
        ],
        changement=["vlan 30", "name TEST", "interface GigabitEthernet0/1", "switchport access vlan 30"],
        apres_changement=["vlan 30\n name TEST\n!", "description Salle 12\n switchport access vlan 30\n"],
        inverse=["interface GigabitEthernet0/1", "switchport access vlan 10", "exit", "no vlan 30"],
        coupure=["vlan 40", "name QUARANTE", "interface GigabitEthernet0/2", "switchport access vlan 40"],
        apres_coupure=[
            "vlan 40\n name QUARANTE\n!",
            "interface GigabitEthernet0/2\n switchport access vlan 20\n",
        ],
        absents_apres_coupure=["switchport access vlan 40"],
        show_vlans="show vlan brief",
        show_startup="show startup-config",
    ),
    "hp_procurve": Cas(
        plateforme="hp_procurve",
        ports=[
            _port("1", "acces", 10, [], "Salle 12"),
            _port("2", "acces", 10, [], ""),
            _port("3", "acces", 20, [], ""),
            _port("4", "acces", None, [], ""),
            _port("24", "trunk", None, [10, 20], "Lien serveur"),
        ],
        initiaux=[
            'interface 1\n   name "Salle 12"\n   exit\n',
            'vlan 1\n   name "DEFAULT_VLAN"\n   untagged 4,24\n',
            'vlan 10\n   name "PEDA"\n   untagged 1-2\n   tagged 24\n   no ip address\n   exit\n',
            'vlan 20\n   name "ADMIN"\n   untagged 3\n   tagged 24\n',
        ],
        changement=["vlan 30", 'name "TEST"', "exit", "interface 1", "untagged vlan 30", "exit"],
        apres_changement=[
            'vlan 10\n   name "PEDA"\n   untagged 2\n',
            'vlan 30\n   name "TEST"\n   untagged 1\n',
        ],
        inverse=["interface 1", "untagged vlan 10", "exit", "no vlan 30"],
        coupure=["vlan 40", 'name "QUARANTE"', "untagged 3", "exit"],
        apres_coupure=[
            'vlan 40\n   name "QUARANTE"\n   no ip address\n',
            'vlan 20\n   name "ADMIN"\n   untagged 3\n',
        ],
        absents_apres_coupure=[],
        show_vlans="show vlans",
        show_startup="show config",
    ),
    "aruba_aoscx": Cas(
        plateforme="aruba_aoscx",
        ports=[
            _port("1/1/1", "acces", 10, [], "Salle 12"),
            _port("1/1/2", "acces", 20, [], ""),
            _port("1/1/3", "acces", None, [], ""),
            _port("1/1/24", "trunk", None, [10, 20], "Lien serveur"),
        ],
        initiaux=[
            "vlan 10\n    name PEDA\n    exit\n",
            "interface 1/1/1\n    no shutdown\n    description Salle 12\n    no routing\n    vlan access 10\n",
            "interface 1/1/24\n    no shutdown\n    description Lien serveur\n    no routing\n"
            "    vlan trunk native 1\n    vlan trunk allowed 10,20\n    exit\n",
        ],
        changement=["vlan 30", "name TEST", "exit", "interface 1/1/1", "vlan access 30", "exit"],
        apres_changement=[
            "vlan 30\n    name TEST\n",
            "description Salle 12\n    no routing\n    vlan access 30\n",
        ],
        inverse=["interface 1/1/1", "vlan access 10", "exit", "no vlan 30"],
        coupure=["vlan 40", "name QUARANTE", "exit", "interface 1/1/2", "vlan access 40", "exit"],
        apres_coupure=[
            "vlan 40\n    name QUARANTE\n",
            "interface 1/1/2\n    no shutdown\n    no routing\n    vlan access 20\n",
        ],  # fmt: skip
        absents_apres_coupure=["vlan access 40"],
        show_vlans="show vlan",
        show_startup="show startup-config",
    ),
}


@dataclass
class Emulateur:
    """A running emulator process and how to reach it."""

    processus: subprocess.Popen[str]
    cas: Cas
    adresse: str
    port: int
    controle: Path
    sortie: str = ""
    erreurs: str = ""

    def connecter(self, mot_de_passe: str = MOT_DE_PASSE) -> ConnectHandler:
        connexion = ConnectHandler(
            device_type=self.cas.plateforme,
            host=self.adresse,
            port=self.port,
            username="technicien",
            password=mot_de_passe,
            secret=mot_de_passe,
            conn_timeout=10,
        )
        connexion.enable()
        return connexion

    def arreter(self) -> int:
        self.processus.send_signal(signal.SIGTERM)
        self.sortie, self.erreurs = self.processus.communicate(timeout=15)
        return self.processus.returncode


def _port_libre(adresse: str) -> int:
    with socket.socket() as s:
        s.bind((adresse, 0))
        return s.getsockname()[1]


def _lancer(configs: list[Path], attente: float = 20.0) -> subprocess.Popen[str]:
    arguments = [sys.executable, "-m", "ardoise.labo.emulateur"]
    for chemin in configs:
        arguments += ["--config", str(chemin)]
    processus = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    limite = time.monotonic() + attente
    premiere = processus.stdout.readline()  # blocks until PRET or exit
    if premiere != "PRET\n" or time.monotonic() > limite:
        processus.kill()
        _, erreurs = processus.communicate()
        pytest.fail(f"emulator did not start: {premiere!r} {erreurs}")
    return processus


def _ecrire_config(dossier: Path, cas: Cas, adresse: str, port: int, nom: str) -> Path:
    config = {
        "nom": nom,
        "plateforme": cas.plateforme,
        "adresse": adresse,
        "port": port,
        "utilisateur": "technicien",
        "mot_de_passe": MOT_DE_PASSE,
        "vlans": [[10, "PEDA"], [20, "ADMIN"]],
        "ports": cas.ports,
        "fichier_controle": str(dossier / f"{nom}.ctl"),
    }
    chemin = dossier / f"{nom}.json"
    chemin.write_text(json.dumps(config), encoding="utf-8")
    return chemin


@pytest.fixture(params=sorted(CAS))
def emulateur(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Emulateur]:
    cas = CAS[request.param]
    adresse = next(_ADRESSES)
    port = _port_libre(adresse)
    chemin = _ecrire_config(tmp_path, cas, adresse, port, f"sw-{cas.plateforme.split('_')[0]}")
    emulateur = Emulateur(_lancer([chemin]), cas, adresse, port, tmp_path / chemin.with_suffix(".ctl").name)
    yield emulateur
    assert emulateur.arreter() == 0, emulateur.erreurs
    assert emulateur.sortie == ""  # stdout held the single line PRET, already read
    assert MOT_DE_PASSE not in emulateur.sortie + emulateur.erreurs


def _running(connexion: ConnectHandler) -> str:
    return connexion.send_command("show running-config")


def test_running_config_reflects_the_json(emulateur: Emulateur) -> None:
    connexion = emulateur.connecter()
    running = _running(connexion)
    connexion.disconnect()
    for fragment in emulateur.cas.initiaux:
        assert fragment in running


def test_push_save_and_revert_round_trip(emulateur: Emulateur) -> None:
    cas = emulateur.cas
    connexion = emulateur.connecter()
    origine = _running(connexion)

    connexion.send_config_set(cas.changement)
    modifie = _running(connexion)
    for fragment in cas.apres_changement:
        assert fragment in modifie
    assert modifie != origine

    connexion.save_config()
    assert "TEST" in connexion.send_command(cas.show_startup)

    connexion.send_config_set(cas.inverse)
    assert _running(connexion) == origine
    connexion.disconnect()

    # Another session sees the same state: it lives in the switch, not in the session.
    connexion = emulateur.connecter()
    assert _running(connexion) == origine
    connexion.disconnect()


def test_cut_after_two_configuration_commands(emulateur: Emulateur) -> None:
    cas = emulateur.cas
    connexion = emulateur.connecter()
    envoyer_instruction(emulateur.controle, "couper_apres 2")
    with pytest.raises((ReadTimeout, OSError, EOFError)):
        connexion.send_config_set(cas.coupure, read_timeout=4)
    connexion.disconnect()

    connexion = emulateur.connecter()  # the switch still accepts sessions, and the cut is disarmed
    running = _running(connexion)
    for fragment in cas.apres_coupure:
        assert fragment in running
    for fragment in cas.absents_apres_coupure:
        assert fragment not in running
    connexion.send_config_set(["vlan 41"])
    assert "41" in connexion.send_command(cas.show_vlans)
    connexion.disconnect()


def test_wrong_password_is_refused(emulateur: Emulateur) -> None:
    with pytest.raises(NetmikoAuthenticationException):
        emulateur.connecter(mot_de_passe="pas-le-bon")


def test_show_vlans_parses_with_ntc_templates(emulateur: Emulateur) -> None:
    connexion = emulateur.connecter()
    vlans = connexion.send_command(emulateur.cas.show_vlans, use_textfsm=True)
    connexion.disconnect()
    assert isinstance(vlans, list), vlans
    noms = {int(v["vlan_id"]): v["vlan_name"] for v in vlans}
    attendus = {1, 10, 20} | ({1002, 1003, 1004, 1005} if emulateur.cas.plateforme == "cisco_ios" else set())
    assert set(noms) == attendus
    assert (noms[10], noms[20]) == ("PEDA", "ADMIN")


def test_cisco_show_vlan_brief_lists_access_ports_only(tmp_path: Path) -> None:
    cas = CAS["cisco_ios"]
    adresse = next(_ADRESSES)
    port = _port_libre(adresse)
    emulateur = Emulateur(_lancer([_ecrire_config(tmp_path, cas, adresse, port, "sw")]), cas, adresse, port,
                          tmp_path / "sw.ctl")  # fmt: skip
    try:
        connexion = emulateur.connecter()
        vlans = {
            v["vlan_id"]: v["interfaces"] for v in connexion.send_command("show vlan brief", use_textfsm=True)
        }
        macs = connexion.send_command("show mac address-table", use_textfsm=True)
        connexion.disconnect()
    finally:
        emulateur.arreter()
    assert vlans["1"] == ["Gi0/3"]
    assert vlans["10"] == ["Gi0/1"]
    assert vlans["20"] == ["Gi0/2"]  # the trunk Gi0/24 is in no list, as on IOS
    assert macs and all(m["destination_port"] == ["CPU"] for m in macs)


def test_running_config_parses_with_hier_config(emulateur: Emulateur) -> None:
    hier_config = pytest.importorskip("hier_config")
    connexion = emulateur.connecter()
    texte = _running(connexion)
    connexion.disconnect()
    plateforme = {"cisco_ios": "CISCO_IOS", "hp_procurve": "HP_PROCURVE", "aruba_aoscx": "ARUBA_AOSCX"}
    arbre = hier_config.get_hconfig(
        getattr(hier_config.Platform, plateforme[emulateur.cas.plateforme]), texte
    )
    lignes = arbre.dump_simple()
    if emulateur.cas.plateforme == "hp_procurve":
        assert "interface 1" in lignes and "  untagged vlan 10" in lignes  # membership moved under ports
    else:
        assert any(ligne.startswith("interface ") for ligne in lignes)
    assert any("PEDA" in ligne for ligne in lignes)


def test_slow_then_normal_then_cut_now(tmp_path: Path) -> None:
    cas = CAS["cisco_ios"]
    adresse = next(_ADRESSES)
    port = _port_libre(adresse)
    emulateur = Emulateur(_lancer([_ecrire_config(tmp_path, cas, adresse, port, "sw")]), cas, adresse, port,
                          tmp_path / "sw.ctl")  # fmt: skip
    try:
        connexion = emulateur.connecter()
        envoyer_instruction(emulateur.controle, "lent 2.5")
        debut = time.monotonic()
        with pytest.raises(ReadTimeout):
            connexion.send_command("show version", read_timeout=1)
        assert time.monotonic() - debut >= 1.0
        connexion.disconnect()
        envoyer_instruction(emulateur.controle, "normal")

        connexion = emulateur.connecter()
        debut = time.monotonic()
        assert "Cisco IOS Software" in connexion.send_command("show version")
        assert time.monotonic() - debut < 1.0
        envoyer_instruction(emulateur.controle, "couper")
        with pytest.raises((OSError, EOFError, ReadTimeout)):
            connexion.send_command("show version", read_timeout=3)
    finally:
        assert emulateur.arreter() == 0
    assert MOT_DE_PASSE not in emulateur.sortie + emulateur.erreurs


def test_several_switches_in_one_process(tmp_path: Path) -> None:
    adresses = [next(_ADRESSES) for _ in CAS]
    ports = [_port_libre(a) for a in adresses]
    chemins = [
        _ecrire_config(tmp_path, cas, adresse, port, f"sw{i}")
        for i, (cas, adresse, port) in enumerate(zip(CAS.values(), adresses, ports, strict=True))
    ]
    processus = _lancer(chemins)
    try:
        for i, (cas, adresse, port) in enumerate(zip(CAS.values(), adresses, ports, strict=True)):
            emulateur = Emulateur(processus, cas, adresse, port, tmp_path / f"sw{i}.ctl")
            connexion = emulateur.connecter()
            assert f"sw{i}" in connexion.find_prompt()
            connexion.disconnect()
        # A fault on one switch leaves the others alone.
        envoyer_instruction(tmp_path / "sw0.ctl", "lent 5")
        connexion = Emulateur(
            processus, CAS["hp_procurve"], adresses[1], ports[1], tmp_path / "sw1.ctl"
        ).connecter()
        assert "PEDA" in connexion.send_command("show vlans", read_timeout=3)
        connexion.disconnect()
    finally:
        processus.send_signal(signal.SIGTERM)
        sortie, erreurs = processus.communicate(timeout=15)
    assert processus.returncode == 0
    assert sortie == "" and MOT_DE_PASSE not in sortie + erreurs


def test_invalid_configuration_is_reported_in_french(tmp_path: Path) -> None:
    chemin = tmp_path / "faux.json"
    chemin.write_text(json.dumps({"nom": "x", "plateforme": "juniper", "mot_de_passe": MOT_DE_PASSE}))
    resultat = subprocess.run(
        [sys.executable, "-m", "ardoise.labo.emulateur", "--config", str(chemin)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ},
    )
    assert resultat.returncode == 2
    assert "plateforme 'juniper' inconnue" in resultat.stderr
    assert MOT_DE_PASSE not in resultat.stdout + resultat.stderr


def test_fed_mac_and_arp_tables_parse_with_ntc_templates(tmp_path: Path) -> None:
    """The MAC/ARP stand-in: what the lab writes is what ntc-templates reads back, per platform, live."""
    from ardoise.reseau.plateformes import plateforme

    for nom_plateforme, cas in sorted(CAS.items()):
        adresse = next(_ADRESSES)
        port = _port_libre(adresse)
        chemin = _ecrire_config(tmp_path, cas, adresse, port, f"mac-{nom_plateforme}")
        config = json.loads(chemin.read_text())
        macs = tmp_path / f"mac-{nom_plateforme}.macs.json"
        config["fichier_macs"] = str(macs)
        chemin.write_text(json.dumps(config))
        acces = str(cas.ports[0]["nom"])
        non_declare = re.sub(r"\d+$", "17", acces)  # a port of the box the configuration does not list
        macs.write_text(json.dumps({
            "macs": [{"mac": "b8:27:eb:12:34:56", "vlan": 10, "port": acces}],
            "arp": [{"ip": "10.0.99.1", "mac": "02:00:00:00:99:01", "vlan": 99, "port": acces}],
            "actifs": [{"port": acces, "vlan": 10}, {"port": non_declare, "vlan": 10}],
        }))  # fmt: skip
        p = plateforme(nom_plateforme)
        emulateur = Emulateur(_lancer([chemin]), cas, adresse, port, tmp_path / "x.ctl")
        try:
            connexion = emulateur.connecter()
            lues = connexion.send_command(p.show_macs, use_textfsm=True)
            arp = connexion.send_command(p.show_arp, use_textfsm=True)
            etats = connexion.send_command(p.show_ports, use_textfsm=True)
            macs.write_text(json.dumps({"macs": [{"mac": "b8:27:eb:12:34:56", "vlan": 20,
                                                  "port": str(cas.ports[1]["nom"])}]}))  # fmt: skip
            apres = connexion.send_command(p.show_macs, use_textfsm=True)
            connexion.disconnect()
        finally:
            assert emulateur.arreter() == 0

        def dynamiques(lignes: list[dict]) -> list[tuple[str, str, str]]:
            resultat = []
            for ligne in lignes:
                mac = (ligne.get("destination_address") or ligne.get("mac_address", "")).lower()
                port_lu = ligne.get("destination_port") or ligne.get("port")
                port_lu = port_lu[0] if isinstance(port_lu, list) else port_lu
                if port_lu != "CPU":
                    resultat.append((mac.replace(".", "").replace(":", "").replace("-", ""), ligne["vlan_id"],
                                     port_lu))  # fmt: skip
            return resultat

        court = {"cisco_ios": "Gi0/1", "hp_procurve": acces, "aruba_aoscx": acces}[nom_plateforme]
        actifs = [e.get("port") or e.get("interface") for e in etats
                  if (e.get("status") or e.get("link_status", "")).lower() in ("connected", "up")]  # fmt: skip
        assert actifs == [court, non_declare.replace("GigabitEthernet", "Gi")], (nom_plateforme, etats)
        assert len(etats) == len(cas.ports) + 1  # every declared port listed, up or down
        assert dynamiques(lues) == [("b827eb123456", "10", court)], (nom_plateforme, lues)
        assert [(m, v) for m, v, _ in dynamiques(apres)] == [("b827eb123456", "20")], (nom_plateforme, apres)
        assert [a["ip_address"] for a in arp] == ["10.0.99.1"], (nom_plateforme, arp)
