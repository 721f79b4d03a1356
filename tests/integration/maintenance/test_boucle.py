"""The sweep on real sshd (one per loopback address, see tests/boucle_sshd.py), no lab needed.

Proves: one batched command per host gives every check a section; a host down / refusing the key / with
a changed host key / too slow is recorded as such while the sweep goes on; results reach SQLite and a real
PostgreSQL host by host; a run killed midway keeps the finished hosts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.maintenance.catalogue import Controle, choisir
from ardoise.maintenance.cibles import Cible
from ardoise.maintenance.execution import lancer
from ardoise.maintenance.historique import lignes
from ardoise.maintenance.moteur import Balayage, ParametresSsh
from ardoise.resultats.forme import Niveau, StatutHote
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution
from tests.boucle_sshd import PORT, boucle_sshd, manque_prerequis

RACINE = Path(__file__).resolve().parents[3]
POSTES = ("pc-jean-jaures-07", "pc-jean-jaures-08", "pc-jean-jaures-09")  # Linux PCs in service

pytestmark = pytest.mark.skipif(manque_prerequis() is not None, reason=str(manque_prerequis()))


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


@pytest.fixture(scope="module")
def boucle():
    with boucle_sshd(4, prefixe="127.0.91") as b:
        yield b


def vers_boucle(b, adresses=None):
    """Point the manifest's devices at the loopback sshd (root, port 2222), keeping their context."""

    def transformer(cibles: list[Cible]) -> list[Cible]:
        for c, a in zip(cibles, adresses or b.adresses, strict=False):
            c.adresse, c.port, c.utilisateur = a, PORT, "root"
        return cibles

    return transformer


@pytest.fixture(params=["sqlite", "postgresql"])
def magasin(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path}/r.sqlite"
        if request.param == "sqlite"
        else request.getfixturevalue("url_postgresql")
    )
    m = Magasin(url)
    yield m
    m.moteur.dispose()  # PostgreSQL's smart shutdown waits for pooled connections


def test_balayage_complet_hote_arrete_et_magasin(territoire, boucle, magasin):
    boucle.arreter(boucle.adresses[1])
    try:
        bilan = lancer(territoire, Selection(noms=POSTES), choisir(None), magasin,
                       ParametresSsh(cle=boucle.cle, known_hosts=boucle.known_hosts), parallele=2,
                       transformer=vers_boucle(boucle))  # fmt: skip
    finally:
        boucle.demarrer(boucle.adresses[1])
    par_nom = {r.hote: r for r in bilan.resultats}
    bas = par_nom["pc-jean-jaures-08"]
    assert (
        bas.statut is StatutHote.injoignable
        and "ne répond pas" in bas.raison
        and "connexion refusée" in bas.raison
    )
    for nom in ("pc-jean-jaures-07", "pc-jean-jaures-09"):
        r = par_nom[nom]
        assert r.statut is StatutHote.ok
        noms = {v.nom for v in r.verifications}
        # every remote check answered from its own section (none "interrompue"); battery: desktop PCs
        assert noms == set(n for n in (c.nom for c in choisir(None)) if n not in ("batterie", "joignabilite"))
        assert not [v for v in r.verifications if "interrompue" in v.message]
        assert {v.nom: v.niveau for v in r.verifications}["disque"] in (
            Niveau.OK,
            Niveau.ATTENTION,
            Niveau.CRITIQUE,
        )
    ecrit = lignes(magasin, hotes=list(POSTES))
    ecrit = [lg for lg in ecrit if lg.execution_id == bilan.execution_id]
    assert sorted(lg.hote for lg in ecrit) == sorted(POSTES)
    assert {lg.hote: lg.statut for lg in ecrit}["pc-jean-jaures-08"] == "injoignable"
    assert len([lg for lg in ecrit if lg.hote == "pc-jean-jaures-07"][0].verifications) >= 12
    with magasin.session() as s:
        ex = s.get(Execution, bilan.execution_id)
        assert ex.statut == "termine" and ex.resume["ecoles"][0]["injoignables"] == 1


def _cibles(territoire, boucle, n=3) -> list[Cible]:
    from ardoise.maintenance.cibles import cibles

    return vers_boucle(boucle)(cibles(territoire, Selection(noms=POSTES[:n])))


