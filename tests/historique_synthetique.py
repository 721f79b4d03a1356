"""A synthetic maintenance history in the results store: schools × devices × sweeps, written fast.

PostgreSQL: ``COPY … FROM STDIN`` through psycopg (tab-separated blocks, no ORM object); SQLite:
executemany of plain rows. Used by the retention/report tests (small) and ``benchmarks/echelle``
(50,000 devices × 30 sweeps). Deterministic for a given seed: each device has its own odds of being
down or having a warning/critical check, so reports have something to show.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, insert, select, text

from ardoise.maintenance.catalogue import catalogue
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne, VerificationLigne

CONTROLES = [c.nom for c in catalogue().values() if c.script is not None]
MESSAGES = {"OK": "conforme", "ATTENTION": "à surveiller", "CRITIQUE": "à corriger"}


@dataclass
class Volume:
    executions: int = 0
    resultats: int = 0
    verifications: int = 0


def nom_hote(uai: str, i: int) -> str:
    return f"pc-{uai.lower()}-{i:03d}"


def _lignes(
    ecoles: list[tuple[str, str]], appareils: int, passages: int, debut: dt.datetime, pas: dt.timedelta,
    graine: int, ids: tuple[int, int, int],
) -> Iterator[tuple[str, tuple]]:  # fmt: skip
    """("executions"|"resultats_hotes"|"verifications", row) in insertion order."""
    hasard = random.Random(graine)
    ex_id, r_id, v_id = ids
    profils = {}
    for uai, _ in ecoles:
        for i in range(appareils):
            # per device odds: down, critical, warning (a few devices are chronically bad)
            mauvais = hasard.random() < 0.05
            profils[(uai, i)] = (0.3 if mauvais else 0.02, 0.2 if mauvais else 0.01, 0.05)
    total = len(ecoles) * appareils
    for k in range(passages):
        ex_id += 1
        t0 = debut + k * pas
        yield "executions", (ex_id, "maintenance", t0, t0 + dt.timedelta(hours=2), "termine", "synthese")
        n = 0
        for uai, commune in ecoles:
            for i in range(appareils):
                r_id += 1
                n += 1
                h = t0 + dt.timedelta(seconds=7200 * n / total)
                p_bas, p_crit, p_att = profils[(uai, i)]
                tirage = hasard.random()
                if tirage < p_bas:
                    yield "resultats_hotes", (r_id, ex_id, nom_hote(uai, i), uai, commune, "injoignable",
                                              "injoignable", "connexion", "le poste ne répond pas", 10.0, h)  # fmt: skip
                    continue
                etat = (
                    "CRITIQUE"
                    if tirage < p_bas + p_crit
                    else "ATTENTION"
                    if tirage < p_bas + p_crit + p_att
                    else "OK"
                )
                yield (
                    "resultats_hotes",
                    (r_id, ex_id, nom_hote(uai, i), uai, commune, "ok", etat, None, None, 1.5, h),
                )
                mauvais = CONTROLES[(r_id * 7) % len(CONTROLES)]
                for nom in CONTROLES:
                    v_id += 1
                    niveau = etat if nom == mauvais else "OK"
                    yield "verifications", (v_id, r_id, nom, niveau, f"{nom} : {MESSAGES[niveau]}", None)


COLONNES = {
    "executions": ("id", "genre", "debut", "fin", "statut", "utilisateur"),
    "resultats_hotes": (
        "id",
        "execution_id",
        "hote",
        "uai",
        "commune",
        "statut",
        "etat",
        "etape",
        "raison",
        "duree_s",
        "horodatage",
    ),  # fmt: skip
    "verifications": ("id", "resultat_id", "nom", "niveau", "message", "valeur"),
}
FIXES = {  # NOT NULL columns the generator does not vary
    "executions": {"selection": "{}", "resume": "{}"},
    "resultats_hotes": {"change": False, "details": "{}"},
    "verifications": {"mesures": "{}"},
}


def _ids(magasin: Magasin) -> tuple[int, int, int]:
    with magasin.session() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.coalesce(func.max(m.id), 0)))
            for m in (Execution, ResultatHoteLigne, VerificationLigne)
        )


def generer(
    magasin: Magasin,
    ecoles: list[tuple[str, str]],
    appareils: int,
    passages: int,
    debut: dt.datetime,
    pas: dt.timedelta = dt.timedelta(days=1),
    graine: int = 13,
) -> Volume:
    """Append ``passages`` sweeps of ``appareils`` devices in each ``(uai, commune)`` school."""
    lignes = _lignes(ecoles, appareils, passages, debut, pas, graine, _ids(magasin))
    if magasin.moteur.dialect.name == "postgresql":
        return _copier(magasin, lignes)
    return _inserer(magasin, lignes)


def _inserer(magasin: Magasin, lignes: Iterator[tuple[str, tuple]]) -> Volume:
    tables = {"executions": Execution.__table__, "resultats_hotes": ResultatHoteLigne.__table__,
              "verifications": VerificationLigne.__table__}  # fmt: skip
    paquets: dict[str, list[dict]] = {t: [] for t in tables}
    for table, ligne in lignes:
        json_vides = {k: {} if v == "{}" else v for k, v in FIXES[table].items()}  # JSON columns: a dict
        paquets[table].append({**dict(zip(COLONNES[table], ligne, strict=True)), **json_vides})
    with magasin.moteur.begin() as c:
        for table, rangs in paquets.items():
            for i in range(0, len(rangs), 5000):
                c.execute(insert(tables[table]), rangs[i : i + 5000])
    return Volume(*(len(paquets[t]) for t in ("executions", "resultats_hotes", "verifications")))


def _champ(v) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, dt.datetime):
        return v.isoformat()
    if isinstance(v, bool):
        return "t" if v else "f"
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _copier(magasin: Magasin, lignes: Iterator[tuple[str, tuple]]) -> Volume:
    """COPY the three tables in blocks (text format), then move the id sequences and ANALYZE."""
    volume = Volume()
    tampons = {t: io.StringIO() for t in COLONNES}
    fixes = {t: "\t".join(_champ(v) for v in FIXES[t].values()) for t in COLONNES}
    compte = {t: 0 for t in COLONNES}
    brut = magasin.moteur.raw_connection()
    try:
        cur = brut.cursor()

        def vider(table: str) -> None:
            colonnes = ", ".join((*COLONNES[table], *FIXES[table]))
            with cur.copy(f"COPY {table} ({colonnes}) FROM STDIN") as cp:
                cp.write(tampons[table].getvalue())
            tampons[table] = io.StringIO()

        n = 0
        for table, ligne in lignes:
            tampons[table].write("\t".join(map(_champ, ligne)) + "\t" + fixes[table] + "\n")
            compte[table] += 1
            n += 1
            if n % 500_000 == 0:
                for t in COLONNES:  # parents first: results reference runs, checks reference results
                    vider(t)
        for t in COLONNES:
            vider(t)
        for table in COLONNES:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        brut.commit()
    finally:
        brut.close()
    with magasin.moteur.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE executions, resultats_hotes, verifications"))
    volume.executions, volume.resultats, volume.verifications = (
        compte["executions"], compte["resultats_hotes"], compte["verifications"])  # fmt: skip
    return volume


def compter(magasin: Magasin) -> dict[str, int]:
    """Rows per table of the history (for before/after assertions)."""
    with magasin.moteur.connect() as c:
        return {
            t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("executions", "resultats_hotes", "verifications", "resumes_quotidiens")
        }
