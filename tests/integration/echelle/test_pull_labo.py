"""ansible-pull on the lab's 3 PCs: publish to the lab's git server, install the role, PCs converge on their own.

The repository is served by the lab's git daemon (server namespace, service ``depot-git``). The manifest copy
gives the lab school a maintenance window opening in the coming minute, no random delay, and
``depot_pull.roles: [navigateur]`` (what a syndicat writes to have ansible-pull replay only some workshop
roles): the first run is started by each PC's own timer, the later ones with ``systemctl start`` of the same
service. The PCs' packages (ansible-core, git…) are in the lab image: the role's apt task finds them present.
Independent of order: the PCs may be fresh or already prepared by tests/integration/atelier.
Tests run in order and share the repository, the PCs and the results store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ardoise.atelier.ansible import fermer_maitres
from ardoise.atelier.labo import acces
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.coffre import reveler, textes_chiffres
from ardoise.labo.hotes import executer_dans

pytestmark = [pytest.mark.labo, pytest.mark.timeout(1800)]
RACINE = Path(__file__).resolve().parents[3]
BIN = RACINE / ".venv" / "bin"
ARDOISE = [str(BIN / "ardoise")] if (BIN / "ardoise").exists() else [sys.executable, "-m", "ardoise.cli.main"]
RESULTAT = "/var/lib/ardoise/pull/resultat.json"
POLITIQUES = "/etc/firefox/policies"
JOURS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MARGE_S = 20  # publish twice + install the role, before the window opens (re-planned when too short)
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
    d = tmp_path_factory.mktemp("echelle")
    shutil.copytree(RACINE / "inventaire", d / "inventaire")
    shutil.copytree(RACINE / "profils_terminaux", d / "profils_terminaux")
    territoire = d / "inventaire" / "territoire.yml"
    texte = territoire.read_text()
    assert "    delai_aleatoire_min: 30\n" in texte
    territoire.write_text(
        texte.replace(
            "    delai_aleatoire_min: 30\n", "    delai_aleatoire_min: 0\n    roles: [navigateur]\n"
        )
    )
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
    postes = [p.nom for p in plan_labo.postes]
    # what the PCs held before (the workshop may have prepared them): put back at the end
    avant = {}
    for n in postes:
        avant[n] = executer_dans(labo.hote(n), "sh", "-c", f"base64 -w0 {POLITIQUES}/policies.json 2>/dev/null",
                                 verifier=False)  # fmt: skip
        executer_dans(labo.hote(n), "rm", "-f", RESULTAT)  # a result left by an interrupted session
    etat = {"dossier": d, "depot": depot, "env": env, "postes": postes, "uai": ecole_labo.uai,
            "sorties": [], "durees": {}, "controle": d / "ssh"}  # fmt: skip
    yield etat
    # leave the PCs as found: no timer that could fire during later tests, no result file, no fault
    for nom in postes:
        remettre = f"[ -d {POLITIQUES} ] || rm -f {POLITIQUES}; mkdir -p {POLITIQUES};"
        if avant[nom].strip():
            remettre += f" echo {avant[nom].strip()} | base64 -d > {POLITIQUES}/policies.json;"
        else:
            remettre += f" rm -f {POLITIQUES}/policies.json;"
        executer_dans(labo.hote(nom), "sh", "-c", remettre + " systemctl disable --now ardoise-pull.timer;"
                      " rm -rf /var/lib/ardoise/pull", verifier=False)  # fmt: skip
    fermer_maitres(etat["controle"])
    shutil.rmtree(depot, ignore_errors=True)
    print(f"échelle : durées des exécutions d'ansible-pull (s) : {etat['durees']}", file=sys.stderr)


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


def _planifier_fenetre(pull, labo) -> None:
    """The lab school's only maintenance window opens at the next minute at least MARGE_S away (PC clock)."""
    horloges = {executer_dans(labo.hote(n), "date", "+%z").strip() for n in pull["postes"]}
    assert len(horloges) == 1, f"fuseaux horaires différents sur les postes du labo : {horloges}"
    maintenant = dt.datetime.now(dt.datetime.strptime(horloges.pop(), "%z").tzinfo)
    debut = (maintenant + dt.timedelta(seconds=MARGE_S + 59)).replace(second=0, microsecond=0)
    if debut.date() != maintenant.date() or (debut.hour, debut.minute) >= (23, 58):
        minuit = (maintenant + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        time.sleep((minuit - maintenant).total_seconds() + 1)
        return _planifier_fenetre(pull, labo)  # a window does not cross midnight
    fin = debut + dt.timedelta(minutes=min(30, 23 * 60 + 59 - debut.hour * 60 - debut.minute))
    territoire = pull["dossier"] / "inventaire" / "territoire.yml"
    bloc = (f'  fenetres_maintenance:\n    - jours: [{JOURS[debut.weekday()]}]\n      debut: "{debut:%H:%M}"\n'
            f'      fin: "{fin:%H:%M}"\n')  # fmt: skip
    texte, n = re.subn(r"(?ms)^  fenetres_maintenance:\n.*?(?=^  zone_vacances:)", bloc,
                       territoire.read_text(), count=1)  # fmt: skip
    assert n == 1
    territoire.write_text(texte)
    ecole = next(e for e in charger(pull["dossier"] / "inventaire").ecoles if e.uai == pull["uai"])
    assert [(f.debut, f.fin) for f in ecole.politique.fenetres_maintenance] == [
        (f"{debut:%H:%M}", f"{fin:%H:%M}")
    ]
    pull["fenetre"] = debut


def _installer(pull, acces_labo) -> None:
    """playbooks/pull-installer.yml from the controller, as a technician would (README « ansible-pull »)."""
    a = acces(known_hosts=pull["dossier"] / "known_hosts")
    pull["controle"].mkdir(exist_ok=True)
    env = {**pull["env"], "ANSIBLE_CONFIG": str(RACINE / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_PIPELINING": "True", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(pull["controle"]),
           "ANSIBLE_SSH_ARGS": f"-o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={a.known_hosts}"
                               " -o StrictHostKeyChecking=accept-new"}  # fmt: skip
    variables = {**a.variables, "ardoise_pull_depot": acces_labo["depot_git"] + "postes-test"}
    r = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(pull["dossier"] / "plugin" / "ardoise.yml"),
                        str(RACINE / "playbooks" / "pull-installer.yml"), "--limit", ",".join(pull["postes"]),
                        "--private-key", str(a.cle), "-u", a.utilisateur, "-e", json.dumps(variables)],
                       cwd=RACINE, env=env, capture_output=True, text=True, timeout=900)  # fmt: skip
    pull["sorties"] += [r.stdout, r.stderr]
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    # the lab PCs' image holds the packages: the apt task finds them (a real PC installs them here)
    apt = r.stdout.split("TASK [ardoise_pull : Installer ansible-core et git]", 1)[1].split("TASK [", 1)[0]
    assert apt.count("ok: [") == 3, apt


