"""The virtual school lab, for real: hosts over ssh, DHCP, DNS, filtering proxy, faults, teardown."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from ardoise.labo import nettoyage, pannes, reseau
from ardoise.labo.erreurs import LaboDejaDemarreErreur
from ardoise.labo.labo import Labo
from ardoise.labo.plan import PlanLabo
from ardoise.labo.proxy import page_bloquee
from tests.labo_commun import ssh_poste

pytestmark = pytest.mark.labo

RECUPERER = """
import ssl, sys, urllib.request as u
url, proxy = sys.argv[1], (sys.argv[2:] or [""])[0]
ctx = ssl._create_unverified_context()
gestion = u.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})
try:
    r = u.build_opener(gestion, u.HTTPSHandler(context=ctx)).open(url, timeout=5)
    print(r.status); print(r.read().decode(errors="replace"))
except Exception as e:
    print("ERREUR", e); sys.exit(3)
"""


def recuperer(labo: Labo, adresse: str, url: str, proxy: str = "") -> subprocess.CompletedProcess[str]:
    return ssh_poste(labo, adresse, f"python3 - {url} {proxy}", entree=RECUPERER)


def site(plan: PlanLabo, role: str) -> str:
    """The test domain the plan gives to a role (ent, gar, bloque, general)."""
    return next(s.domaine for s in plan.sites if s.role == role)


def proxy_de(plan: PlanLabo) -> str:
    v = plan.vlan(plan.postes[0].vlan)
    return f"http://{v.passerelle}:{plan.proxy_port}"


def test_ssh_technicien_et_sudo(labo: Labo, plan_labo: PlanLabo) -> None:
    for poste in plan_labo.postes:
        r = ssh_poste(labo, str(poste.adresse), "hostname && sudo -n true && echo SUDO-OK")
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [poste.nom, "SUDO-OK"]


def test_systemd_tourne(labo: Labo, plan_labo: PlanLabo) -> None:
    r = ssh_poste(labo, str(plan_labo.postes[0].adresse), "timeout 60 systemctl is-system-running --wait")
    assert r.stdout.strip() in ("running", "degraded"), r.stdout + r.stderr


def test_adresse_mac_et_route_du_plan(labo: Labo, plan_labo: PlanLabo) -> None:
    poste = plan_labo.postes[0]
    r = ssh_poste(labo, str(poste.adresse), "cat /sys/class/net/eth0/address; ip route show default")
    assert r.stdout.splitlines()[0] == poste.mac
    assert f"via {plan_labo.vlan(poste.vlan).passerelle}" in r.stdout


def test_dns_du_labo(labo: Labo, plan_labo: PlanLabo) -> None:
    autre = plan_labo.postes[1]
    r = ssh_poste(
        labo, str(plan_labo.postes[0].adresse), f"getent hosts {site(plan_labo, 'ent')} {autre.nom}"
    )
    assert str(reseau.ADRESSE_ENT.ip) in r.stdout and str(autre.adresse) in r.stdout, r.stdout + r.stderr


def _bail_dhcp(ns: str, dossier: Path) -> IPv4Address:
    """Run dhclient once in ``ns`` (own lease/pid files, no configuration) and return the address."""
    bail, pid = dossier / "bail", dossier / "pid"
    bail.unlink(missing_ok=True)
    try:
        r = subprocess.run(
            ["ip", "netns", "exec", ns, "dhclient", "-1", "-4", "-sf", "/bin/true", "-lf", str(bail), "-pf",
             str(pid), "eth0"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        lignes = [ligne for ligne in bail.read_text().splitlines() if "fixed-address" in ligne]
        return IPv4Address(lignes[-1].split()[1].rstrip(";"))
    finally:
        if pid.exists():
            os.kill(int(pid.read_text()), signal.SIGTERM)
            pid.unlink()


def test_dhcp_plage_et_reservation(labo: Labo, plan_labo: PlanLabo, tmp_path: Path) -> None:
    vlan = next(v for v in plan_labo.vlans if v.dhcp_debut)
    ns = f"{reseau.PREFIXE}dhcp"
    reseau.brancher(ns, "dhcp0", vlan.id, None, None)
    try:
        obtenue = _bail_dhcp(ns, tmp_path)
        assert vlan.dhcp_debut <= obtenue <= vlan.dhcp_fin
        # a PC's MAC gets its reservation (dhclient does not configure it: no address clash)
        poste = next(p for p in plan_labo.postes if p.vlan == vlan.id)
        reseau.ip("link", "set", "eth0", "address", poste.mac, ns=ns)
        assert _bail_dhcp(ns, tmp_path) == poste.adresse
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_proxy_laisse_passer_l_ent_et_bloque_la_categorie(labo: Labo, plan_labo: PlanLabo) -> None:
    poste = str(plan_labo.postes[0].adresse)
    journal = Path(labo.etat()["acces"]["journal_proxy"])
    avant = journal.stat().st_size
    ent = recuperer(labo, poste, f"http://{site(plan_labo, 'ent')}/", proxy_de(plan_labo))
    assert ent.returncode == 0, ent.stdout + ent.stderr
    assert "<title>ENT de test</title>" in ent.stdout
    bloque = recuperer(labo, poste, f"http://{site(plan_labo, 'bloque')}/", proxy_de(plan_labo))
    assert page_bloquee(bloque.stdout), bloque.stdout[:500]
    assert "Jeux" not in bloque.stdout
    deadline = time.monotonic() + 5
    while journal.stat().st_size <= avant and time.monotonic() < deadline:
        time.sleep(0.1)
    assert journal.stat().st_size > avant
    assert site(plan_labo, "bloque") in journal.read_text()


def test_https_par_le_proxy(labo: Labo, plan_labo: PlanLabo) -> None:
    r = recuperer(
        labo, str(plan_labo.postes[0].adresse), f"https://{site(plan_labo, 'gar')}/", proxy_de(plan_labo)
    )
    assert "<title>GAR de test</title>" in r.stdout, r.stdout + r.stderr


def test_acces_direct_refuse_aux_eleves(labo: Labo, plan_labo: PlanLabo) -> None:
    r = recuperer(labo, str(plan_labo.postes[0].adresse), f"http://{site(plan_labo, 'ent')}/")
    assert r.returncode == 3 and "ERREUR" in r.stdout, r.stdout


def test_source_de_signatures_clamav(labo: Labo, plan_labo: PlanLabo) -> None:
    url = labo.etat()["acces"]["signatures_clamav"] + "ardoise-eicar.hdb"
    r = recuperer(labo, str(plan_labo.postes[0].adresse), url)
    assert "44d88612fea8a8f36de82e1278abb02f:68:" in r.stdout, r.stdout


def test_apt_par_le_relais_du_labo(labo: Labo, plan_labo: PlanLabo) -> None:
    r = ssh_poste(
        labo, str(plan_labo.postes[0].adresse),
        "sudo apt-get update -q && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
        "--no-install-recommends less && command -v less", delai=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_commutateur_repond_en_ssh(labo: Labo, plan_labo: PlanLabo) -> None:
    from netmiko import ConnectHandler

    sw = plan_labo.commutateurs[0]
    connexion = ConnectHandler(
        device_type=sw.plateforme, host=str(sw.adresse), port=sw.port_ssh, username=sw.utilisateur,
        password=sw.mot_de_passe, secret=sw.mot_de_passe, conn_timeout=10,
    )  # fmt: skip
    try:
        connexion.enable()
        assert "PEDA" in connexion.send_command("show vlan brief")
        pannes.couper_sessions_commutateur(labo, sw.nom)
        time.sleep(0.5)
        assert not connexion.is_alive()
    finally:
        connexion.disconnect()


def test_etat_tout_up(labo: Labo, plan_labo: PlanLabo) -> None:
    etat = labo.etat()
    assert etat["demarre"] and etat["statut"] == "pret"
    assert set(etat["hotes"]) == {p.nom for p in plan_labo.postes}
    for genre in ("hotes", "services", "commutateurs"):
        for nom, info in etat[genre].items():
            assert info["etat"] == "up", (genre, nom, info)
    assert set(etat["commutateurs"]) == {s.nom for s in plan_labo.commutateurs}


def test_second_demarrage_refuse(labo: Labo, plan_labo: PlanLabo) -> None:
    avant = labo.etat()
    with pytest.raises(LaboDejaDemarreErreur, match="déjà démarré"):
        Labo().demarrer(plan_labo)
    assert labo.etat() == avant


def test_hote_arrete_puis_redemarre(labo: Labo, plan_labo: PlanLabo) -> None:
    nom = plan_labo.postes[1].nom
    pannes.arreter_hote(labo, nom)
    assert labo.etat()["hotes"][nom]["etat"] == "down"
    pannes.demarrer_hote(labo, nom)
    assert labo.etat()["hotes"][nom]["etat"] == "up"


def test_lien_coupe_puis_retabli(labo: Labo, plan_labo: PlanLabo) -> None:
    poste = plan_labo.postes[1]
    pannes.couper_lien(labo, poste.nom)
    try:
        assert ssh_poste(labo, str(poste.adresse), "true", delai=20).returncode != 0
    finally:
        pannes.retablir_lien(labo, poste.nom)
    assert ssh_poste(labo, str(poste.adresse), "true").returncode == 0


def test_proxy_arrete_puis_redemarre(labo: Labo, plan_labo: PlanLabo) -> None:
    poste = str(plan_labo.postes[0].adresse)
    pannes.arreter_proxy(labo)
    assert labo.etat()["services"]["squid"]["etat"] == "down"
    assert "ERREUR" in recuperer(labo, poste, f"http://{site(plan_labo, 'ent')}/", proxy_de(plan_labo)).stdout
    pannes.demarrer_proxy(labo)
    assert labo.etat()["services"]["e2guardian"]["etat"] == "up"
    assert (
        "ENT de test"
        in recuperer(labo, poste, f"http://{site(plan_labo, 'ent')}/", proxy_de(plan_labo)).stdout
    )


def test_disque_plein_puis_libere(labo: Labo, plan_labo: PlanLabo) -> None:
    poste = plan_labo.postes[0]
    pannes.remplir_disque(labo, poste.nom)
    try:
        r = ssh_poste(
            labo,
            str(poste.adresse),
            "df --output=pcent / | tail -1; dd if=/dev/zero of=/var/tmp/x bs=1M count=64",
        )
        assert int(r.stdout.split()[0].rstrip("%")) >= 98, r.stdout
        assert r.returncode != 0 and "No space left" in r.stderr
    finally:
        pannes.liberer_disque(labo, poste.nom)
    assert ssh_poste(labo, str(poste.adresse), "rm -f /var/tmp/x; touch /var/tmp/y").returncode == 0


def restes(labo: Labo) -> list[str]:
    """Everything of the lab still present on the machine (empty when clean)."""
    trouves = [f"ns {n}" for n in reseau.namespaces_labo()]
    trouves += [f"lien {n}" for n in reseau.liens_racine_labo()]
    trouves += [f"montage {m}" for m in nettoyage.montages_labo(labo.dossier)]
    montages = Path("/proc/mounts").read_text()
    trouves += [f"montage {ligne}" for ligne in montages.splitlines() if "/run/netns/ard-" in ligne]
    trouves += [f"processus {p}" for p in nettoyage.processus_labo(labo.dossier)]
    trouves += [f"route {r}" for r in subprocess.run(["ip", "route"], capture_output=True, text=True).stdout.splitlines()
                if reseau.LIEN_RACINE in r]  # fmt: skip
    trouves += [f"cgroup {c}" for c in Path("/sys/fs/cgroup").glob(f"*/{reseau.PREFIXE}*")]
    return trouves


def test_arret_puis_arret_d_un_labo_plante(labo: Labo, plan_labo: PlanLabo) -> None:
    """Clean stop, then a crashed lab (processes killed, namespaces kept); the lab is restarted after."""
    labo.arreter()
    assert restes(labo) == []
    assert not labo.etat()["demarre"]

    labo.demarrer(plan_labo)
    for pid in nettoyage.processus_labo(labo.dossier):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # a child that exited with its parent
            pass
    assert reseau.namespaces_labo()
    labo.arreter()
    assert restes(labo) == []
    labo.demarrer(plan_labo)  # the session's lab again, for the test modules that follow
