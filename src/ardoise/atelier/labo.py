"""A workshop run against the virtual school lab: its SSH key and account, a private known_hosts,
the lab's apt relay and its local ClamAV signature source, and lab PCs' disks big enough for a profile.

The lab PCs carry the manifest's addresses, so the inventory's ``ansible_host`` works as is: only
connection settings and two site values (apt relay, signature source) differ from a real workshop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ardoise.erreurs import ArdoiseErreur

# The pupil profile of the example (Firefox ESR, LibreOffice, VLC, GCompris, Tux Paint, Tux Math) installs
# ~1.7 GB on a minimal Debian: a lab PC's 1 GiB disk does not hold it.
DISQUE_ATELIER = "4G"


@dataclass(frozen=True)
class AccesLabo:
    cle: Path
    utilisateur: str
    known_hosts: Path
    variables: dict
    postes: tuple[str, ...] = ()


def acces(etat: dict | None = None, known_hosts: Path | None = None) -> AccesLabo:
    """Connection settings and extra variables for the running lab (``Labo().etat()``)."""
    if etat is None:
        from ardoise.labo.labo import Labo

        etat = Labo().etat()
    if not etat.get("demarre"):
        raise ArdoiseErreur("aucun laboratoire démarré : lancez « ardoise labo demarrer »")
    a = etat["acces"]
    kh = known_hosts or Path(
        os.environ.get("ARDOISE_KNOWN_HOSTS") or Path("/run/ardoise-labo") / "known_hosts_atelier"
    )
    variables = {
        "ardoise_proxy_client_apt": a["proxy_apt"],
        # the lab's relay is on the same machine (index update ~5 s): a blocked attempt is cut sooner
        "ardoise_socle_delai_index_apt": 120,
        "ardoise_antivirus_miroir": a["signatures_clamav"],
        "ardoise_antivirus_freshclam": False,
        "ardoise_antivirus_signatures_locales": [a["signatures_clamav"].rstrip("/") + "/ardoise-eicar.hdb"],
    }
    return AccesLabo(Path(a["cle_ssh"]), a["technicien"], kh, variables, tuple(etat.get("hotes", {})))


def agrandir_disques(labo, taille: str = DISQUE_ATELIER) -> None:
    """Grow each lab PC's disk (its tmpfs) to ``taille``; its content stays."""
    from ardoise.labo.systeme import executer

    for nom in labo.etat()["hotes"]:
        h = labo.hote(nom)
        if os.path.ismount(h.dossier):
            executer(["mount", "-o", f"remount,size={taille}", h.dossier])
