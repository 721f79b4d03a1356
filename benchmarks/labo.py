"""Benchmark of the virtual school lab: cold start (rootfs built), warm starts and teardowns.

School: 3 PCs + server + internet + 1 switch emulator. Targets: warm start <= 30 s, teardown <= 10 s.
Run as root: ``python benchmarks/labo.py [--repetitions N] [--sans-froid]``. The cold start uses a
temporary cache (``ARDOISE_LABO_CACHE``) so the real cache is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from ipaddress import IPv4Address as A
from ipaddress import IPv4Network as N

from ardoise.labo.labo import Labo
from ardoise.labo.plan import CommutateurLabo, PlanLabo, PortLabo, PosteLabo, SiteInternet, VlanLabo

CIBLE_DEMARRAGE, CIBLE_ARRET = 30.0, 10.0


def plan() -> PlanLabo:
    vlans = (
        VlanLabo(10, "PEDA", "pedagogique", N("10.210.10.0/24"), A("10.210.10.1"), A("10.210.10.100"), A("10.210.10.199")),
        VlanLabo(20, "ADMIN", "administratif", N("10.210.20.0/24"), A("10.210.20.1"), A("10.210.20.100"), A("10.210.20.149")),
        VlanLabo(50, "SERVEURS", "serveurs", N("10.210.50.0/24"), A("10.210.50.1")),
        VlanLabo(99, "GESTION", "gestion", N("10.210.99.0/24"), A("10.210.99.1")),
    )  # fmt: skip
    postes = tuple(
        PosteLabo(f"pc-bench-{i:02d}", 10, A(f"10.210.10.{10 + i}"), f"02:be:00:00:10:{i:02x}")
        for i in (1, 2, 3)
    )
    sw = CommutateurLabo(
        "sw-bench", "cisco_ios", A("10.210.99.2"), 22, 99, "technicien", "Mdp-Bench-91c2",
        vlans=((10, "PEDA"), (20, "ADMIN"), (50, "SERVEURS"), (99, "GESTION")),
        ports=tuple(PortLabo(f"GigabitEthernet0/{i}", "acces", 10) for i in range(1, 24))
        + (PortLabo("GigabitEthernet0/24", "trunk", None, (10, 20, 50, 99)),),
    )  # fmt: skip
    sites = (
        SiteInternet("ent.test-ardoise.fr", "ent"),
        SiteInternet("jeux-argent.test-ardoise.fr", "bloque", "gambling"),
        SiteInternet("actu.test-ardoise.fr", "general"),
    )
    return PlanLabo("0330002B", "École du banc d'essai", "0330002b.ecole.lan", vlans, "srv-bench", 50, 8080,
                    (A("10.210.50.10"),), postes, (sw,), sites, ("adult", "gambling"),
                    serveur_adresse=A("10.210.50.10"))  # fmt: skip


def cycle(p: PlanLabo) -> tuple[float, float]:
    labo = Labo()
    t0 = time.monotonic()
    etat = labo.demarrer(p)
    demarrage = time.monotonic() - t0
    tout = [i["etat"] for g in ("hotes", "services", "commutateurs") for i in etat[g].values()]
    if set(tout) != {"up"} or len(etat["hotes"]) != 3 or len(etat["commutateurs"]) != 1:
        labo.arreter()
        raise SystemExit(f"labo incomplet : {json.dumps(etat, ensure_ascii=False)}")
    t0 = time.monotonic()
    labo.arreter()
    return demarrage, time.monotonic() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--sans-froid", action="store_true", help="ne mesure pas le démarrage à froid")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("benchmark du labo : root requis", file=sys.stderr)
        return 2
    p = plan()
    resultats: dict[str, object] = {}
    if not args.sans_froid:
        cache = tempfile.mkdtemp(prefix="ardoise-labo-cache-froid-", dir="/var/tmp")
        ancien = os.environ.get("ARDOISE_LABO_CACHE")
        os.environ["ARDOISE_LABO_CACHE"] = cache
        try:
            froid, arret = cycle(p)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
            if ancien is None:
                os.environ.pop("ARDOISE_LABO_CACHE")
            else:
                os.environ["ARDOISE_LABO_CACHE"] = ancien
        resultats["froid_s"] = round(froid, 2)
        print(
            f"démarrage à froid (image construite) : {froid:6.1f} s   arrêt : {arret:5.1f} s", file=sys.stderr
        )
    cycle(p)  # make sure the real cache is built before the warm measurements
    chauds, arrets = [], []
    for i in range(args.repetitions):
        d, a = cycle(p)
        chauds.append(d)
        arrets.append(a)
        print(f"démarrage à chaud n°{i + 1} : {d:6.1f} s   arrêt : {a:5.1f} s", file=sys.stderr)
    resultats |= {
        "chaud_s": [round(x, 2) for x in chauds],
        "chaud_mediane_s": round(statistics.median(chauds), 2),
        "arret_s": [round(x, 2) for x in arrets],
        "arret_max_s": round(max(arrets), 2),
        "ecole": "3 PC + serveur + internet + 1 commutateur",
    }
    ok = max(chauds) <= CIBLE_DEMARRAGE and max(arrets) <= CIBLE_ARRET
    print(
        f"médiane à chaud {resultats['chaud_mediane_s']} s (cible ≤ {CIBLE_DEMARRAGE:.0f} s), "
        f"arrêt max {resultats['arret_max_s']} s (cible ≤ {CIBLE_ARRET:.0f} s) : {'OK' if ok else 'HORS CIBLE'}",
        file=sys.stderr,
    )
    print(json.dumps(resultats, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
