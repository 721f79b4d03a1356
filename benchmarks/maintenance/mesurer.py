"""Maintenance sweep benchmark: 100 loopback sshd hosts × the full checks catalogue, four ways, same run.

1. Ardoise (``Balayage``: one batched command per host, parsing, every result written to a SQLite store);
2. the same checks as an Ansible playbook, one ``shell`` task per check;
3. the same batched script as ONE Ansible ``shell`` task;
4. the floor: bare asyncssh, connect + the same batched command, no parsing, no store.
Then peak memory of an Ardoise sweep of 1 000 hosts (10 names per loopback sshd).

Prints ``ratio_vs_playbook=X ratio_vs_batched=Y ratio_vs_floor=Z`` last (X = playbook / Ardoise,
Y = batched Ansible / Ardoise, Z = Ardoise / floor). Run as root: ``.venv/bin/python benchmarks/maintenance/mesurer.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RACINE = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(RACINE))

from ardoise.inventaire.chargeur import charger  # noqa: E402
from ardoise.maintenance import script as batch  # noqa: E402
from ardoise.maintenance.catalogue import choisir  # noqa: E402
from ardoise.maintenance.cibles import Cible, Contexte, domaine_de_test  # noqa: E402
from ardoise.maintenance.moteur import Balayage, ParametresSsh  # noqa: E402
from ardoise.resultats.magasin import Magasin  # noqa: E402
from tests.boucle_sshd import PORT, boucle_sshd  # noqa: E402

PARALLELE = 50


def cibles(adresses: list[str], par_adresse: int = 1) -> list[Cible]:
    ecole = charger(RACINE / "inventaire").ecoles[0]
    pol = ecole.politique
    dom = domaine_de_test(pol)
    res = []
    for k in range(par_adresse):
        for i, a in enumerate(adresses):
            nom = f"pc-bench-{k:02d}-{i:03d}"
            ctx = Contexte(nom, "pc", "debian", pol, domaine_bloque=dom)
            res.append(Cible(nom, a, ecole.uai, ecole.commune, True, ctx, port=PORT, utilisateur="root"))
    return res


def ardoise(cs: list[Cible], cle: Path, kh: Path, base: str) -> float:
    magasin = Magasin(base)
    ex = magasin.commencer("maintenance", selection={"bench": len(cs)})
    b = Balayage(choisir(None), ParametresSsh(cle=cle, known_hosts=kh), parallele=PARALLELE,
                 ecrire=lambda c, r: magasin.enregistrer(ex, r, c.uai, c.commune))  # fmt: skip
    debut = time.perf_counter()
    rs = b.executer(cs)
    duree = time.perf_counter() - debut
    magasin.terminer(ex)
    assert all(r.statut.value == "ok" for r in rs), [r.raison for r in rs if r.statut.value != "ok"][:3]
    return duree


def plancher(cs: list[Cible], cle: Path, kh: Path) -> float:
    import asyncssh

    commandes = {c.nom: "bash -c " + shlex.quote(batch.construire(choisir(None), c.contexte)) for c in cs}
    cles = [asyncssh.read_private_key(str(cle))]
    known = asyncssh.read_known_hosts(str(kh))

    async def un(c: Cible, sem: asyncio.Semaphore) -> str:
        async with sem:
            async with asyncssh.connect(c.adresse, port=c.port, username="root", client_keys=cles,
                                        known_hosts=known, config=None, agent_path=None) as conn:  # fmt: skip
                return (await conn.run(commandes[c.nom])).stdout

    async def tous() -> list[str]:
        sem = asyncio.Semaphore(PARALLELE)
        return await asyncio.gather(*(un(c, sem) for c in cs))

    debut = time.perf_counter()
    sorties = asyncio.run(tous())
    duree = time.perf_counter() - debut
    assert all("@@ardoise:fin:disque" in s for s in sorties)
    return duree


def ansible(cs: list[Cible], cle: Path, kh: Path, dossier: Path, groupe: bool) -> tuple[float, int]:
    inv = {"all": {"hosts": {c.nom: {"ansible_host": c.adresse, "ansible_port": c.port} for c in cs}, "vars": {
        "ansible_user": "root", "ansible_ssh_private_key_file": str(cle), "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_common_args": f"-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes"}}}  # fmt: skip
    (dossier / "inventaire.json").write_text(json.dumps(inv))
    ctx = cs[0].contexte
    controles = [c for c in choisir(None) if c.script is not None]
    if groupe:
        taches = [{"name": "toutes les vérifications", "ansible.builtin.shell": {"cmd": batch.construire(controles, ctx),
                   "executable": "/bin/bash"}, "changed_when": False, "failed_when": False}]  # fmt: skip
    else:
        taches = [{"name": c.nom, "ansible.builtin.shell": {"cmd": batch.ENTETE + c.script(ctx), "executable": "/bin/bash"},
                   "changed_when": False, "failed_when": False} for c in controles]  # fmt: skip
    livre = dossier / ("groupe.yml" if groupe else "playbook.yml")
    livre.write_text(json.dumps([{"hosts": "all", "gather_facts": False, "tasks": taches}]))
    env = {**os.environ, "ANSIBLE_FORKS": str(PARALLELE), "ANSIBLE_HOST_KEY_CHECKING": "True",
           "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_DISPLAY_OK_HOSTS": "False",
           "ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_LOCAL_TEMP": str(dossier / "tmp")}  # fmt: skip
    bin_ = Path(sys.executable).with_name("ansible-playbook")
    debut = time.perf_counter()
    r = subprocess.run(
        [bin_, "-i", dossier / "inventaire.json", livre], env=env, capture_output=True, text=True
    )
    duree = time.perf_counter() - debut
    if r.returncode != 0 or "unreachable=1" in r.stdout:
        raise SystemExit(f"ansible en échec :\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")
    return duree, len(controles)


def memoire(adresses: list[str], cle: Path, kh: Path, base: str, par_adresse: int) -> None:
    """Child mode: one Ardoise sweep of len(adresses) × par_adresse hosts, prints peak RSS."""
    cs = cibles(adresses, par_adresse)
    duree = ardoise(cs, cle, kh, base)
    pic = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"hotes": len(cs), "duree_s": duree, "pic_mo": pic}))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--hotes", type=int, default=100)
    p.add_argument("--virtuels", type=int, default=1000)
    p.add_argument("--enfant-memoire", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.enfant_memoire:
        d = json.loads(a.enfant_memoire)
        return memoire(d["adresses"], Path(d["cle"]), Path(d["kh"]), d["base"], d["par_adresse"])
    with boucle_sshd(a.hotes, prefixe="127.0.92") as b, tempfile.TemporaryDirectory() as tmp:
        dossier = Path(tmp)
        (dossier / "tmp").mkdir()
        cs = cibles(b.adresses)
        print(f"{a.hotes} sshd de boucle, {len([c for c in choisir(None) if c.script])} vérifications distantes, "
              f"parallélisme {PARALLELE}", file=sys.stderr)  # fmt: skip
        plancher(cs[:2], b.cle, b.known_hosts)  # warm the device-side apt cache once for every tool
        mesures = {}

        def noter(cle: str, duree: float) -> None:
            mesures[cle] = duree
            print(f"{cle:18s} {duree:8.2f} s", file=sys.stderr, flush=True)

        noter("ardoise", ardoise(cs, b.cle, b.known_hosts, f"sqlite:///{dossier}/bench.sqlite"))
        noter("plancher", plancher(cs, b.cle, b.known_hosts))
        noter("ardoise_2", ardoise(cs, b.cle, b.known_hosts, f"sqlite:///{dossier}/bench.sqlite"))
        noter("plancher_2", plancher(cs, b.cle, b.known_hosts))
        noter("ansible_groupe", ansible(cs, b.cle, b.known_hosts, dossier, groupe=True)[0])
        duree, n_taches = ansible(cs, b.cle, b.known_hosts, dossier, groupe=False)
        noter("ansible_playbook", duree)
        par = max(1, a.virtuels // a.hotes)
        enfant = subprocess.run([sys.executable, __file__, "--enfant-memoire", json.dumps({
            "adresses": b.adresses, "cle": str(b.cle), "kh": str(b.known_hosts),
            "base": f"sqlite:///{dossier}/memoire.sqlite", "par_adresse": par})], capture_output=True, text=True)  # fmt: skip
        if enfant.returncode != 0:
            raise SystemExit(enfant.stderr[-3000:])
        mem = json.loads(enfant.stdout.strip().splitlines()[-1])
        print(f"mémoire : {mem['hotes']} hôtes ({par} noms par sshd) en {mem['duree_s']:.1f} s, pic {mem['pic_mo']:.0f} Mo",
              file=sys.stderr)  # fmt: skip
    ard = min(mesures["ardoise"], mesures["ardoise_2"])
    flo = min(mesures["plancher"], mesures["plancher_2"])
    print(json.dumps({**{k: round(v, 2) for k, v in mesures.items()}, "taches_playbook": n_taches,
                      "memoire_hotes": mem["hotes"], "memoire_pic_mo": round(mem["pic_mo"])}))  # fmt: skip
    print(f"ratio_vs_playbook={mesures['ansible_playbook'] / ard:.1f} ratio_vs_batched={mesures['ansible_groupe'] / ard:.1f} "
          f"ratio_vs_floor={ard / flo:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
