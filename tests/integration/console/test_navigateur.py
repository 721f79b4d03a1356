"""The console in a real browser (headless Chromium driven by Selenium, Debian's chromium-driver) on the lab.

A commune technician logs in, sees only their commune, launches a maintenance sweep of the lab school and
watches it finish (the console runs in ``--labo`` mode, as in ``make demo``: the sweep reaches the lab's real PCs
over SSH and nothing else), approves a teacher's request, and logs out. Screenshots of the main pages go to
``sortie/console/`` (the README's picture is one of them).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from ardoise.console import comptes
from ardoise.console.app import creer_app
from ardoise.console.taches import Reglages
from ardoise.inventaire.chargeur import charger
from ardoise.maintenance.moteur import ParametresSsh
from ardoise.resultats.magasin import Magasin
from tests.aide_parc import RACINE, copier_exemple

pytestmark = pytest.mark.labo
CAPTURES = RACINE / "sortie" / "console"
MDP = "une console pour trois communes"


def _port_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def navigateur():
    if not (shutil.which("chromium") and Path("/usr/bin/chromedriver").exists()):
        pytest.skip("chromium et chromium-driver absents : scripts/installer-dependances.sh les installe")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1000",
              "--lang=fr-FR"):  # fmt: skip
        options.add_argument(a)
    pilote = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    pilote.set_page_load_timeout(60)
    yield pilote
    pilote.quit()


@pytest.fixture(scope="module")
def serveur(labo, plan_labo, acces_labo, ecole_labo, tmp_path_factory):
    """The console served by uvicorn on loopback, over a copy of the territory, sweeping the lab."""
    import uvicorn

    dossier = tmp_path_factory.mktemp("console-labo")
    kh = dossier / "known_hosts"
    kh.write_text("".join(
        "{} {} {}\n".format(p.adresse, *(labo.hote(p.nom).racine / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])
        for p in plan_labo.postes))  # fmt: skip
    inventaire = copier_exemple(dossier)
    magasin = Magasin(f"sqlite:///{dossier}/resultats.sqlite")
    t = charger(inventaire)
    commune = ecole_labo.commune
    comptes.ajouter(magasin, t, "tech", MDP, "technicien-commune", [commune], nom="Camille Technicienne")
    reglages = Reglages(inventaire=inventaire, base=magasin.url, http_local=True, labo=True, dossier_wifi=dossier / "wifi",
                        ssh=ParametresSsh(cle=Path(acces_labo["cle_ssh"]), known_hosts=kh, delai_hote=60))  # fmt: skip
    port = _port_libre()
    srv = uvicorn.Server(
        uvicorn.Config(creer_app(reglages, magasin), host="127.0.0.1", port=port, log_level="warning")
    )
    fil = threading.Thread(target=srv.run, daemon=True)
    fil.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.1)
    yield {"url": f"http://127.0.0.1:{port}", "t": t, "commune": commune, "ecole": ecole_labo,
           "inventaire": inventaire, "postes": [x.nom for x in plan_labo.postes]}  # fmt: skip
    srv.should_exit = True
    fil.join(30)


def _attendre(pilote, condition, delai=240.0, message=""):
    fin = time.monotonic() + delai
    while time.monotonic() < fin:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - page reloading under our feet
            pass
        time.sleep(0.5)
    raise AssertionError(f"{message} (page : {pilote.current_url})")


def _capture(pilote, nom):
    CAPTURES.mkdir(parents=True, exist_ok=True)
    pilote.save_screenshot(str(CAPTURES / f"{nom}.png"))


def _texte_tache(pilote):
    from selenium.webdriver.common.by import By

    return pilote.find_element(By.ID, "etat-tache").text.strip()


def test_parcours_technicien_commune(serveur, navigateur):
    from selenium.webdriver.common.by import By

    p, url, t, ecole = navigateur, serveur["url"], serveur["t"], serveur["ecole"]
    p.get(url + "/")
    assert p.current_url.endswith("/connexion")
    p.find_element(By.ID, "identifiant").send_keys("tech")
    p.find_element(By.ID, "mot_de_passe").send_keys("mauvais mot de passe")
    p.find_element(By.ID, "se-connecter").click()
    assert "identifiant ou mot de passe incorrect" in p.page_source
    _capture(p, "connexion")
    p.find_element(By.ID, "mot_de_passe").send_keys(MDP)
    p.find_element(By.ID, "se-connecter").click()
    _attendre(p, lambda: p.find_element(By.ID, "utilisateur").text == "Camille Technicienne", 30, "connexion")

    # only one's own commune
    page = p.page_source
    autres = [c for c in t.communes if c.id != serveur["commune"]]
    assert t.commune(serveur["commune"]).nom in page and ecole.nom in page
    for c in autres:
        assert c.nom not in page and not any(e.uai in page for e in t.ecoles_de(c.id))
    _capture(p, "territoire")

    # a maintenance sweep of the lab school, watched until it ends
    p.get(f"{url}/ecoles/{ecole.uai}")
    _capture(p, "ecole")
    p.find_element(By.ID, "lancer-maintenance").click()
    _attendre(p, lambda: "/taches/" in p.current_url, 30, "page de la tâche")
    _attendre(p, lambda: _texte_tache(p) in ("termine", "terminé", "echec", "échec"), 300, "fin du balayage")
    _attendre(p, lambda: p.find_element(By.ID, "lien-execution").is_displayed(), 30, "lien vers l'exécution")
    assert _texte_tache(p) in ("termine", "terminé"), p.find_element(By.ID, "message").text
    faits, attendus = (int(p.find_element(By.ID, i).text) for i in ("faits", "attendus"))
    assert faits == attendus > 0
    _capture(p, "balayage")
    assert attendus == len(serveur["postes"])  # --labo: the lab's PCs only
    p.get(p.find_element(By.ID, "lien-execution").get_attribute("href"))
    _capture(p, "execution")
    lab = serveur["postes"]
    for nom in lab:  # the lab's real PCs were reached over SSH (a verdict per check), not "injoignable"
        ligne = p.find_element(By.XPATH, f"//tr[td/a[text()='{nom}']]").text
        assert " ok " in f" {ligne} ", ligne
    p.get(f"{url}/ecoles/{ecole.uai}/maintenance")
    _capture(p, "rapport")

    # approve a teacher's request
    p.get(f"{url}/ecoles/{ecole.uai}")
    demande = next(d for d in ecole.modele.demandes if d.statut.value == "demandee")
    p.find_element(By.ID, f"approuver-{demande.id}").click()
    _attendre(p, lambda: _texte_tache(p) in ("terminé", "termine"), 60, "approbation")
    p.get(f"{url}/ecoles/{ecole.uai}")
    assert "approuvee" in p.find_element(By.ID, f"demande-{demande.id}").text
    assert next(d for d in charger(serveur["inventaire"]).ecole(ecole.uai).modele.demandes
                if d.id == demande.id).statut.value == "approuvee"  # fmt: skip
    _capture(p, "ecole-apres")
    p.get(f"{url}/appareils/{lab[0]}")
    _capture(p, "appareil")
    p.get(f"{url}/executions")
    _capture(p, "executions")

    # log out: the session is gone
    p.find_element(By.ID, "deconnexion").click()
    _attendre(p, lambda: p.current_url.endswith("/connexion"), 30, "déconnexion")
    p.get(f"{url}/ecoles/{ecole.uai}")
    assert p.current_url.endswith("/connexion")
