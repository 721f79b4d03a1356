"""Maintenance on the lab's real Debian PCs (systemd in network namespaces), through the real CLI path.

The lab PCs are fresh minbase Debian: the module fixture first does what the workshop roles will do on
two PCs (security updates and ClamAV from the lab's apt relay, the lab's EICAR signature source, the
proxy in /etc/environment), then every test injects one fault, sweeps, and checks the fault is named.

Expected on a clean, prepared lab PC (asserted below, and why):
- OK: horloge, disque, unites, disponibilite, redemarrage, nom_hote, mises_a_jour, antivirus, proxy, and
  dernier_passage from the second sweep on (the first has no history: INCONNU by design);
- INCONNU: smart (no smartmontools, and a container has no physical disk);
- ATTENTION: applications (the workshop has not installed the profile's apps: the message lists them);
- batterie: not run (desktop PCs in the manifest).
Clock skew: lab PCs are nspawn containers sharing the machine's kernel clock, which a test must not move,
so the test puts a ``date`` wrapper in /usr/local/bin on the PC (first in the sweep's PATH) that answers
two minutes ahead: the remote side of the comparison is skewed, the reference (the controller) is not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ardoise.inventaire.selection import Selection
from ardoise.labo import pannes
from ardoise.maintenance import rapport
from ardoise.maintenance.catalogue import choisir
from ardoise.maintenance.execution import lancer
from ardoise.maintenance.moteur import ParametresSsh
from ardoise.resultats.forme import Niveau, StatutHote
from ardoise.resultats.magasin import Magasin

pytestmark = pytest.mark.labo
RACINE = Path(__file__).resolve().parents[3]

PREPARER = r"""set -e
export DEBIAN_FRONTEND=noninteractive
sudo -E apt-get update -q >/dev/null
sudo -E apt-get install -y -q --no-install-recommends clamav-daemon >/dev/null
# the lab image lags behind bookworm-security: a clean PC is a patched one (the workshop does the same)
sudo -E apt-get upgrade -y -q --no-install-recommends -o Dpkg::Options::=--force-confold >/dev/null
sudo mkdir -p /etc/systemd/system/clamav-daemon.service.d
printf '[Unit]\nConditionPathExistsGlob=\n' | sudo tee /etc/systemd/system/clamav-daemon.service.d/ardoise-labo.conf >/dev/null
python3 -c 'import urllib.request,sys; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())' \
    {signatures}ardoise-eicar.hdb | sudo tee /var/lib/clamav/ardoise-eicar.hdb >/dev/null
