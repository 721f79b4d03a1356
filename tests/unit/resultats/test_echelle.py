"""Results at scale: the retention policy and the report queries, on real SQLite and real PostgreSQL.

Timings on 50,000 devices × 30 sweeps are in ``benchmarks/echelle`` (not here); these tests check
behaviour: what the purge keeps and deletes, that reports say the same before and after, that it is
idempotent, and that PostgreSQL answers a per-school report from the indexes (no sequential scan of
the big tables).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text, update

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.maintenance import rapport, retention
from ardoise.maintenance.historique import (
    dernieres_reussites,
    derniers,
    derniers_etats,
    lignes,
    requete_comptes,
    requete_derniers,
)
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne
from tests.historique_synthetique import compter, generer

RACINE = Path(__file__).resolve().parents[3]
ARDOISE = Path(sys.executable).with_name("ardoise")
JOURS, GARDER, APPAREILS = 12, 5, 6
# sweeps at 02:00 UTC on days -11 … 0; the limit is midnight UTC of day -5: days -5 … 0 keep their detail
ANCIENS, RECENTS = JOURS - GARDER - 1, GARDER + 1
TABLES = "executions, resultats_hotes, verifications, etats_appareils, evenements, resumes_quotidiens"


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


@pytest.fixture(params=["sqlite", "postgresql"])
def magasin(request, tmp_path: Path) -> Magasin:
    if request.param == "sqlite":
        return Magasin(f"sqlite:///{tmp_path}/resultats.sqlite")
    m = Magasin(request.getfixturevalue("url_postgresql"))
    with m.moteur.begin() as c:
        c.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    return m


def _jour(n: int) -> dt.datetime:
    """02:00 UTC, ``n`` days ago."""
    return dt.datetime.combine(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n), dt.time(2), dt.UTC)


def _passage(magasin: Magasin, il_y_a: int, hote: str, statut: StatutHote) -> None:
    """One extra sweep of a single device, ``il_y_a`` days ago."""
    ex = magasin.commencer("maintenance")
    magasin.enregistrer(ex, ResultatHote(hote, statut, raison=None if statut is StatutHote.ok else "ne répond pas"),
                        uai="0331101T", commune="bellerive")  # fmt: skip
    magasin.terminer(ex)
    quand = _jour(il_y_a) + dt.timedelta(hours=3)
    with magasin.session() as s:
        s.execute(update(Execution).where(Execution.id == ex).values(debut=quand))
        s.execute(
            update(ResultatHoteLigne).where(ResultatHoteLigne.execution_id == ex).values(horodatage=quand)
        )


def _remplir(magasin: Magasin, territoire) -> list[str]:
    ecoles = [(e.uai, e.commune) for e in territoire.ecoles]
    generer(magasin, ecoles, APPAREILS, JOURS, _jour(JOURS - 1))
    # a device last seen well before the retention limit, and one down ever since
    _passage(magasin, 10, "pc-retire", StatutHote.ok)
    _passage(magasin, 9, "pc-en-panne", StatutHote.ok)
    _passage(magasin, 2, "pc-en-panne", StatutHote.injoignable)
    return [u for u, _ in ecoles]


def _par_jour(points: list[rapport.Point]) -> dict[dt.date, tuple[int, int, int, int]]:
    """The trend summed per day (summarised days have one point per day instead of one per run)."""
    jours: dict[dt.date, tuple[int, int, int, int]] = {}
    for p in points:
        a = jours.get(p.date.date(), (0, 0, 0, 0))
        jours[p.date.date()] = (a[0] + p.ok, a[1] + p.attention, a[2] + p.critique, a[3] + p.injoignable)
    return jours


def _vue(r: rapport.Rapport) -> list:
    """What a reader sees: per school the counts, the devices to visit, every device's state, the trend."""
    return [(e.uai, e.compte, e.a_visiter, [(a["nom"], a["etat"], a["verifications"]) for a in e.appareils],
             _par_jour(e.tendance)) for e in r.ecoles]  # fmt: skip


def test_retention_summarises_old_days_keeps_the_reports_and_is_idempotent(
    magasin: Magasin, territoire
) -> None:
    uais = _remplir(magasin, territoire)
    selections = [Selection(communes=("bellerive",)), Selection(ecoles=("0333301J",)), Selection()]
    avant_rapports = [
        _vue(rapport.construire(territoire, s.verifier(territoire), magasin)) for s in selections
    ]
    hotes = [f"pc-{u.lower()}-{i:03d}" for u in uais for i in range(APPAREILS)] + ["pc-retire", "pc-en-panne"]
    avant_reussites = dernieres_reussites(magasin, hotes)
    avant = compter(magasin)
    assert avant["resultats_hotes"] == len(uais) * APPAREILS * JOURS + 3 and avant["resumes_quotidiens"] == 0

    bilan = retention.purger(magasin, GARDER)

    apres = compter(magasin)
    # one summary per device and old day; pc-retire (-10 d) and pc-en-panne (-9 d) add one each
    assert bilan.resumes == apres["resumes_quotidiens"] == len(uais) * APPAREILS * ANCIENS + 2
    assert apres["resultats_hotes"] == avant["resultats_hotes"] - bilan.resultats
    assert apres["verifications"] == avant["verifications"] - bilan.verifications > 0
    # kept: every recent result, plus the latest (pc-retire) and latest successful (pc-en-panne) old ones
    assert apres["resultats_hotes"] == len(uais) * APPAREILS * RECENTS + 1 + 2
    # old sweeps are deleted once empty; the two single-device runs still hold a kept result
    assert bilan.executions == ANCIENS and apres["executions"] == avant["executions"] - ANCIENS
    # the reports say exactly the same: latest states, devices to visit, per-day trend
    assert [
        _vue(rapport.construire(territoire, s.verifier(territoire), magasin)) for s in selections
    ] == avant_rapports
    assert dernieres_reussites(magasin, hotes) == avant_reussites
    assert "pc-retire" in avant_reussites and "pc-en-panne" in avant_reussites

    # idempotent: nothing added, nothing deleted the second time
    encore = retention.purger(magasin, GARDER)
    assert (encore.resumes, encore.resultats, encore.verifications, encore.executions) == (0, 0, 0, 0)
    assert compter(magasin) == apres


