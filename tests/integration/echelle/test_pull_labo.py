"""ansible-pull on the lab's 3 PCs: publish to the lab's git server, install the role, PCs converge on their own.

The repository is served by the lab's git daemon (server namespace). The PCs run ``ardoise-pull.service``
(started here with ``systemctl start`` instead of waiting for a maintenance window; the timer is checked).
A run configures the whole PC like the workshop: on PCs the workshop already prepared (``make test`` runs
tests/integration/atelier first) a run takes about a minute, on fresh PCs expect the workshop's cold time.
Tests run in order and share the repository, the PCs and the results store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ardoise.atelier.labo import acces, agrandir_disques
from ardoise.inventaire.coffre import reveler, textes_chiffres
from ardoise.labo.hotes import executer_dans

pytestmark = [
    pytest.mark.labo,
    pytest.mark.timeout(7200),
    # Not yet run to completion: each pull run applies the whole workshop configuration (minutes per PC on
    # this 2-CPU machine). Out of `make test` until measured green and trimmed: ARDOISE_TESTS_PULL=1 runs it.
    pytest.mark.skipif(os.environ.get("ARDOISE_TESTS_PULL") != "1",
                       reason="test ansible-pull au labo : ARDOISE_TESTS_PULL=1 pour le lancer (long)"),
]  # fmt: skip
RACINE = Path(__file__).resolve().parents[3]
BIN = RACINE / ".venv" / "bin"
ARDOISE = [str(BIN / "ardoise")] if (BIN / "ardoise").exists() else [sys.executable, "-m", "ardoise.cli.main"]
RESULTAT = "/var/lib/ardoise/pull/resultat.json"
JOURNALD = "/etc/systemd/journald.conf.d"
PROPRIETES = (
    "UnitFileState",
    "ActiveState",
    "RandomizedDelayUSec",
    "TimersCalendar",
    "NextElapseUSecRealtime",
)


@pytest.fixture(scope="module")
def pull(labo, acces_labo, plan_labo, ecole_labo, tmp_path_factory):
    """A copy of the example inventory (the test changes it), a repository under the lab's git server."""
    if shutil.which("git") is None:
        pytest.skip("git absent")
    agrandir_disques(labo)
    d = tmp_path_factory.mktemp("echelle")
    shutil.copytree(RACINE / "inventaire", d / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", d / "profils_terminaux")
    (d / "plugin").mkdir()
    (d / "plugin" / "ardoise.yml").write_text(f"plugin: ardoise\ninventaire: {d / 'inventaire'}\n")
    depot = Path(acces_labo["depots_git"]) / "postes-test"
    shutil.rmtree(depot, ignore_errors=True)
    env = dict(os.environ)
    env.update({
        "ARDOISE_INVENTAIRE": str(d / "inventaire"),
        "ARDOISE_COFFRE_MDP": str(RACINE / "inventaire" / "coffre-demo.mdp"),
        "ANSIBLE_VAULT_PASSWORD_FILE": str(RACINE / "inventaire" / "coffre-demo.mdp"),
        "ARDOISE_BASE": f"sqlite:///{d / 'resultats.sqlite'}",
        "ARDOISE_CACHE": str(d / "cache"),
        "PATH": f"{BIN}:{env.get('PATH', '')}",
    })  # fmt: skip
    etat = {"dossier": d, "depot": depot, "env": env, "postes": [p.nom for p in plan_labo.postes],
            "uai": ecole_labo.uai, "sorties": [], "durees": {}}  # fmt: skip
    yield etat
    # leave the PCs as found: no timer that could fire during later tests, no result file, no fault
    for nom in etat["postes"]:
        executer_dans(labo.hote(nom), "sh", "-c", f"[ -f {JOURNALD} ] && rm -f {JOURNALD} && mkdir {JOURNALD};"
                      " systemctl disable --now ardoise-pull.timer; rm -rf /var/lib/ardoise/pull", verifier=False)  # fmt: skip
    shutil.rmtree(depot, ignore_errors=True)
    print(f"échelle : durées des exécutions d'ansible-pull : {etat['durees']}", file=sys.stderr)


def _ardoise(pull, *args, timeout=600):
    r = subprocess.run([*ARDOISE, *args], cwd=pull["dossier"], env=pull["env"], capture_output=True, text=True,
                       timeout=timeout)  # fmt: skip
    pull["sorties"] += [r.stdout, r.stderr]
    return r


def _publier(pull) -> dict:
    r = _ardoise(pull, "echelle", "publier", "--vers", str(pull["depot"]), "--labo", "--ecole", pull["uai"],
                 "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)[0]


def _commits(pull) -> list[str]:
    return subprocess.run(["git", "-C", str(pull["depot"]), "log", "--format=%H"], capture_output=True, text=True,
                          check=True).stdout.split()  # fmt: skip


def _executer(labo, pull, noms, etape: str) -> dict[str, dict]:
    """Start ardoise-pull.service on each PC at once (as the timer would) and read each result file."""

    def un(nom):
        h = labo.hote(nom)
        executer_dans(h, "systemctl", "start", "ardoise-pull.service", verifier=False, delai=3600)
        return json.loads(executer_dans(h, "cat", RESULTAT))

    with ThreadPoolExecutor(len(noms)) as pool:
        resultats = dict(zip(noms, pool.map(un, noms), strict=True))
    pull["durees"][etape] = {n: r["duree_s"] for n, r in resultats.items()}
    pull["sorties"].append(json.dumps(resultats, ensure_ascii=False))
    return resultats


def test_publier_deux_fois_un_seul_commit(pull):
    premier = _publier(pull)
    assert premier["commit"] and premier["postes"] >= 3
    assert _publier(pull)["commit"] is None  # nothing changed: no commit
    assert _commits(pull) == [premier["commit"]]
    inv = (pull["depot"] / "inventaires" / f"{pull['postes'][0]}.yml").read_text()
    assert "!vault |" in inv and "$ANSIBLE_VAULT;1.1;AES256" in inv
    assert "ardoise_pull_depot: git://" in inv  # the lab's git server, not the territory's URL


def test_installer_le_role_sur_les_trois_postes(pull, acces_labo):
    a = acces(known_hosts=pull["dossier"] / "known_hosts")
    variables = {**a.variables, "ardoise_pull_depot": acces_labo["depot_git"] + "postes-test"}
    env = {**pull["env"], "ANSIBLE_CONFIG": str(RACINE / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_SSH_ARGS": f"-o UserKnownHostsFile={a.known_hosts} -o StrictHostKeyChecking=accept-new"}  # fmt: skip
    r = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(pull["dossier"] / "plugin" / "ardoise.yml"),
                        str(RACINE / "playbooks" / "pull-installer.yml"), "--limit", ",".join(pull["postes"]),
                        "--private-key", str(a.cle), "-u", a.utilisateur, "-e", json.dumps(variables)],
                       cwd=RACINE, env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    pull["sorties"] += [r.stdout, r.stderr]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_minuterie_installee_activee_planifiee(pull, labo):
    for nom in pull["postes"]:
        h = labo.hote(nom)
        sortie = executer_dans(
            h, "systemctl", "show", "ardoise-pull.timer", *(x for p in PROPRIETES for x in ("-p", p))
        )
        proprietes: dict[str, str] = {}
        for ligne in sortie.splitlines():  # one TimersCalendar line per OnCalendar
            cle, _, valeur = ligne.partition("=")
            proprietes[cle] = proprietes.get(cle, "") + valeur + "\n"
        proprietes = {k: v.strip() for k, v in proprietes.items()}
        assert proprietes["UnitFileState"] == "enabled" and proprietes["ActiveState"] == "active", proprietes
        assert proprietes["RandomizedDelayUSec"] == "30min"  # politique.depot_pull.delai_aleatoire_min
        # the example's windows: Wednesday 13:00–18:00, Mon/Tue/Thu/Fri 17:30–20:00
        assert "Wed *-*-* 13:00:00" in proprietes["TimersCalendar"]
        assert "Mon,Tue,Thu,Fri *-*-* 17:30:00" in proprietes["TimersCalendar"]
        assert proprietes["NextElapseUSecRealtime"].strip()  # scheduled
        droits = executer_dans(h, "stat", "-c", "%a %U %G", "/etc/ardoise/coffre.mdp").split()
        assert droits == ["600", "root", "root"]


def test_les_trois_postes_convergent_seuls(pull, labo):
    resultats = _executer(labo, pull, pull["postes"], "premiere")
    for nom, r in resultats.items():
        assert r["succes"], (nom, r["echecs"])
        assert r["revision"] == _commits(pull)[0]
        assert r["taches"] > 20 and r["echecs"] == []


def test_un_changement_atteint_les_trois_postes(pull, labo):
    territoire = pull["dossier"] / "inventaire" / "territoire.yml"
    texte = territoire.read_text()
    assert "journald_max: 200M" in texte
    territoire.write_text(texte.replace("journald_max: 200M", "journald_max: 150M"))
    avant = _commits(pull)
    publie = _publier(pull)
    assert _commits(pull) == [publie["commit"], *avant]  # exactly one commit
    resultats = _executer(labo, pull, pull["postes"], "changement")
    for nom, r in resultats.items():
        assert r["succes"] and r["revision"] == publie["commit"], (nom, r)
        assert r["changements"] >= 1
        conf = executer_dans(labo.hote(nom), "cat", f"{JOURNALD}/ardoise.conf")
        assert "SystemMaxUse=150M" in conf


def test_echec_visible_au_rapport_et_second_passage_sans_changement(pull, labo, acces_labo):
    *sains, victime = pull["postes"]
    # a fault on one PC: the journald drop-in folder replaced by a file, the socle role cannot write there
    executer_dans(labo.hote(victime), "sh", "-c", f"rm -rf {JOURNALD} && touch {JOURNALD}")
    resultats = _executer(labo, pull, pull["postes"], "seconde")
    for nom in sains:
        assert resultats[nom]["succes"] and resultats[nom]["changements"] == 0, resultats[nom]
    echec = resultats[victime]
    assert not echec["succes"]
    assert echec["echecs"][0]["role"] == "ardoise_socle"
    assert "journald" in echec["echecs"][0]["tache"]

    r = _ardoise(pull, "maintenance", "lancer", "--postes", ",".join(pull["postes"]), "--verifications", "pull",
                 "--cle", acces_labo["cle_ssh"], "--known-hosts", str(pull["dossier"] / "known_hosts"),
                 "--format", "json", timeout=300)  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr  # a CRITIQUE check
    rapport = pull["dossier"] / "rapport.json"
    r = _ardoise(
        pull, "maintenance", "rapport", "--ecole", pull["uai"], "--format", "json", "-o", str(rapport)
    )
    assert r.returncode == 0, r.stderr
    texte = rapport.read_text()
    pull["sorties"].append(texte)
    ecole = next(e for e in json.loads(texte)["ecoles"] if e["uai"] == pull["uai"])
    a_visiter = {a["nom"]: " ".join(a["raisons"]) for a in ecole["a_visiter"]}
    assert "ansible-pull en échec" in a_visiter[victime] and "journald" in a_visiter[victime], a_visiter
    appareils = {a["nom"]: a["verifications"] for a in ecole["appareils"]}
    for nom in sains:
        assert nom not in a_visiter and appareils[nom]["pull"]["niveau"] == "OK", appareils[nom]


def test_aucun_secret_dans_le_depot_ni_les_sorties(pull, labo, territoire_exemple):
    noms = list(textes_chiffres(territoire_exemple.fichier_coffre))
    secrets = [s.reveler() for s in reveler(territoire_exemple.fichier_coffre, noms).values()]
    secrets.append((RACINE / "inventaire" / "coffre-demo.mdp").read_text().strip())  # the vault password
    textes = list(pull["sorties"])
    for f in pull["depot"].rglob("*"):
        if f.is_file() and ".git" not in f.parts:
            textes.append(f.read_text(errors="replace"))
    for nom in pull["postes"]:
        textes.append(executer_dans(labo.hote(nom), "sh", "-c", "cat /var/lib/ardoise/pull/*.json "
                                    "/var/lib/ardoise/pull/dernier.log /etc/ardoise/pull.json"))  # fmt: skip
    for s in secrets:
        assert all(s not in t for t in textes)
