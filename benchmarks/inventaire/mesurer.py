"""Inventory benchmark: loader, cache and Ansible plugin on the synthetic territory, with targets.

Usage (after ``generer.py``)::

    .venv/bin/python benchmarks/inventaire/mesurer.py /tmp/ardoise-bench [--ancre-max 600] [--sans-ancre]

Every measure runs in a fresh process (no warm import, no warm page of Python objects). Times are
wall-clock (target) and CPU (user+sys, less sensitive to a busy machine); memory is the peak RSS.

- *froid* : ``charger_avec_cache`` with an empty cache: full validation + load + cache write;
- *tiède* : ``charger_avec_cache`` again: the whole territory (1,000 schools) from the cache;
- *une école* : ``charger_avec_cache(ecoles=[UAI])`` with the cache warm: only that school is read
  from the cache (the whole territory was validated when the entry was written);
- *greffon* : ``ansible-inventory --list`` through the plugin limited to one school (warm cache);
- *ancre* : Ansible's own YAML inventory of the same hosts, groups and variables
  (``ansible-inventory -i ancre.yml --list``), capped at ``--ancre-max`` seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEPOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

_ENFANT = r"""
import json, resource, sys, time
from ardoise.inventaire.cache import charger_avec_cache
racine, cache, ecoles = sys.argv[1], sys.argv[2], sys.argv[3:]
r0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.perf_counter()
t = charger_avec_cache(racine, cache, ecoles=ecoles)
mur = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
n = sum(1 for _ in t.equipements())
print(json.dumps({"mur": mur, "cpu": cpu, "rss_mo": r1.ru_maxrss / 1024, "ecoles": len(t.ecoles), "appareils": n}))
"""


def charger(racine: Path, cache: Path, *ecoles: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-c", _ENFANT, str(racine), str(cache), *ecoles],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def _proc(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of a running process, from /proc."""
    champs = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(champs[11]) + int(champs[12])) / os.sysconf("SC_CLK_TCK")
    hwm = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return cpu, int(hwm[1]) / 1024 if hwm else 0.0


def temps_v(commande: list[str], env: dict, cwd: Path, limite: float | None = None) -> dict:
    """Run under ``/usr/bin/time -v``: wall, CPU and peak RSS of the command.

    Past ``limite`` seconds the command is killed (its whole process group) and the CPU time and
    peak RSS reached so far are returned with ``plafond``.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as rapport, tempfile.TemporaryFile() as sortie:
        debut = time.perf_counter()
        p = subprocess.Popen(
            ["/usr/bin/time", "-v", "-o", rapport.name, *commande],
            env=env,
            cwd=cwd,
            stdout=sortie,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            _, erreurs = p.communicate(timeout=limite)
        except subprocess.TimeoutExpired:
            mur = time.perf_counter() - debut
            enfants = Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()
            cpu, rss = _proc(int(enfants[0])) if enfants else (0.0, 0.0)
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
            return {"mur": None, "plafond": limite, "mur_ecoule": mur, "cpu": cpu, "rss_mo": rss}
        mur = time.perf_counter() - debut
        texte = Path(rapport.name).read_text()
        sortie.seek(0)
        donnees = sortie.read()
    if p.returncode != 0:
        raise SystemExit(f"échec de {' '.join(commande)} :\n{erreurs.decode()[-2000:]}")

    def champ(nom: str) -> float:
        return float(re.search(rf"{re.escape(nom)}: ([\d.]+)", texte)[1])

    return {
        "mur": mur,
        "cpu": champ("User time (seconds)") + champ("System time (seconds)"),
        "rss_mo": champ("Maximum resident set size (kbytes)") / 1024,
        "sortie": len(donnees),
        "hotes": len(json.loads(donnees)["_meta"]["hostvars"]),
    }


def ancre(racine: Path, cache: Path, fichier: Path) -> int:
    """Write Ansible's plain YAML inventory of the same hosts, groups and variables (vault kept)."""
    import yaml

    from ardoise.inventaire.cache import charger_avec_cache
    from ardoise.inventaire.coffre import textes_chiffres
    from ardoise.inventaire.export import vers_ansible

    t = charger_avec_cache(racine, cache)
    donnees = vers_ansible(t)
    hostvars = donnees.pop("_meta")["hostvars"]
    tout = donnees.pop("all")
    groupes: dict = {}
    places: set[str] = set()
    for nom, g in donnees.items():
        entree: dict = {}
        if g.get("hosts"):
            entree["hosts"] = {}
            for h in g["hosts"]:
                entree["hosts"][h] = None if h in places else hostvars[h]
                places.add(h)
        if g.get("vars"):
            entree["vars"] = g["vars"]
        if g.get("children"):
            entree["children"] = {c: None for c in g["children"]}
        groupes[nom] = entree

    class Coffre(str):
        pass

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
        pass

    Dumper.add_representer(Coffre, lambda d, v: d.represent_scalar("!vault", str(v), style="|"))
    variables = dict(tout["vars"])
    variables["ardoise_coffre"] = {k: Coffre(v) for k, v in textes_chiffres(t.fichier_coffre).items()}
    with open(fichier, "w", encoding="utf-8") as f:
        yaml.dump(
            {"all": {"vars": variables, "children": groupes}},
            f,
            Dumper=Dumper,
            allow_unicode=True,
            sort_keys=False,
        )
    return len(hostvars)


