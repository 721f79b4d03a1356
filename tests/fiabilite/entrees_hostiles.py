"""Hostile manifest files and the commands that read manifests (shared by the tests and the benchmark).

Each case breaks one file of a copy of the example territory in a hostile way and says where the refusal must
point (file, and line when the file has lines). Each command is an ``ardoise`` argument list (``{racine}`` is the
copy's root) that reads the manifest; the tests run them in-process and through the real entry point, the Ansible
inventory plugin through the real ``ansible-inventory``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ardoise.inventaire.yaml_sur import PROFONDEUR_MAX, TAILLE_MAX

RACINE = Path(__file__).resolve().parents[2]
ECOLE = "inventaire/communes/bellerive/ecoles/0331101t-jean-jaures.yml"
PROFIL = "profils_terminaux/profils/pc-eleve.yml"
UAI = "0331101T"

BOMBE = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@dataclass(frozen=True)
class Cas:
    nom: str
    fichier: str
    casser: Callable[[Path], range]  # breaks the file, returns the lines the refusal may name
    message: str  # a piece of the French message


def _une(ligne: int) -> range:
    return range(ligne, ligne + 1)


def _inserer(chemin: Path, texte: str) -> int:
    """Insert ``texte`` after the file's first top-level ``key: value`` line; return the inserted line number."""
    lignes = chemin.read_text(encoding="utf-8").split("\n")
    i = next(n for n, ligne in enumerate(lignes) if re.match(r"[a-z_]+: \S", ligne))
    lignes.insert(i + 1, texte)
    chemin.write_text("\n".join(lignes), encoding="utf-8")
    return i + 2


def _bombe(f: Path) -> range:
    n = _inserer(f, "notes_bombe:\n" + "".join("  " + ligne + "\n" for ligne in BOMBE.splitlines()))
    return range(n + 1, n + 10)  # one of the anchors' lines (where the expansion passes the bound)


def _profond(f: Path) -> range:
    n = PROFONDEUR_MAX + 6
    return _une(_inserer(f, "notes: " + "[" * n + "x" + "]" * n))


def _double(f: Path) -> range:
    texte = f.read_text(encoding="utf-8").rstrip("\n") + "\nnom: Un autre nom\n"  # "nom" is already a key
    f.write_text(texte, encoding="utf-8")
    return _une(texte.count("\n"))


def _trop_gros(f: Path) -> range:
    with f.open("r+b") as fichier:  # sparse: instant, no disk space
        fichier.truncate(TAILLE_MAX + 1)
    return _une(1)


def _python(f: Path) -> range:
    return _une(_inserer(f, "notes: !!python/object/apply:os.system ['touch /tmp/ardoise-pwned']"))


def _latin1(f: Path) -> range:
    brut = f.read_text(encoding="utf-8").encode("latin-1", errors="replace")  # "è" becomes the byte 0xE8
    f.write_bytes(brut)
    return _une(next(n for n, ligne in enumerate(brut.split(b"\n"), 1) if not ligne.isascii()))


def _binaire(f: Path) -> range:
    lignes = f.read_bytes().split(b"\n")
    n = len(lignes) // 2
    lignes[n - 1] = b"\x00\x01\x02\xff\xfe\x7fELF\x00"
    f.write_bytes(b"\n".join(lignes))
    return _une(n)


def _liste(f: Path) -> range:
    f.write_text("- uai: 0331101T\n- nom: Groupe scolaire Jean-Jaurès\n", encoding="utf-8")
    return _une(1)


CAS = [
    Cas("bombe-alias", ECOLE, _bombe, "trop volumineux une fois les alias développés"),
    Cas("imbrication-65", ECOLE, _profond, "imbrication trop profonde"),
    Cas("cle-en-double", ECOLE, _double, "clé « nom » en double"),
    Cas("trop-gros", ECOLE, _trop_gros, "fichier trop gros"),
    Cas("etiquette-python", ECOLE, _python, "étiquette YAML interdite"),
    Cas("latin-1", ECOLE, _latin1, "pas en UTF-8"),
    Cas("binaire", ECOLE, _binaire, "contenu binaire"),
    Cas("ecole-liste", ECOLE, _liste, "pas une liste"),
    Cas("profil-bombe", PROFIL, _bombe, "trop volumineux une fois les alias développés"),
]

# Every manifest-reading command ({racine}: the territory copy; outputs go under it, to prove nothing is written)
COMMANDES = [
    ["inventaire", "valider", "{racine}/inventaire"],
    ["inventaire", "lister"],
    ["inventaire", "lister", "--provenance", "--format", "json"],
    ["inventaire", "exporter", "--vers", "csv"],
    ["inventaire", "exporter", "--vers", "ansible"],
    ["profils", "lister"],
    ["profils", "resoudre", "pc-jean-jaures-03"],
    ["reseau", "generer", "--sortie", "{racine}/sortie/reseau"],
    ["wifi", "generer", "--ecole", UAI, "--sortie", "{racine}/sortie/wifi"],
    ["wifi", "horaires", "--ecole", UAI],
    [
        "maintenance",
        "planifier",
        "--quand",
        "mercredi 14:00",
        "--ecole",
        UAI,
        "--dossier",
        "{racine}/sortie/unites",
    ],
    ["maintenance", "rapport", "--ecole", UAI, "--format", "json"],
    ["atelier", "fiche", "--ecole", UAI, "--format", "csv", "--sortie", "{racine}/sortie/fiche.csv"],
    ["atelier", "preparer", "--postes", "pc-jean-jaures-03", "--variables", "{racine}-atelier.yml"],
    ["parc", "garanties"],
    ["parc", "renouvellement", "--commune", "bellerive", "--format", "json"],
    ["parc", "remplacer", "pc-jean-jaures-03", "--par", "pc-jean-jaures-13"],
    ["parc", "preter", "pc-jean-jaures-09", "--a", "Mme Martin", "--jusqu-au", "30/06/2030"],
    ["parc", "incident", "ouvrir", "pc-jean-jaures-07", "--symptome", "écran noir", "--sans-glpi"],
    ["tablettes", "qr", "--ecole", UAI, "--format", "html", "--sortie", "{racine}/sortie/tablettes"],
    ["tablettes", "ipad", "profil", "--ecole", UAI, "--sortie", "{racine}/sortie/tablettes"],
]

