"""Scale curve of a maintenance sweep from one control host: 100, 500, 1,000 hosts, then the line to 50,000.

100 real sshd on loopback (``tests/boucle_sshd.py``, ``127.0.93.1``–``.100``); 500 and 1,000 hosts are the
same sshd under 5 and 10 host names each (one connection, one batched command, one store write per name).
Each sweep runs in a child process so that its figures are the control host's alone: wall time, CPU
(user + system of the sweeping process, sshd and the checks themselves excluded) and peak RSS. The load
average of the machine is noted before and after each sweep (every "host" is this machine: the checks'
own CPU competes with the control process, which makes the wall times pessimistic).

Run as root: ``.venv/bin/python benchmarks/echelle/balayage.py [--tailles 100,500,1000] [--base URL]``.
Prints one JSON object per sweep, then the extrapolation, and writes both to
``benchmarks/echelle/balayage.json`` (or ``--sortie``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(RACINE))

from benchmarks.maintenance.mesurer import PARALLELE, cibles, plancher  # noqa: E402
from tests.boucle_sshd import boucle_sshd  # noqa: E402

CIBLE = 50_000
SSHD = 100


def _charge() -> float:
    return round(os.getloadavg()[0], 2)


def enfant(d: dict) -> None:
    """Child mode: one sweep of len(adresses) × par_adresse hosts into the store ``base``."""
    from ardoise.maintenance.catalogue import choisir
    from ardoise.maintenance.moteur import Balayage, ParametresSsh
    from ardoise.resultats.magasin import Magasin

    cs = cibles(d["adresses"], d["par_adresse"])
    magasin = Magasin(d["base"])
    ex = magasin.commencer("maintenance", selection={"bench": len(cs)})
    b = Balayage(choisir(None), ParametresSsh(cle=Path(d["cle"]), known_hosts=Path(d["kh"])), parallele=PARALLELE,
                 ecrire=lambda c, r: magasin.enregistrer(ex, r, c.uai, c.commune))  # fmt: skip
    avant = resource.getrusage(resource.RUSAGE_SELF)
    debut = time.perf_counter()
    rs = b.executer(cs)
    duree = time.perf_counter() - debut
    apres = resource.getrusage(resource.RUSAGE_SELF)
    magasin.terminer(ex)
    cpu = (apres.ru_utime - avant.ru_utime) + (apres.ru_stime - avant.ru_stime)
    durees = sorted(r.duree_s for r in rs)
    print(json.dumps({"hotes": len(cs), "mur_s": round(duree, 1), "cpu_s": round(cpu, 2),
                      "pic_mo": round(apres.ru_maxrss / 1024), "echecs": sum(r.echoue for r in rs),
                      "duree_hote_mediane_s": round(durees[len(durees) // 2], 2)}))  # fmt: skip


def droite(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least-squares line y = a + b·x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b


def extrapoler(points: list[dict]) -> dict:
    xs = [p["hotes"] for p in points]
    res: dict = {"hotes": CIBLE}
    for cle in ("mur_s", "cpu_s", "pic_mo"):
        a, b = droite(xs, [p[cle] for p in points])
        res[cle] = round(a + b * CIBLE)
        res[f"{cle}_par_hote"] = round(b, 5)
        res[f"{cle}_fixe"] = round(a, 1)
    # a real fleet: each device runs its own checks, so the wall time is set by the per-device time at
    # PARALLELE connections, or by the control host's CPU (2 cores), whichever is longer
    dernier = points[-1]
    if "duree_hote_mediane_s" in dernier:
        res["modele_latence_s"] = round(CIBLE * dernier["duree_hote_mediane_s"] / PARALLELE)
        res["modele_cpu_2_coeurs_s"] = round(CIBLE * res["cpu_s_par_hote"] / 2)
    return res


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--tailles", default="100,500,1000")
    p.add_argument("--base", help="URL du magasin (défaut : un SQLite temporaire par balayage)")
    p.add_argument(
        "--sortie", type=Path, default=Path(__file__).parent / "balayage.json", help="fichier JSON écrit"
    )
    p.add_argument("--enfant", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.enfant:
        return enfant(json.loads(a.enfant))
    tailles = [int(t) for t in a.tailles.split(",")]
    points = []
    with boucle_sshd(SSHD, prefixe="127.0.93") as b, tempfile.TemporaryDirectory() as tmp:
        plancher(cibles(b.adresses[:2]), b.cle, b.known_hosts)  # warm the shared apt cache once
        for n in tailles:
            par = max(1, n // SSHD)
            d = {"adresses": b.adresses[: min(n, SSHD)], "par_adresse": par, "cle": str(b.cle),
                 "kh": str(b.known_hosts), "base": a.base or f"sqlite:///{tmp}/balayage-{n}.sqlite"}  # fmt: skip
            charge_avant = _charge()
            r = subprocess.run(
                [sys.executable, __file__, "--enfant", json.dumps(d)], capture_output=True, text=True
            )
            if r.returncode != 0:
                raise SystemExit(r.stderr[-3000:])
            point = {**json.loads(r.stdout.strip().splitlines()[-1]), "charge_avant": charge_avant,
                     "charge_apres": _charge()}  # fmt: skip
            points.append(point)
            print(json.dumps(point), flush=True)
    resultat = {"parallele": PARALLELE, "points": points,
                "extrapolation": extrapoler(points) if len(points) > 1 else None}  # fmt: skip
    print(json.dumps(resultat["extrapolation"]))
    a.sortie.write_text(json.dumps(resultat, indent=2) + "\n")


if __name__ == "__main__":
    main()