def test_migration_0004_fills_the_state_and_goes_back_without_losing_checks(magasin: Magasin) -> None:
    from alembic import command
    from alembic.config import Config

    from ardoise.resultats.magasin import MIGRATIONS

    ex = magasin.commencer("maintenance")
    for hote, statut, niveaux in (
        ("a", StatutHote.ok, ["CRITIQUE", "ATTENTION"]),
        ("b", StatutHote.ok, ["ATTENTION"]),
        ("c", StatutHote.injoignable, []),
        ("d", StatutHote.ok, ["INCONNU", "OK"]),
    ):
        magasin.enregistrer(ex, ResultatHote(hote, statut, verifications=[
            Verification(n, n, Niveau(n), "…") for n in niveaux]))  # fmt: skip
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))

    def etats() -> list:
        with magasin.moteur.connect() as c:
            return c.execute(text("SELECT hote, etat FROM resultats_hotes ORDER BY hote")).all()

    attendu = [("a", "CRITIQUE"), ("b", "ATTENTION"), ("c", "injoignable"), ("d", "OK")]
    assert etats() == attendu
    with magasin.moteur.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0003")
    assert compter_verifications(magasin) == 5
    magasin.migrer()  # back to 0004: the state is computed again from the checks
    assert etats() == attendu and compter_verifications(magasin) == 5


def compter_verifications(magasin: Magasin) -> int:
    with magasin.moteur.connect() as c:
        return c.execute(text("SELECT count(*) FROM verifications")).scalar_one()


def test_purger_from_the_command_line(tmp_path: Path, territoire) -> None:
    base = f"sqlite:///{tmp_path}/r.sqlite"
    _remplir(Magasin(base), territoire)
    env = {**os.environ, "ARDOISE_BASE": base}

    def purger(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(ARDOISE), "maintenance", "purger", *args], capture_output=True, text=True,
                              env=env, timeout=120)  # fmt: skip

    r = purger("--garder", str(GARDER), "--format", "json")
    assert r.returncode == 0, r.stderr
    lignes_ = {d["element"]: d["valeur"] for d in json.loads(r.stdout)}
    assert lignes_["résultats supprimés"] > 0 and lignes_["résumés quotidiens ajoutés"] > 0
    r = purger("--garder", "0")
    assert r.returncode != 0 and "--garder" in r.stderr and "Traceback" not in r.stderr


def test_reports_of_postgresql_use_the_indexes(url_postgresql: str) -> None:
    """A per-school and a per-commune report on 30 schools × 20 devices × 15 sweeps: no Seq Scan on big tables."""
    magasin = Magasin(url_postgresql)
    with magasin.moteur.begin() as c:
        c.execute(text(f"TRUNCATE {TABLES} CASCADE"))
    ecoles = [(f"09{i:05d}Z", f"commune-{i // 10}") for i in range(30)]
    volume = generer(magasin, ecoles, 20, 15, _jour(15))
    assert volume.resultats == 30 * 20 * 15
    une, commune = [ecoles[7][0]], [u for u, c in ecoles if c == "commune-2"]
    with magasin.moteur.connect() as c:
        for uai in (une, commune):
            for req in (requete_derniers(uai), requete_comptes(uai)):
                sql = req.compile(magasin.moteur, compile_kwargs={"literal_binds": True})
                plan = "\n".join(r[0] for r in c.execute(text(f"EXPLAIN {sql}")))
                assert "Seq Scan on resultats_hotes" not in plan, plan
                assert "Index" in plan and "ix_resultats_uai_" in plan, plan
        ids = [lg.execution_id for lg in derniers(magasin, une)]
        plan = "\n".join(r[0] for r in c.execute(text(
            "EXPLAIN SELECT * FROM verifications WHERE resultat_id IN (SELECT id FROM resultats_hotes "
            f"WHERE uai = '{une[0]}' AND execution_id = {max(ids)})")))  # fmt: skip
        assert "Seq Scan on verifications" not in plan, plan
    # and the answer is the one of the plain (history-wide) reading
    reference = derniers_etats(lignes(magasin, uai=une))
    obtenu = {lg.hote: lg for lg in derniers(magasin, une)}
    assert len(obtenu) == 20
    assert {h: (lg.execution_id, lg.statut, lg.verifications) for h, lg in obtenu.items()} == {
        h: (lg.execution_id, lg.statut, lg.verifications) for h, lg in reference.items()
    }