def test_cles_d_hote_strictes(territoire, boucle, tmp_path):
    kh = tmp_path / "known_hosts"
    lignes_kh = boucle.known_hosts.read_text().splitlines(keepends=True)
    autre = lignes_kh[3].split()[1:]  # host 4's key, claimed for host 1: a CHANGED key
    kh.write_text(f"[{boucle.adresses[0]}]:{PORT} {' '.join(autre)}\n" + lignes_kh[1])  # host 3: unknown
    ctrl = choisir(["nom_hote"])
    r1, r2, r3 = Balayage(ctrl, ParametresSsh(cle=boucle.cle, known_hosts=kh)).executer(
        _cibles(territoire, boucle)
    )
    assert r1.statut is StatutHote.refuse and "a CHANGÉ" in r1.raison and "ssh-keygen -R" in r1.raison
    assert r2.statut is StatutHote.ok
    assert (
        r3.statut is StatutHote.refuse
        and "inconnue" in r3.raison
        and "--accepter-nouvelles-cles" in r3.raison
    )
    # trust on first use: the unknown host is accepted and remembered, the changed key is still refused
    r1, r2, r3 = Balayage(
        ctrl, ParametresSsh(cle=boucle.cle, known_hosts=kh, accepter_nouvelles_cles=True)
    ).executer(_cibles(territoire, boucle))
    assert (r1.statut, r2.statut, r3.statut) == (StatutHote.refuse, StatutHote.ok, StatutHote.ok)
    assert f"[{boucle.adresses[2]}]:{PORT} ssh-ed25519" in kh.read_text()
    r3 = Balayage(ctrl, ParametresSsh(cle=boucle.cle, known_hosts=kh)).executer(_cibles(territoire, boucle))[
        2
    ]
    assert r3.statut is StatutHote.ok


def test_authentification_refusee(territoire, boucle, tmp_path):
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "intrus")], check=True
    )
    r = Balayage(
        choisir(["disque"]), ParametresSsh(cle=tmp_path / "intrus", known_hosts=boucle.known_hosts)
    ).executer(_cibles(territoire, boucle, 1))[0]
    assert r.statut is StatutHote.refuse and "authentification refusée" in r.raison


def _lent(noms: set[str], secondes: int) -> Controle:
    return Controle("lenteur", "Lenteur simulée", lambda s, _c: Controle("lenteur", "", lambda *_: None).resultat(Niveau.OK, s.texte),
                    script=lambda c: f"sleep {secondes if c.nom in noms else 0}; echo fini")  # fmt: skip


def test_hote_lent_delai_par_hote(territoire, boucle):
    debut = time.monotonic()
    r1, r2 = Balayage([_lent({"pc-jean-jaures-07"}, 60)], ParametresSsh(cle=boucle.cle, known_hosts=boucle.known_hosts,
                      delai_hote=2)).executer(_cibles(territoire, boucle, 2))  # fmt: skip
    assert r1.statut is StatutHote.echec and r1.etape == "delai" and "n'a pas répondu en 2 s" in r1.raison
    assert r2.statut is StatutHote.ok and r2.verifications[0].message.strip() == "fini"
    assert time.monotonic() - debut < 30


ENFANT = textwrap.dedent("""
    import sys, json
    from pathlib import Path
    sys.path.insert(0, {racine!r})
    from ardoise.inventaire.chargeur import charger
    from ardoise.inventaire.selection import Selection
    from ardoise.maintenance.execution import lancer
    from ardoise.maintenance.moteur import ParametresSsh
    from ardoise.resultats.magasin import Magasin
    from tests.integration.maintenance.test_boucle import _lent, vers_boucle
    from tests.boucle_sshd import Boucle
    p = json.loads(sys.argv[1])
    b = Boucle(Path(p["dossier"]), p["adresses"], Path(p["cle"]), Path(p["kh"]))
    def progression(a):
        print(f"fait {{a.faits}}", flush=True)
    lancer(charger(Path({racine!r}) / "inventaire"), Selection(noms=tuple(p["postes"])),
           [_lent({{"pc-jean-jaures-09", "pc-jean-jaures-10"}}, 120)], Magasin(p["base"]),
           ParametresSsh(cle=b.cle, known_hosts=b.known_hosts), parallele=4, progression=progression,
           transformer=vers_boucle(b))
""")


def test_execution_tuee_garde_les_hotes_finis(territoire, boucle, tmp_path):
    base = f"sqlite:///{tmp_path}/tuee.sqlite"
    postes = [*POSTES, "pc-jean-jaures-10"]
    params = {"dossier": str(boucle.dossier), "adresses": boucle.adresses, "cle": str(boucle.cle),
              "kh": str(boucle.known_hosts), "base": base, "postes": postes}  # fmt: skip
    enfant = subprocess.Popen([sys.executable, "-c", ENFANT.format(racine=str(RACINE)), json.dumps(params)],
                              stdout=subprocess.PIPE, text=True, cwd=RACINE)  # fmt: skip
    vus = []
    for ligne in enfant.stdout:
        vus.append(ligne.strip())
        if ligne.startswith("fait 2"):
            break
    os.kill(enfant.pid, signal.SIGKILL)  # no cleanup, no "terminer"
    enfant.wait(timeout=30)
    assert vus[-1] == "fait 2", vus
    m = Magasin(base)
    ecrit = lignes(m)
    assert sorted(lg.hote for lg in ecrit) == ["pc-jean-jaures-07", "pc-jean-jaures-08"]
    assert all(lg.statut == "ok" and lg.verifications for lg in ecrit)
    assert [e.statut for e in m.executions("maintenance")] == ["en_cours"]