def _executer(labo, pull, noms, etape: str) -> dict[str, dict]:
    """Start ardoise-pull.service (the timer's service) on each PC at once and read each result file."""

    def un(nom):
        h = labo.hote(nom)
        executer_dans(h, "systemctl", "start", "ardoise-pull.service", verifier=False, delai=1800)
        return json.loads(executer_dans(h, "cat", RESULTAT))

    with ThreadPoolExecutor(len(noms)) as pool:
        resultats = dict(zip(noms, pool.map(un, noms), strict=True))
    return _noter(pull, etape, resultats)


def _noter(pull, etape, resultats):
    pull["durees"][etape] = {n: r["duree_s"] for n, r in resultats.items()}
    pull["sorties"].append(json.dumps(resultats, ensure_ascii=False))
    return resultats


def _politiques(labo, nom) -> dict:
    return json.loads(executer_dans(labo.hote(nom), "cat", f"{POLITIQUES}/policies.json"))["policies"]


def test_publier_deux_fois_un_seul_commit(pull, labo):
    _planifier_fenetre(pull, labo)
    premier = _publier(pull)
    assert premier["commit"] and premier["postes"] >= 3
    assert _publier(pull)["commit"] is None  # nothing changed: no commit
    assert _commits(pull) == [premier["commit"]]
    inv = (pull["depot"] / "inventaires" / f"{pull['postes'][0]}.yml").read_text()
    assert "!vault |" in inv and "$ANSIBLE_VAULT;1.1;AES256" in inv
    assert "ardoise_pull_depot: git://" in inv  # the lab's git server, not the territory's URL
    assert re.search(r"\n\s+roles:\n\s+- navigateur\n", inv)  # politique.depot_pull.roles


def test_installer_le_role_sur_les_trois_postes(pull, labo, acces_labo):
    _installer(pull, acces_labo)
    for _ in range(3):  # a slow machine may finish installing after the window opened: plan the next one
        if dt.datetime.now(dt.UTC) < pull["fenetre"] - dt.timedelta(seconds=2):
            break
        _planifier_fenetre(pull, labo)
        assert _publier(pull)["commit"]
        _installer(pull, acces_labo)
    else:
        pytest.fail("installation du rôle plus lente que la marge avant la fenêtre")