sudo systemctl daemon-reload
sudo systemctl restart clamav-daemon
sudo systemctl is-active clamav-daemon
echo 'http_proxy="{proxy}/"' | sudo tee -a /etc/environment >/dev/null
echo 'https_proxy="{proxy}/"' | sudo tee -a /etc/environment >/dev/null
"""


def ssh(acces: dict, adresse: str, commande: str, delai: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-i", acces["cle_ssh"], "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         f"{acces['technicien']}@{adresse}", commande],
        capture_output=True, text=True, timeout=delai,
    )  # fmt: skip


@pytest.fixture(scope="module")
def prepare(labo, plan_labo, acces_labo, ecole_labo, tmp_path_factory):
    """Two PCs prepared like the workshop would; a known_hosts built from the PCs' own host keys."""
    dossier = tmp_path_factory.mktemp("maintenance-labo")
    kh = dossier / "known_hosts"
    lignes = []
    for p in plan_labo.postes:
        cle = (labo.hote(p.nom).racine / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
        lignes.append(f"{p.adresse} {cle[0]} {cle[1]}\n")
    kh.write_text("".join(lignes))
    pol = ecole_labo.politique
    proxy = f"http://{pol.proxy.adresse}:{pol.proxy.port}"
    for p in plan_labo.postes[:2]:
        r = ssh(
            acces_labo,
            str(p.adresse),
            PREPARER.format(signatures=acces_labo["signatures_clamav"], proxy=proxy),
        )
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return {"kh": kh, "base": f"sqlite:///{dossier}/resultats.sqlite", "dossier": dossier}


def balayer(territoire_exemple, plan_labo, acces_labo, prepare, noms=None, verifs=None, base=None):
    noms = noms or [p.nom for p in plan_labo.postes[:2]]
    magasin = Magasin(base or prepare["base"])
    bilan = lancer(territoire_exemple, Selection(noms=tuple(noms)), choisir(verifs), magasin,
                   ParametresSsh(cle=Path(acces_labo["cle_ssh"]), known_hosts=prepare["kh"], delai_hote=60))  # fmt: skip
    magasin.moteur.dispose()
    return {r.hote: r for r in bilan.resultats}


def niveaux(r) -> dict[str, Niveau]:
    return {v.nom: v.niveau for v in r.verifications}


def message(r, nom: str) -> str:
    return next(v.message for v in r.verifications if v.nom == nom)


ATTENDU_PROPRE = {
    "horloge": Niveau.OK, "disque": Niveau.OK, "unites": Niveau.OK, "disponibilite": Niveau.OK,
    "redemarrage": Niveau.OK, "nom_hote": Niveau.OK, "mises_a_jour": Niveau.OK, "antivirus": Niveau.OK,
    "proxy": Niveau.OK, "smart": Niveau.INCONNU, "applications": Niveau.ATTENTION,
    "pull": Niveau.ATTENTION,  # no ansible-pull installed on these PCs (tests/integration/echelle removes it)
}  # fmt: skip


def test_poste_propre_tout_ok_puis_historique(territoire_exemple, plan_labo, acces_labo, prepare):
    premier = balayer(territoire_exemple, plan_labo, acces_labo, prepare)
    second = balayer(territoire_exemple, plan_labo, acces_labo, prepare)
    for resultats, passage in ((premier, Niveau.INCONNU), (second, Niveau.OK)):
        for r in resultats.values():
            assert r.statut is StatutHote.ok, r.raison
            obtenu = niveaux(r)
            details = {v.nom: v.message for v in r.verifications}
            assert obtenu == {**ATTENDU_PROPRE, "dernier_passage": passage}, details
            assert "bien refusé" in details["proxy"] and "ClamAV actif" in details["antivirus"]
            assert "absente(s)" in details["applications"]


@pytest.mark.parametrize("panne", ["disque", "clamav_arrete", "signatures", "proxy", "horloge", "unite"])
def test_chaque_panne_est_trouvee(territoire_exemple, labo, plan_labo, acces_labo, prepare, panne):
    p = plan_labo.postes[1]
    adresse = str(p.adresse)
    injecter, reparer, verif, niveau_attendu, mots = {
        "disque": (lambda: pannes.remplir_disque(labo, p.nom), lambda: pannes.liberer_disque(labo, p.nom),
                   "disque", Niveau.CRITIQUE, "presque plein"),
        "clamav_arrete": (lambda: pannes.arreter_clamav(labo, p.nom), lambda: pannes.demarrer_clamav(labo, p.nom),
                          "antivirus", Niveau.CRITIQUE, "arrêté"),
        "signatures": (lambda: ssh(acces_labo, adresse, "sudo touch -d '10 days ago' /var/lib/clamav/*"),
                       lambda: ssh(acces_labo, adresse, "sudo touch /var/lib/clamav/*"),
                       "antivirus", Niveau.CRITIQUE, "périmées"),
        "proxy": (lambda: ssh(acces_labo, adresse, "sudo sed -i.ardoise '/_proxy=/d' /etc/environment"),
                  lambda: ssh(acces_labo, adresse, "sudo mv /etc/environment.ardoise /etc/environment"),
                  "proxy", Niveau.CRITIQUE, "aucun proxy configuré"),
        "horloge": (lambda: ssh(acces_labo, adresse, "printf '#!/bin/sh\\nexec /bin/date -d @$(( $(/bin/date +%%s) + 120 )) \"$@\"\\n'"
                                " | sudo tee /usr/local/bin/date >/dev/null && sudo chmod 755 /usr/local/bin/date"),
                    lambda: ssh(acces_labo, adresse, "sudo rm -f /usr/local/bin/date"),
                    "horloge", Niveau.CRITIQUE, "+1"),
        "unite": (lambda: ssh(acces_labo, adresse, "printf '[Service]\\nExecStart=/bin/false\\n' | sudo tee "
                              "/etc/systemd/system/ardoise-panne.service >/dev/null && sudo systemctl daemon-reload"
                              " && (sudo systemctl start ardoise-panne.service || true)"),
                  lambda: ssh(acces_labo, adresse, "sudo systemctl reset-failed ardoise-panne.service; sudo rm -f "
                              "/etc/systemd/system/ardoise-panne.service; sudo systemctl daemon-reload"),
                  "unites", Niveau.ATTENTION, "ardoise-panne.service"),
    }[panne]  # fmt: skip
    injecter()
    try:
        resultats = balayer(territoire_exemple, plan_labo, acces_labo, prepare, verifs=[verif])
    finally:
        reparer()
    sain, malade = resultats[plan_labo.postes[0].nom], resultats[p.nom]
    assert niveaux(malade)[verif] is niveau_attendu, message(malade, verif)
    assert mots in message(malade, verif)
    assert niveaux(sain)[verif] is ATTENDU_PROPRE[verif], message(sain, verif)  # only the faulty PC is named
    apres = balayer(territoire_exemple, plan_labo, acces_labo, prepare, noms=[p.nom], verifs=[verif])[p.nom]
    assert niveaux(apres)[verif] is ATTENDU_PROPRE[verif], message(apres, verif)  # repaired: back to normal


def test_poste_eteint_la_tournee_continue(territoire_exemple, labo, plan_labo, acces_labo, prepare):
    eteint = plan_labo.postes[2]
    pannes.arreter_hote(labo, eteint.nom)
    try:
        resultats = balayer(
            territoire_exemple, plan_labo, acces_labo, prepare, noms=[p.nom for p in plan_labo.postes]
        )
    finally:
        pannes.demarrer_hote(labo, eteint.nom)
    assert resultats[eteint.nom].statut is StatutHote.injoignable, resultats[eteint.nom]
    for p in plan_labo.postes[:2]:
        assert resultats[p.nom].statut is StatutHote.ok


def test_rapport_et_nagios_sur_le_labo(territoire_exemple, ecole_labo, prepare):
    m = Magasin(prepare["base"])
    r = rapport.construire(
        territoire_exemple, Selection(ecoles=(ecole_labo.uai,)).verifier(territoire_exemple), m
    )
    html = rapport.en_html(r)
    sortie = (
        Path(os.environ.get("ARDOISE_SORTIE_TESTS", prepare["dossier"])) / "rapport-maintenance-labo.html"
    )
    sortie.write_text(html, encoding="utf-8")
    assert len(r.ecoles[0].tendance) >= 3 and r.ecoles[0].a_visiter
    env = {**os.environ, "ARDOISE_BASE": prepare["base"]}
    n = subprocess.run([Path(sys.executable).with_name("ardoise"), "maintenance", "check-nagios", "--ecole", ecole_labo.uai,
                        "--inventaire", str(RACINE / "inventaire")], capture_output=True, text=True, env=env)  # fmt: skip
    assert n.returncode in (0, 1, 2) and n.stdout.startswith("ARDOISE ") and " | " in n.stdout, (
        n.stdout + n.stderr
    )
