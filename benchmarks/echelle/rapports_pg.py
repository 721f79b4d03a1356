"""Maintenance reports on PostgreSQL with 50,000 devices × 30 sweeps: per school, per commune, then after retention.

The territory is the synthetic one of ``benchmarks/inventaire/generer.py`` (1,000 schools of 50 devices,
20 schools per commune); the history is written by ``tests/historique_synthetique.py`` (COPY through
psycopg) into a private PostgreSQL server (``tests/postgresql.py``) unless ``--base`` names one.

Usage::

    .venv/bin/python benchmarks/inventaire/generer.py /tmp/ardoise-bench
    .venv/bin/python benchmarks/echelle/rapports_pg.py /tmp/ardoise-bench [--passages 30] [--garder 7]

Prints each figure as it comes and writes ``benchmarks/echelle/rapports_pg.json`` and the query plans
(``EXPLAIN (ANALYZE, BUFFERS)``) to ``benchmarks/echelle/plans_pg.txt``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(RACINE))

from sqlalchemy import text  # noqa: E402

from ardoise.inventaire.cache import charger_avec_cache  # noqa: E402
from ardoise.inventaire.selection import Selection  # noqa: E402
from ardoise.maintenance import rapport, retention  # noqa: E402
from ardoise.maintenance.historique import derniers_etats, lignes, requete_comptes, requete_derniers  # noqa: E402
from ardoise.resultats.magasin import Magasin  # noqa: E402
from tests.historique_synthetique import compter, generer  # noqa: E402
from tests.postgresql import serveur_postgresql  # noqa: E402

ICI = Path(__file__).parent
REPETITIONS = 3


def noter(resultats: dict, cle: str, valeur) -> None:
    resultats[cle] = valeur
    print(f"{cle:45s} {valeur}", flush=True)


def chrono(f, n: int = REPETITIONS) -> tuple[float, object]:
    """Best and median of ``n`` runs (seconds), and the last value."""
    durees, valeur = [], None
    for _ in range(n):
        debut = time.perf_counter()
        valeur = f()
        durees.append(time.perf_counter() - debut)
    return round(statistics.median(durees), 3), valeur


def plans(magasin: Magasin, uais: dict[str, list[str]]) -> str:
    sortie = []
    with magasin.moteur.connect() as c:
        for nom, uai in uais.items():
            for titre, req in (("derniers", requete_derniers(uai)), ("comptes", requete_comptes(uai))):
                sql = req.compile(magasin.moteur, compile_kwargs={"literal_binds": True})
                plan = "\n".join(r[0] for r in c.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")))
                sortie.append(f"== {nom} : {titre} ==\n{plan}\n")
    return "\n".join(sortie)


def _html(t, sel: Selection, magasin: Magasin) -> rapport.Rapport:
    """A whole report as the CLI makes it: the queries, then the HTML page."""
    r = rapport.construire(t, sel, magasin)
    rapport.en_html(r)
    return r


def rapports(t, magasin: Magasin, ecoles: list[str], communes: list[str], res: dict, suffixe: str) -> None:
    for i, uai in enumerate(ecoles):
        sel = Selection(ecoles=(uai,)).verifier(t)
        duree, r = chrono(lambda sel=sel: _html(t, sel, magasin))
        noter(res, f"rapport_ecole_{i}{suffixe}_s", duree)
        duree, r = chrono(lambda sel=sel: rapport.construire(t, sel, magasin))
        noter(res, f"rapport_ecole_{i}{suffixe}_requetes_s", duree)
    for i, c in enumerate(communes):
        sel = Selection(communes=(c,)).verifier(t)
        duree, r = chrono(lambda sel=sel: _html(t, sel, magasin))
        noter(res, f"rapport_commune_{i}{suffixe}_s", duree)
        duree, r = chrono(lambda sel=sel: rapport.construire(t, sel, magasin))
        noter(res, f"rapport_commune_{i}{suffixe}_requetes_s", duree)
        noter(res, f"rapport_commune_{i}{suffixe}_appareils", sum(len(e.appareils) for e in r.ecoles))
        noter(res, f"rapport_commune_{i}{suffixe}_points_tendance", len(r.ecoles[0].tendance))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("territoire", type=Path, help="dossier écrit par benchmarks/inventaire/generer.py")
    p.add_argument("--passages", type=int, default=30)
    p.add_argument("--garder", type=int, default=7)
    p.add_argument("--base", help="URL PostgreSQL (défaut : un serveur privé démarré ici)")
    a = p.parse_args()
    res: dict = {"charge_debut": round(os.getloadavg()[0], 1)}
    debut = time.perf_counter()
    t = charger_avec_cache(a.territoire / "inventaire")
    noter(res, "territoire_chargement_s", round(time.perf_counter() - debut, 1))
    ecoles = [(e.uai, e.commune) for e in t.ecoles]
    par_ecole = sum(1 for _ in t.equipements()) // len(t.ecoles)
    noter(res, "ecoles", len(ecoles))
    with serveur_postgresql() if not a.base else nullcontext(a.base) as url:
        magasin = Magasin(url)
        jour0 = dt.datetime.combine(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=a.passages - 1), dt.time(2),
                                    dt.UTC)  # fmt: skip
        debut = time.perf_counter()
        volume = generer(magasin, ecoles, 50, a.passages, jour0)
        noter(res, "generation_s", round(time.perf_counter() - debut, 1))
        noter(res, "volume", volume.__dict__)
        with magasin.moteur.connect() as c:
            taille = c.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar()
        noter(res, "taille_base", taille)
        noter(res, "appareils_par_ecole_manifeste", par_ecole)
        communes = sorted({c for _, c in ecoles})
        echantillon_ecoles = [ecoles[0][0], ecoles[len(ecoles) // 2][0], ecoles[-1][0]]
        echantillon_communes = [communes[0], communes[len(communes) // 2], communes[-1]]
        rapports(t, magasin, echantillon_ecoles, echantillon_communes, res, "")
        uai_commune = [u for u, c in ecoles if c == echantillon_communes[0]]
        duree, _ = chrono(lambda: derniers_etats(lignes(magasin, uai=uai_commune)), 1)
        noter(res, "ancienne_lecture_commune_s", duree)  # the pre-0004 way: the whole history in Python
        (ICI / "plans_pg.txt").write_text(
            plans(magasin, {"école": [echantillon_ecoles[0]], "commune": uai_commune})
        )
        sel_tout = Selection().verifier(t)
        duree, _ = chrono(lambda: rapport.en_json(rapport.construire(t, sel_tout, magasin)), 1)
        noter(res, "rapport_territoire_entier_s", duree)
        debut = time.perf_counter()
        bilan = retention.purger(magasin, a.garder)
        noter(res, "purge_s", round(time.perf_counter() - debut, 1))
        noter(res, "purge", {k: v for k, v in bilan.__dict__.items() if k != "limite"})
        with magasin.moteur.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
        noter(res, "apres_purge", compter(magasin))
        debut = time.perf_counter()
        encore = retention.purger(magasin, a.garder)
        noter(res, "purge_2_s", round(time.perf_counter() - debut, 1))
        noter(res, "purge_2_resultats", encore.resultats)
        rapports(t, magasin, echantillon_ecoles, echantillon_communes, res, "_apres_purge")
    res["charge_fin"] = round(os.getloadavg()[0], 1)
    (ICI / "rapports_pg.json").write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