def test_minuterie_installee_activee_planifiee(pull, labo):
    attendu = pull["fenetre"].astimezone(dt.UTC)
    for nom in pull["postes"]:
        h = labo.hote(nom)
        sortie = executer_dans(
            h, "systemctl", "show", "ardoise-pull.timer", *(x for p in PROPRIETES for x in ("-p", p))
        )
        proprietes = dict(ligne.partition("=")[::2] for ligne in sortie.splitlines())
        assert proprietes["UnitFileState"] == "enabled" and proprietes["ActiveState"] == "active", proprietes
        assert proprietes["RandomizedDelayUSec"] == "0"  # politique.depot_pull.delai_aleatoire_min: 0
        jour = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][pull["fenetre"].weekday()]
        assert f"{jour} *-*-* {pull['fenetre']:%H:%M}:00" in proprietes["TimersCalendar"], proprietes
        prochaine = executer_dans(
            h, "date", "-u", "+%Y-%m-%d %H:%M:%S", "-d", proprietes["NextElapseUSecRealtime"]
        )
        assert prochaine.strip() == f"{attendu:%Y-%m-%d %H:%M:%S}"  # the window's opening, to the second
        droits = executer_dans(h, "stat", "-c", "%a %U %G", "/etc/ardoise/coffre.mdp").split()
        assert droits == ["600", "root", "root"]


def test_les_trois_postes_convergent_seuls(pull, labo):
    """Nothing is started by hand: each PC's timer fires at the window's opening and runs the service."""
    limite = time.monotonic() + (pull["fenetre"] - dt.datetime.now(dt.UTC)).total_seconds() + 600
    attente: dict[str, dict] = {}
    while len(attente) < len(pull["postes"]) and time.monotonic() < limite:
        for nom in set(pull["postes"]) - set(attente):
            h = labo.hote(nom)
            service = executer_dans(
                h, "systemctl", "show", "ardoise-pull.service", "-p", "ActiveState", "--value"
            )
            if service.strip() in ("inactive", "failed"):
                r = executer_dans(h, "sh", "-c", f"cat {RESULTAT} 2>/dev/null", verifier=False)
                if r.strip():
                    attente[nom] = json.loads(r)
        time.sleep(1)
    assert len(attente) == len(pull["postes"]), (
        f"minuterie jamais partie sur {set(pull['postes']) - set(attente)}"
    )
    resultats = _noter(pull, "premiere (minuterie)", attente)
    for nom, r in resultats.items():
        assert r["succes"], (nom, r["echecs"])
        assert r["revision"] == _commits(pull)[0]
        assert r["echecs"] == []
        declenche = executer_dans(labo.hote(nom), "systemctl", "show", "ardoise-pull.timer", "-p", "LastTriggerUSec",
                                  "--value").strip()  # fmt: skip
        assert declenche and declenche != "n/a"
        debut = dt.datetime.fromisoformat(r["debut"])
        assert dt.timedelta(0) <= debut - pull["fenetre"] < dt.timedelta(seconds=60), (
            r["debut"],
            pull["fenetre"],
        )
        # only the roles of politique.depot_pull.roles, then ardoise_pull itself
        journal = executer_dans(labo.hote(nom), "cat", "/var/lib/ardoise/pull/dernier.log")
        assert "TASK [ardoise_navigateur :" in journal and "TASK [ardoise_pull :" in journal
        # (each role's argument validation always runs; none of the other roles' tasks)
        autres = re.findall(
            r"TASK \[ardoise_(socle|proxy_client|antivirus|applications|comptes) : (.*?)\]", journal
        )
        assert all(t.startswith("Validating arguments") for _, t in autres), autres
        assert "SearchEngines" in _politiques(labo, nom)


def test_un_changement_atteint_les_trois_postes(pull, labo):
    territoire = pull["dossier"] / "inventaire" / "territoire.yml"
    texte = territoire.read_text()
    assert "    recherche_securisee: true\n" in texte
    territoire.write_text(
        texte.replace("    recherche_securisee: true\n", "    recherche_securisee: false\n")
    )
    avant = _commits(pull)
    publie = _publier(pull)
    assert _commits(pull) == [publie["commit"], *avant]  # exactly one commit
    resultats = _executer(labo, pull, pull["postes"], "changement")
    for nom, r in resultats.items():
        assert r["succes"] and r["revision"] == publie["commit"], (nom, r)
        assert r["changements"] >= 1
        assert "SearchEngines" not in _politiques(labo, nom)  # safe search no longer imposed


def test_echec_visible_au_rapport_et_second_passage_sans_changement(pull, labo, acces_labo):
    *sains, victime = pull["postes"]
    # a fault on one PC: Firefox's policy folder replaced by a file, the navigateur role cannot write there
    executer_dans(labo.hote(victime), "sh", "-c", f"rm -rf {POLITIQUES} && touch {POLITIQUES}")
    resultats = _executer(labo, pull, pull["postes"], "seconde")
    for nom in sains:
        assert resultats[nom]["succes"] and resultats[nom]["changements"] == 0, resultats[nom]
    echec = resultats[victime]
    assert not echec["succes"]
    assert echec["echecs"][0]["role"] == "ardoise_navigateur"
    assert "Firefox" in echec["echecs"][0]["tache"]

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
    assert "ansible-pull en échec" in a_visiter[victime] and "Firefox" in a_visiter[victime], a_visiter
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
