"""The results store on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin
from ardoise.secrets import Secret


@pytest.fixture(params=["sqlite", "postgresql"])
def magasin(request, tmp_path: Path) -> Magasin:
    if request.param == "sqlite":
        return Magasin(f"sqlite:///{tmp_path}/resultats.sqlite")
    url = request.getfixturevalue("url_postgresql")
    m = Magasin(url)
    with m.moteur.begin() as c:  # each test starts from empty tables
        c.execute(
            text("TRUNCATE executions, resultats_hotes, verifications, etats_appareils, evenements CASCADE")
        )
    return m


def test_schema_cree_par_migration_et_migration_idempotente(magasin: Magasin):
    tables = set(inspect(magasin.moteur).get_table_names())
    assert {
        "executions",
        "resultats_hotes",
        "verifications",
        "etats_appareils",
        "evenements",
        "alembic_version",
    } <= tables
    Magasin(magasin.url)  # a second open migrates nothing and does not fail
    with magasin.moteur.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == _tete()


def _tete() -> str:
    """The newest migration (each domain adds its own)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from ardoise.resultats.magasin import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def test_un_lot_ecrit_hote_par_hote_avec_verifications(magasin: Magasin):
    ex = magasin.commencer("atelier", {"ecole": "0331101T"}, utilisateur="tech1", lot="lot-1")
    magasin.enregistrer(ex, ResultatHote("pc-a", StatutHote.ok, change=True, duree_s=12.5, verifications=[
        Verification("disque", "Espace disque", Niveau.OK, "82 % libres", mesures={"libre_pct": 82.0})]),
        uai="0331101T", commune="bellerive")  # fmt: skip
    # a second host written later: the first one is already there even if the run is killed now
    assert [r.hote for r in magasin.resultats(ex)] == ["pc-a"]
    magasin.enregistrer(
        ex, ResultatHote("pc-b", StatutHote.injoignable, etape="connexion", raison="hôte éteint")
    )
    magasin.terminer(ex, resume={"ok": 1, "echec": 1})
    lignes = magasin.resultats(ex)
    assert [(r.hote, r.statut, r.etape) for r in lignes] == [
        ("pc-a", "ok", None),
        ("pc-b", "injoignable", "connexion"),
    ]
    (execution,) = magasin.executions("atelier")
    assert execution.statut == "termine" and execution.resume == {"ok": 1, "echec": 1}
    assert execution.utilisateur == "tech1" and execution.fin is not None


def test_etats_des_appareils(magasin: Magasin):
    magasin.definir_etat("pc-a", "atelier")
    magasin.definir_etat("pc-a", "echec", etape="ardoise_antivirus", raison="clamd ne répond pas")
    magasin.definir_etat("pc-b", "pret")
    etats = magasin.etats()
    assert etats["pc-a"]["etat"] == "echec" and etats["pc-a"]["etape"] == "ardoise_antivirus"
    assert magasin.etats(["pc-b"]) == {"pc-b": etats["pc-b"]}


def test_aucun_secret_n_atteint_la_base(magasin: Magasin):
    s = Secret("wifi_psk", "canari-PSK-7f3e9a")
    ex = magasin.commencer("reseau")
    magasin.enregistrer(ex, ResultatHote("sw-1", StatutHote.echec, raison=f"push refusé : {s.reveler()}",
                                         diff=f"+ username ardoise secret {s.reveler()}",
                                         details={"sortie": [f"psk {s.reveler()}"]}))  # fmt: skip
    magasin.journaliser("appliquer", "echec", cible="sw-1", details={"commande": s.reveler()}, qui="tech")
    with magasin.moteur.connect() as c:
        for table in ("resultats_hotes", "evenements"):
            for ligne in c.execute(text(f"SELECT * FROM {table}")):
                assert "canari-PSK-7f3e9a" not in str(ligne)


def _ecrire(url: str, nom: str, n: int) -> None:
    m = Magasin(url)
    ex = m.commencer("maintenance", lot=nom)
    for i in range(n):
        m.enregistrer(ex, ResultatHote(f"{nom}-{i}", StatutHote.ok))
    m.terminer(ex)


def test_deux_processus_ecrivent_en_meme_temps_sans_rien_perdre(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/partage.sqlite"
    Magasin(url)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_ecrire, args=(url, nom, 60)) for nom in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    m = Magasin(url)
    assert sorted(len(m.resultats(e.id)) for e in m.executions("maintenance")) == [60, 60]