# Every case is tried on these (validation's loader, the load cache, a manifest edit, a vault read); every
# command is tried on the cases of TOUTES (a YAML-level and a model-level refusal).
ESSENTIELLES = [c for c in COMMANDES if " ".join(c[:2]) in ("inventaire valider", "inventaire lister", "parc remplacer",
                                                             "wifi generer")]  # fmt: skip
TOUTES = ("bombe-alias", "ecole-liste")


def copie(racine: Path) -> Path:
    """A fresh copy of the example territory under ``racine`` (which must not exist)."""
    for dossier in ("inventaire", "profils_terminaux"):
        shutil.copytree(RACINE / dossier, racine / dossier)
    # should a hostile manifest ever be accepted, the workshop would only meet a closed loopback port
    racine.with_name(f"{racine.name}-atelier.yml").write_text("ansible_host: 127.0.0.1\nansible_port: 1\n")
    return racine


def arguments(commande: list[str], racine: Path) -> list[str]:
    return [a.replace("{racine}", str(racine)) for a in commande]


def instantane(*racines: Path) -> dict[str, tuple]:
    """Every file and directory under ``racines``: mode, size, mtime and a hash (of the first MiB)."""
    etat: dict[str, tuple] = {}
    for racine in racines:
        if not racine.exists():
            etat[str(racine)] = ("absent",)
            continue
        for dossier, sous, fichiers in os.walk(racine):
            for nom in sous + fichiers:
                p = Path(dossier) / nom
                st = p.lstat()
                h = None
                if p.is_file():
                    with p.open("rb") as f:
                        h = hashlib.sha256(f.read(1 << 20)).hexdigest()
                etat[str(p)] = (st.st_mode, st.st_size, st.st_mtime_ns, h)
    return etat


def env_isole(racine: Path) -> dict[str, str]:
    """Environment pointing every place Ardoise writes to under ``racine/ecrits`` (must stay empty)."""
    e = racine / "ecrits"
    return {
        "ARDOISE_INVENTAIRE": str(racine / "inventaire"),
        "ARDOISE_CACHE": str(e / "cache"),
        "ARDOISE_BASE": f"sqlite:///{e / 'resultats.sqlite'}",
        "ARDOISE_RESEAU_SAUVEGARDES": str(e / "sauvegardes"),
        "ARDOISE_RESEAU_ETAT": str(e / "en-attente"),
        "ARDOISE_COFFRE_MDP": str(RACINE / "inventaire" / "coffre-demo.mdp"),
        "HOME": str(e / "home"),
        "COLUMNS": "200",
    }


# Linux charges a child's ru_maxrss with the parent's resident pages it shared between fork and exec: measured
# straight from a long pytest session (500 MB+), every command would "peak" at pytest's size. A small launcher
# forks the command and reports the command's own wait4 figures on its last stderr line.
LANCEUR = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvpe(sys.argv[1], sys.argv[1:], os.environ)\n"
    "_, st, ru = os.wait4(pid, 0)\n"
    "sys.stderr.write(f'\\n@@mesure {ru.ru_maxrss} {ru.ru_utime + ru.ru_stime}\\n')\n"
    "sys.exit(os.waitstatus_to_exitcode(st))\n"
)


def mesurer_processus(args: list[str], env: dict, cwd: Path) -> tuple[int, str, str, float, int, float]:
    """Run a process; return code, stdout, stderr, wall time, its own peak RSS (KiB) and CPU time (``wait4``)."""
    debut = time.perf_counter()
    args = [sys.executable, "-c", LANCEUR, *args]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    garde = threading.Timer(120, p.kill)
    garde.start()
    with ThreadPoolExecutor(max_workers=2) as lecteurs:
        stdout, stderr = lecteurs.submit(p.stdout.read), lecteurs.submit(p.stderr.read)
        _, statut, usage = os.wait4(p.pid, 0)
        stdout, stderr = stdout.result(), stderr.result()
    garde.cancel()
    p.returncode = os.waitstatus_to_exitcode(statut)
    p.stdout.close()
    p.stderr.close()
    duree = time.perf_counter() - debut
    avant, trouve, mesure = stderr.rstrip("\n").rpartition("\n@@mesure ")
    if not trouve:  # the launcher was killed (timeout): no figure
        return p.returncode, stdout, stderr, duree, 0, usage.ru_utime + usage.ru_stime
    rss, cpu = mesure.split()
    return p.returncode, stdout, avant, duree, int(rss), float(cpu)
