"""Host keys, one policy for every transport: a CHANGED key is refused with a French message naming the device
and the ``ssh-keygen -R`` command to run (and running it is enough); an unknown key is recorded on first use
by the workshop (Ansible, accept-new) and by a switch's first session (netmiko), refused by maintenance unless
``--accepter-nouvelles-cles``.

Peers: real sshd on loopback (127.0.99.1-3, port 22; the workshop runs its precheck and a harmless stand-in
playbook on them, they are this machine) and the lab's Cisco switch emulator on 127.0.99.10 with its own key.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.boucle_sshd import boucle_sshd, manque_prerequis
from tests.fiabilite.parc_boucle import ARDOISE, environnement, generer_ecole, nom_poste, racine_sans_danger

pytestmark = pytest.mark.skipif(manque_prerequis() is not None, reason=str(manque_prerequis()))

PREFIXE = "127.0.99"


@pytest.fixture(scope="module")
def parc(tmp_path_factory):
    d = tmp_path_factory.mktemp("cles")
    inventaire = generer_ecole(d, PREFIXE, 3)
    with boucle_sshd(3, prefixe=PREFIXE, port=22) as b:
        yield {"dossier": d, "inventaire": inventaire, "boucle": b}


def _ardoise(env, dossier, *args):
    return subprocess.run([ARDOISE, *args], env=env, cwd=dossier, capture_output=True, text=True, timeout=300)


def _oubli(texte: str) -> list[str]:
    """The ``ssh-keygen -R … -f …`` command the message tells the user to run."""
    m = re.search(r"(ssh-keygen -R \S+ -f \S+)", texte)
    assert m, texte
    return shlex.split(m.group(1))


def test_maintenance_asyncssh(parc):
    d, b = parc["dossier"] / "maintenance", parc["boucle"]
    d.mkdir()
    kh = d / "known_hosts"
    kh.write_text(b.known_hosts.read_text())
    env = environnement(d, parc["inventaire"], kh, b.cle)
    kh.write_text(
        "".join(ligne for ligne in kh.read_text().splitlines(True) if not ligne.startswith(f"{PREFIXE}.3 "))
    )
    postes = ",".join(nom_poste(i) for i in (1, 2, 3))
    b.changer_cle(f"{PREFIXE}.1")  # pc-boucle-01 reinstalled (or an impostor); pc-boucle-03 never seen
    r = _ardoise(env, d, "maintenance", "lancer", "--postes", postes, "--verifications", "disque")
    assert r.returncode == 1
    assert f"{nom_poste(1)} : la clé d'hôte SSH de {nom_poste(1)} ({PREFIXE}.1) a CHANGÉ" in r.stderr
    assert f"ssh-keygen -R {PREFIXE}.1 -f {kh}" in r.stderr
    assert f"{nom_poste(3)} : clé d'hôte SSH de {nom_poste(3)} ({PREFIXE}.3) inconnue dans {kh}" in r.stderr
    assert "--accepter-nouvelles-cles" in r.stderr and f"{nom_poste(2)} :" not in r.stderr
    # accepting new keys records pc-boucle-03's, never accepts a CHANGED one
    r = _ardoise(env, d, "maintenance", "lancer", "--postes", postes, "--verifications", "disque",
                 "--accepter-nouvelles-cles", "--format", "json")  # fmt: skip
    assert json.loads(r.stdout)[0]["refuses"] == 1 and f"{nom_poste(1)} : la clé d'hôte SSH" in r.stderr
    assert f"{PREFIXE}.3 ssh-ed25519 " in kh.read_text()
    # what the message says to do is enough: remove the old key, the next first contact records the new one
    subprocess.run(_oubli(r.stderr), check=True, capture_output=True)
    r = _ardoise(env, d, "maintenance", "lancer", "--postes", postes, "--verifications", "disque",
                 "--accepter-nouvelles-cles", "--format", "json")  # fmt: skip
    assert "clé d'hôte" not in r.stderr and json.loads(r.stdout)[0]["refuses"] == 0, r.stderr


def test_atelier_ansible(parc):
    d, b = parc["dossier"] / "atelier", parc["boucle"]
    d.mkdir()
    kh = d / "known_hosts"  # empty: the workshop is the first contact
    env = environnement(d, parc["inventaire"], kh, b.cle, ARDOISE_RACINE=str(racine_sans_danger(d)))
    (d / "site.yml").write_text("ansible_python_interpreter: /usr/bin/python3\n")
    postes = ",".join(nom_poste(i) for i in (1, 2, 3))
    args = ("atelier", "preparer", "--postes", postes, "--utilisateur", "root", "--variables", str(d / "site.yml"),
            "--format", "json", "--seuil-echec", "0")  # fmt: skip
    r = _ardoise(env, d, *args)
    lignes = {x["poste"]: x for x in json.loads(r.stdout)}
    assert not any(x["etape"].startswith("précontrôle") for x in lignes.values()), r.stdout
    assert sorted(ligne.split()[0] for ligne in kh.read_text().splitlines()) == [
        f"{PREFIXE}.{i}" for i in (1, 2, 3)
    ]
    b.changer_cle(f"{PREFIXE}.2")
    r = _ardoise(env, d, *args)
    assert r.returncode == 1
    x = {x["poste"]: x for x in json.loads(r.stdout)}[nom_poste(2)]
    assert x["etat"] == "echec" and x["etape"] == "précontrôle : connexion SSH"
    assert x["raison"].startswith(f"la clé d'hôte SSH de {nom_poste(2)} ({PREFIXE}.2) a CHANGÉ")
    assert f"ssh-keygen -R {PREFIXE}.2 -f {kh}" in x["raison"]
    assert "ARRÊT DU LOT" in r.stderr  # --seuil-echec 0: nothing else is attempted after the refusal
    subprocess.run(_oubli(x["raison"]), check=True, capture_output=True)
    # the workshop records the new key (first use again): « verifier » (precheck + checklist) on that PC
    r = _ardoise(env, d, "atelier", "verifier", "--postes", nom_poste(2), "--utilisateur", "root", "--variables",
                 str(d / "site.yml"), "--format", "json")  # fmt: skip
    assert not json.loads(r.stdout)[0]["etape"].startswith("précontrôle"), r.stdout
    assert len(kh.read_text().splitlines()) == 3


@pytest.fixture
def commutateur(tmp_path, parc):
    pytest.importorskip("fake_switches")
    from ardoise.inventaire.chargeur import charger
    from ardoise.inventaire.selection import Selection
    from ardoise.reseau.rendu import cibles
    from tests.integration.reseau.emulateurs import Processus, config_emulateur, ecrire_acces, port_libre

    t = charger(parc["inventaire"])
    cible = next(c for c in cibles(t, Selection()) if c.nom == "sw-jean-jaures-1")
    adresse = f"{PREFIXE}.10"
    port = port_libre(adresse)
    etat = {}

    def demarrer(cle: str) -> None:
        chemin = tmp_path / cle
        if not chemin.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-f", str(chemin)],
                           check=True)  # fmt: skip
        config, emule = config_emulateur(t, cible.commutateur, tmp_path, adresse=adresse, port=port)
        etat["processus"] = Processus([{**config, "cle_hote": str(chemin)}], tmp_path)
        etat["acces"] = ecrire_acces([emule], tmp_path / "acces.json")

    def arreter() -> None:
        etat.pop("processus").arreter()

    demarrer("cle-a")
    yield {"demarrer": demarrer, "arreter": arreter, "etat": etat, "port": port, "adresse": adresse}
    if "processus" in etat:
        arreter()


def test_commutateur_netmiko(parc, commutateur, tmp_path):
    kh = tmp_path / "known_hosts"
    env = environnement(tmp_path, parc["inventaire"], kh, Path("/nonexistent"),
                        ARDOISE_RESEAU_ACCES=str(commutateur["etat"]["acces"]))  # fmt: skip
    args = (
        "reseau",
        "diff",
        "--equipement",
        "sw-jean-jaures-1",
        "--perimetre",
        "commutation",
        "--format",
        "json",
    )
    r = _ardoise(env, tmp_path, *args)
    assert r.returncode in (0, 1) and json.loads(r.stdout)[0]["statut"] == "ok", r.stdout + r.stderr
    nom = f"[{commutateur['adresse']}]:{commutateur['port']}"
    assert kh.read_text().startswith(f"{nom} ssh-rsa ")  # first session: key recorded
    commutateur["arreter"]()
    commutateur["demarrer"]("cle-b")  # the switch replaced (or an impostor on its address)
    r = _ardoise(env, tmp_path, *args)
    assert r.returncode == 1
    (x,) = json.loads(r.stdout)
    assert x["statut"] == "refuse" and x["etape"] == "connexion"
    assert x["detail"].startswith(f"la clé d'hôte SSH de sw-jean-jaures-1 ({nom}) a CHANGÉ")
    assert f"ssh-keygen -R '{nom}' -f {kh}" in x["detail"]
    subprocess.run(_oubli(x["detail"]), check=True, capture_output=True)
    r = _ardoise(env, tmp_path, *args)
    assert json.loads(r.stdout)[0]["statut"] == "ok", r.stdout