def ligne(nom: str, mesure: dict, cible_s: float | None = None, cible_mo: float | None = None) -> str:
    if mesure.get("mur") is None:
        return (
            f"  {nom:<48} > {mesure['plafond']:.0f} s (plafond atteint, arrêté) ; à l'arrêt : CPU"
            f" {mesure['cpu']:.1f} s, pic RSS {mesure['rss_mo']:.0f} Mo"
        )
    texte = f"  {nom:<48} {mesure['mur']:7.2f} s (CPU {mesure['cpu']:6.2f} s)"
    if "rss_mo" in mesure:
        texte += f"  pic RSS {mesure['rss_mo']:6.0f} Mo"
    cibles = []
    if cible_s is not None:
        cibles.append(f"≤ {cible_s:g} s {'OK' if mesure['mur'] <= cible_s else 'MANQUÉ'}")
    if cible_mo is not None:
        cibles.append(f"≤ {cible_mo:g} Mo {'OK' if mesure['rss_mo'] <= cible_mo else 'MANQUÉ'}")
    return texte + (f"   cible {', '.join(cibles)}" if cibles else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Banc d'essai de l'inventaire (chargeur, cache, greffon Ansible)."
    )
    p.add_argument("dossier", type=Path, help="dossier écrit par generer.py (contient inventaire/)")
    p.add_argument("--ancre-max", type=float, default=600, help="plafond de la mesure de l'ancre (s)")
    p.add_argument("--sans-ancre", action="store_true", help="ne pas mesurer l'inventaire YAML d'Ansible")
    a = p.parse_args(argv)
    racine = a.dossier / "inventaire"
    cache = a.dossier / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    uai = sorted(racine.glob("communes/*/ecoles/*.yml"))[0].stem[:8].upper()
    print(f"Inventaire : {racine} ; {os.cpu_count()} cœurs ; charge {os.getloadavg()[0]:.1f}")

    froid = charger(racine, cache)
    print(f"  ({froid['ecoles']} écoles, {froid['appareils']} appareils)")
    print(ligne("validation + chargement à froid (cache vide)", froid, 12))
    tiede = charger(racine, cache)
    print(ligne("chargement depuis le cache (territoire entier)", tiede, 1))
    une = charger(racine, cache, uai)
    print(ligne(f"une école depuis le cache ({uai})", une, 0.5))

    source = a.dossier / "une-ecole.yml"
    source.write_text(f"plugin: ardoise\ninventaire: {racine}\necoles: [{uai}]\n", encoding="utf-8")
    env = {**os.environ, "ANSIBLE_CONFIG": str(DEPOT / "ansible.cfg"), "ARDOISE_CACHE": str(cache)}
    greffon = temps_v([str(BIN / "ansible-inventory"), "-i", str(source), "--list"], env, DEPOT)
    print(ligne(f"ansible-inventory --list, greffon, 1 école ({greffon['hotes']} hôtes)", greffon, 5, 250))

    if a.sans_ancre:
        return 0
    fichier = a.dossier / "ancre.yml"
    n = ancre(racine, cache, fichier)
    env_ancre = {**os.environ, "ANSIBLE_INVENTORY_ENABLED": "yaml"}
    env_ancre.pop("ANSIBLE_CONFIG", None)
    mesure = temps_v(
        [str(BIN / "ansible-inventory"), "-i", str(fichier), "--list"], env_ancre, a.dossier, a.ancre_max
    )
    taille = fichier.stat().st_size / 1e6
    print(ligne(f"ancre : inventaire YAML d'Ansible ({n} hôtes, {taille:.0f} Mo)", mesure))
    if mesure.get("mur"):
        print("Rapports (ancre / Ardoise) :")
        print(
            f"  temps : ancre / greffon 1 école = {mesure['mur'] / greffon['mur']:.0f}×,"
            f" ancre / cache tiède = {mesure['mur'] / tiede['mur']:.0f}×,"
            f" ancre / froid = {mesure['mur'] / froid['mur']:.1f}×"
        )
        print(f"  mémoire : ancre / greffon 1 école = {mesure['rss_mo'] / greffon['rss_mo']:.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
