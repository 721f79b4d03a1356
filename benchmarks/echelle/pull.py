"""Benchmark of ansible-pull on the lab's 3 PCs: one run per PC cold (fresh PCs), then warm, per set of roles.

Run as root, alone on the lab (it starts and stops it):
    flock /tmp/ardoise-labo-dev.lock .venv/bin/python benchmarks/echelle/pull.py [--roles navigateur]
Publishes the lab school into the lab's git server (``ardoise echelle publier --labo``), installs the role
``ardoise_pull`` from the controller (playbooks/pull-installer.yml), then starts ``ardoise-pull.service`` on the
3 PCs at once, twice: "cold" is the first run on fresh PCs (the apt relay's cache as found), "warm" the second.
``--roles`` sets ``politique.depot_pull.roles`` (default: every workshop role). Prints each run's duration,
changed and ok task counts per PC (read from /var/lib/ardoise/pull/resultat.json) and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(RACINE / "src"))
os.environ.setdefault("ARDOISE_COFFRE_MDP", str(RACINE / "inventaire" / "coffre-demo.mdp"))

from ardoise.atelier.ansible import fermer_maitres  # noqa: E402
from ardoise.atelier.labo import acces, agrandir_disques  # noqa: E402
from ardoise.inventaire.chargeur import charger  # noqa: E402
from ardoise.labo.depuis_manifeste import ecole_par_defaut, plan_depuis_ecole  # noqa: E402
from ardoise.labo.hotes import executer_dans  # noqa: E402
from ardoise.labo.labo import Labo  # noqa: E402

BIN = RACINE / ".venv" / "bin"
MDP = RACINE / "inventaire" / "coffre-demo.mdp"


def _executer(lab: Labo, postes: list[str]) -> dict:
    def un(nom):
        h = lab.hote(nom)
        executer_dans(h, "systemctl", "start", "ardoise-pull.service", verifier=False, delai=7200)
        r = json.loads(executer_dans(h, "cat", "/var/lib/ardoise/pull/resultat.json"))
        return {k: r[k] for k in ("succes", "duree_s", "changements", "taches", "echecs")}

    debut = time.monotonic()
    with ThreadPoolExecutor(len(postes)) as pool:
        par_poste = dict(zip(postes, pool.map(un, postes), strict=True))
    return {"total_s": round(time.monotonic() - debut, 1), "postes": par_poste}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--roles", default="", help="politique.depot_pull.roles, séparés par des virgules (défaut : tous)"
    )
    p.add_argument("--sortie", type=Path, default=RACINE / "benchmarks" / "echelle" / "pull.json")
    args = p.parse_args()
    d = Path(tempfile.mkdtemp(prefix="ardoise-bench-pull-"))
    shutil.copytree(RACINE / "inventaire", d / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", d / "profils_terminaux")
    territoire = d / "inventaire" / "territoire.yml"
    roles = f"    roles: [{args.roles}]\n" if args.roles else ""
    territoire.write_text(
        territoire.read_text().replace(
            "    delai_aleatoire_min: 30\n", f"    delai_aleatoire_min: 0\n{roles}"
        )
    )
    (d / "ardoise.yml").write_text(f"plugin: ardoise\ninventaire: {d / 'inventaire'}\n")
    t = charger(d / "inventaire")
    ecole = ecole_par_defaut(t)
    plan = plan_depuis_ecole(t, ecole)
    postes = [x.nom for x in plan.postes]
    lab = Labo()
    if lab.etat().get("demarre"):
        lab.arreter()
    resultats: dict = {"roles": args.roles or "tous", "charge_debut": os.getloadavg()[0]}
    try:
        lab.demarrer(plan, progression=lambda m: print(f"labo : {m}", file=sys.stderr))
        agrandir_disques(lab)
        a = lab.etat()["acces"]
        depot = Path(a["depots_git"]) / "bench-pull"
        env = {**os.environ, "ARDOISE_INVENTAIRE": str(d / "inventaire"), "ARDOISE_CACHE": str(d / "cache"),
               "ANSIBLE_VAULT_PASSWORD_FILE": str(MDP), "PATH": f"{BIN}:{os.environ['PATH']}"}  # fmt: skip
        subprocess.run([str(BIN / "ardoise"), "echelle", "publier", "--vers", str(depot), "--labo", "--ecole",
                        ecole.uai], env=env, check=True, capture_output=True, cwd=d)  # fmt: skip
        ac = acces(known_hosts=d / "known_hosts")
        (d / "ssh").mkdir()
        env.update({"ANSIBLE_CONFIG": str(RACINE / "ansible.cfg"), "ANSIBLE_PIPELINING": "True",
                    "ANSIBLE_SSH_CONTROL_PATH_DIR": str(d / "ssh"),
                    "ANSIBLE_SSH_ARGS": f"-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile="
                                        f"{ac.known_hosts} -o StrictHostKeyChecking=accept-new"})  # fmt: skip
        debut = time.monotonic()
        variables = {**ac.variables, "ardoise_pull_depot": a["depot_git"] + "bench-pull"}
        subprocess.run([str(BIN / "ansible-playbook"), "-i", str(d / "ardoise.yml"),
                        str(RACINE / "playbooks" / "pull-installer.yml"), "--limit", ",".join(postes),
                        "--private-key", str(ac.cle), "-u", ac.utilisateur, "-e", json.dumps(variables)],
                       cwd=RACINE, env=env, check=True, capture_output=True)  # fmt: skip
        resultats["installation_s"] = round(time.monotonic() - debut, 1)
        fermer_maitres(d / "ssh")
        for passe in ("froid", "chaud"):
            resultats[passe] = _executer(lab, postes)
            print(f"{passe} : {json.dumps(resultats[passe], ensure_ascii=False)}", file=sys.stderr)
        resultats["charge_fin"] = os.getloadavg()[0]
    finally:
        lab.arreter()
        shutil.rmtree(d, ignore_errors=True)
    args.sortie.write_text(json.dumps(resultats, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(resultats, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
