"""A maintenance run killed with SIGKILL keeps every host it reported; two runs writing one SQLite store at
the same time lose nothing. Real sshd on loopback (127.0.98.1-20, port 22); hosts 16-20 are slowed by their
sshd (``ForceCommand sleep``) so the kill lands while they are still running.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from tests.boucle_sshd import boucle_sshd, manque_prerequis
from tests.fiabilite.parc_boucle import ARDOISE, RACINE, UAI, environnement, generer_ecole, nom_poste

pytestmark = pytest.mark.skipif(manque_prerequis() is not None, reason=str(manque_prerequis()))

PREFIXE = "127.0.98"
N, RAPIDES = 20, 15
LENTS = {f"{PREFIXE}.{i}": "ForceCommand sleep 120" for i in range(RAPIDES + 1, N + 1)}


@pytest.fixture(scope="module")
def parc(tmp_path_factory):
    d = tmp_path_factory.mktemp("parc20")
    inventaire = generer_ecole(d, PREFIXE, N)
    with boucle_sshd(N, prefixe=PREFIXE, port=22, options=LENTS) as b:
        yield {"dossier": d, "inventaire": inventaire, "boucle": b}


def _env(parc, nom):
    d = parc["dossier"] / nom
    d.mkdir()
    b = parc["boucle"]
    return d, environnement(d, parc["inventaire"], b.known_hosts, b.cle)


def _lignes(base) -> dict[str, str]:
    with sqlite3.connect(base) as c:
        return dict(c.execute("select hote, statut from resultats_hotes"))


def test_sigkill_en_pleine_tournee(parc):
    d, env = _env(parc, "tuee")
    p = subprocess.Popen([ARDOISE, "maintenance", "lancer", "--ecole", UAI, "-v", "--verifications",
                          "disque,nom_hote", "--delai", "300", "--format", "json"], env=env, cwd=d,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    annonces: dict[str, str] = {}
    for ligne in p.stderr:  # « pc-boucle-03 : ok (3/20), enregistré »: printed after the store write
        if ligne.startswith("pc-boucle-") and "enregistré" in ligne:
            nom, reste = ligne.split(" : ", 1)
            annonces[nom] = reste.split()[0]
            if len(annonces) == RAPIDES:
                break
    os.kill(p.pid, signal.SIGKILL)  # no cleanup, no « terminer »
    p.wait(timeout=30)
    assert len(annonces) == RAPIDES, annonces
    ecrit = _lignes(d / "resultats.sqlite")
    # every host reported before the kill is in the store with the reported status; the slowed ones are not
    assert {n: ecrit.get(n) for n in annonces} == annonces
    assert not set(ecrit) & {nom_poste(i) for i in range(RAPIDES + 1, N + 1)}
    with sqlite3.connect(d / "resultats.sqlite") as c:
        assert c.execute("select statut, fin from executions").fetchall() == [("en_cours", None)]
    # the next run on this machine sees the killed one's process gone: it is shown as interrupted
    r = subprocess.run([ARDOISE, "maintenance", "lancer", "--postes", nom_poste(1), "--verifications", "disque",
                        "--format", "json"], env=env, cwd=d, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    with sqlite3.connect(d / "resultats.sqlite") as c:
        statuts = c.execute("select statut, fin is null, resume from executions order by id").fetchall()
    assert [s[:2] for s in statuts] == [("interrompu", 1), ("termine", 0)]
    assert "processus disparu" in json.loads(statuts[0][2])["interruption"]


def test_deux_tournees_simultanees_meme_base(parc):
    """Two CLI runs start together on a fresh store (both migrate it, both write): nothing is lost."""
    d, env = _env(parc, "simultanees")
    postes = ",".join(nom_poste(i) for i in range(1, RAPIDES + 1))
    commande = [ARDOISE, "maintenance", "lancer", "--postes", postes, "--verifications", "disque,nom_hote",
                "--format", "json", "--parallele", "50"]  # fmt: skip
    procs = [subprocess.Popen(commande, env=env, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]  # fmt: skip
    sorties = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, sorties, strict=True):
        assert p.returncode in (0, 1) and "Traceback" not in err and "erreur" not in err.lower(), err
    with sqlite3.connect(d / "resultats.sqlite") as c:
        assert c.execute("select statut from executions").fetchall() == [("termine",), ("termine",)]
        par_ex = dict(c.execute("select execution_id, count(*) from resultats_hotes group by execution_id"))
        verifs = c.execute("select count(*) from verifications").fetchone()[0]
    assert sorted(par_ex.values()) == [RAPIDES, RAPIDES]
    assert verifs >= 2 * RAPIDES * 2  # each host's two checks, in both runs


ECRIVAIN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {racine!r})
    from ardoise.resultats.forme import ResultatHote, StatutHote, Verification, Niveau
    from ardoise.resultats.magasin import Magasin
    m = Magasin(sys.argv[1])
    ex = m.commencer("maintenance", selection={{"ecrivain": sys.argv[2]}})
    for i in range(int(sys.argv[3])):
        m.enregistrer(ex, ResultatHote(f"h-{{sys.argv[2]}}-{{i}}", StatutHote.ok,
                      verifications=[Verification("disque", "Disque", Niveau.OK, "ok")]), uai="0339971J")
    m.terminer(ex)
""")


def test_ecrivains_concurrents_rien_ne_se_perd(tmp_path):
    """Two processes write 100 results each into one fresh SQLite store at once (WAL + busy timeout)."""
    base = f"sqlite:///{tmp_path}/r.sqlite"
    code = ECRIVAIN.format(racine=str(RACINE))
    procs = [subprocess.Popen([sys.executable, "-c", code, base, str(k), "100"], stderr=subprocess.PIPE, text=True)
             for k in range(2)]  # fmt: skip
    debut = time.monotonic()
    erreurs = [p.communicate(timeout=180)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), erreurs
    with sqlite3.connect(tmp_path / "r.sqlite") as c:
        assert c.execute("select count(*) from resultats_hotes").fetchone()[0] == 200
        assert c.execute("select count(*) from verifications").fetchone()[0] == 200
        assert c.execute("select count(distinct statut) , min(statut) from executions").fetchone() == (
            1,
            "termine",
        )
    print(f"2 × 100 écritures concurrentes : {time.monotonic() - debut:.1f} s", file=sys.stderr)
