"""Throughput and latency to the school server: ``iperf3 -J`` (JSON), never its text output."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import asdict, dataclass

from ardoise.audit.constat import Constat, Gravite
from ardoise.erreurs import ErreurUsage

PORT_IPERF = 5201
DEBIT_MIN_MBPS = 50.0  # below this on a wired school LAN, something is wrong (duplex, 10 Mbit/s port, loop)
LATENCE_MAX_MS = 20.0


@dataclass
class Mesure:
    serveur: str
    source: str | None
    debit_mbps: float | None
    latence_ms: float | None
    retransmissions: int | None
    duree_s: float
    erreur: str | None = None

    def en_dict(self) -> dict:
        return asdict(self)


def mesurer(serveur: str, source: str | None = None, port: int = PORT_IPERF, secondes: int = 2) -> Mesure:
    """One TCP iperf3 test to ``serveur`` (an ``iperf3 -s`` must listen there)."""
    if shutil.which("iperf3") is None:
        raise ErreurUsage("iperf3 est absent de ce poste : installez-le (apt install iperf3)")
    cmd = ["iperf3", "-c", serveur, "-p", str(port), "-t", str(secondes), "-J", "--connect-timeout", "3000"]
    if source:
        cmd += ["-B", source]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=secondes + 20)
    try:
        donnees = json.loads(r.stdout or "{}")
    except ValueError:
        donnees = {"error": (r.stderr or r.stdout).strip()[-200:]}
    if donnees.get("error") or "end" not in donnees:
        return Mesure(serveur, source, None, None, None, 0.0, donnees.get("error") or "réponse iperf3 vide")
    fin = donnees["end"]
    recu = fin.get("sum_received", {})
    envoye = fin.get("sum_sent", {})
    rtt = [s.get("sender", {}).get("mean_rtt") for s in fin.get("streams", [])]
    rtt = [x for x in rtt if x]
    return Mesure(
        serveur, source,
        round(recu.get("bits_per_second", 0) / 1e6, 1),
        round(sum(rtt) / len(rtt) / 1000, 3) if rtt else None,
        envoye.get("retransmits"),
        round(recu.get("seconds", 0.0), 2),
    )  # fmt: skip


def constats(m: Mesure) -> list[Constat]:
    if m.erreur:
        return [Constat("debit-impossible", Gravite.moyenne, "Le débit vers le serveur de l'école n'a pas pu être mesuré.",
                        f"iperf3 vers {m.serveur}:{PORT_IPERF} : {m.erreur}",
                        "lancer « iperf3 -s » sur le serveur de l'école pendant l'audit", m.serveur, "debit", "debit")]  # fmt: skip
    r = []
    if m.debit_mbps is not None and m.debit_mbps < DEBIT_MIN_MBPS:
        r.append(Constat("debit-faible", Gravite.moyenne, "Le réseau de l'école est lent vers son serveur.",
                         f"{m.debit_mbps} Mbit/s (seuil {DEBIT_MIN_MBPS:g}), retransmissions : {m.retransmissions}",
                         "vérifier la vitesse négociée des ports (10/100 Mbit/s, duplex) et les boucles", m.serveur,
                         "debit", "debit"))  # fmt: skip
    if m.latence_ms is not None and m.latence_ms > LATENCE_MAX_MS:
        r.append(Constat("latence-elevee", Gravite.moyenne, "Le réseau de l'école répond lentement.",
                         f"RTT moyen {m.latence_ms} ms (seuil {LATENCE_MAX_MS:g} ms)",
                         "chercher une saturation (sauvegardes, mises à jour) ou un équipement défaillant",
                         m.serveur, "debit", "debit"))  # fmt: skip
    return r
