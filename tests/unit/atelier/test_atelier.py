"""The workshop without the lab: batch selection, workshop checks, Ansible event tracking, delivery sheet."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import pytest

from ardoise.atelier import fiche, postes
from ardoise.atelier.ansible import Suivi
from ardoise.atelier.controles import DETECTION, ENT, VERSIONS, checklist
from ardoise.atelier.preparation import a_reprendre
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.chargeur import charger
from ardoise.maintenance.catalogue import Sortie, catalogue
from ardoise.maintenance.cibles import AppAttendue, Contexte
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin

RACINE = Path(__file__).resolve().parents[3]
UAI = "0331101T"


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


@pytest.fixture
def ctx(territoire):
    pol = territoire.ecole(UAI).politique
    apps = (AppAttendue("firefox-esr", "Firefox ESR", "firefox-esr"), AppAttendue("vlc", "VLC", "vlc"))
    return Contexte(nom="pc-jean-jaures-03", type="pc", os="debian", politique=pol, applications=apps)


def test_lot_par_ecole_ne_prend_que_les_pc_linux_a_l_atelier(territoire):
    lot = postes.choisir(territoire, ecole=UAI)
    assert lot.nom.startswith(f"{UAI}-")
    assert {p.nom for p in lot.postes} >= {"pc-jean-jaures-03", "pc-jean-jaures-04", "pc-jean-jaures-05"}
    assert all(p.type.value == "pc" and p.etat.value == "atelier" for p in lot.postes)
    assert all("PC" in r or "système" in r for _, r in lot.ignores)


def test_lot_par_fichier_et_erreurs(territoire, tmp_path):
    f = tmp_path / "livraison-mars.txt"
    f.write_text("# lot de mars\npc-jean-jaures-03, pc-jean-jaures-04\n\npc-jean-jaures-01\n")
    lot = postes.choisir(territoire, fichier_lot=f)
    assert lot.nom == "livraison-mars"
    assert [p.nom for p in lot.postes] == ["pc-jean-jaures-03", "pc-jean-jaures-04"]
    assert [e.nom for e, _ in lot.ignores] == ["pc-jean-jaures-01"]  # Windows
    with pytest.raises(ErreurUsage, match="exactement une"):
        postes.choisir(territoire, ecole=UAI, postes=("pc-jean-jaures-03",))
    with pytest.raises(ErreurUsage, match="inconnu"):
        postes.choisir(territoire, postes=("pc-nulle-part",))
    restreint = postes.restreindre(lot, ("pc-jean-jaures-04",), "absent du laboratoire")
    assert [p.nom for p in restreint.postes] == ["pc-jean-jaures-04"]


def test_checklist_reprend_la_maintenance():
    noms = [c.nom for c in checklist()]
    assert noms[:7] == ["nom_hote", "proxy", "antivirus", "applications", "mises_a_jour", "disque", "horloge"]
    assert {"antivirus_detection", "ent", "versions"} <= set(noms)
    assert "antivirus_detection" not in catalogue()  # workshop-only: maintenance sweeps do not run it


@pytest.mark.parametrize(
    ("controle", "texte", "niveau"),
    [
        (DETECTION, "/tmp/ardoise-eicar.x: Ardoise.Test.EICAR.UNOFFICIAL FOUND\n@code 1\n", Niveau.OK),
        (DETECTION, "/tmp/ardoise-eicar.x: OK\n@code 0\n", Niveau.CRITIQUE),
        (DETECTION, "ERROR: Could not connect to clamd\n@code 2\n", Niveau.CRITIQUE),
        (ENT, "@statut 200\n<title>ENT de test</title>", Niveau.OK),
        (ENT, "@statut 200\n<title>E2Guardian - Access Denied</title>", Niveau.CRITIQUE),
        (ENT, "@erreur URLError <urlopen error [Errno 111] Connection refused>", Niveau.CRITIQUE),
        (VERSIONS, "ii  firefox-esr 115.9.1esr-1~deb12u1\nii  vlc 3.0.20-0+deb12u1\n", Niveau.OK),
        (VERSIONS, "ii  vlc 3.0.20-0+deb12u1\n", Niveau.ATTENTION),
    ],
)
def test_controles_de_l_atelier(controle, texte, niveau, ctx):
    v = controle.evaluer(Sortie(texte, 0), ctx)
    assert v.niveau is niveau, v.message


def test_versions_en_valeur(ctx):
    v = VERSIONS.evaluer(Sortie("ii  firefox-esr 115.9\nii  vlc 3.0.20\n", 0), ctx)
    assert v.valeur == "Firefox ESR 115.9; VLC 3.0.20"


def test_script_eicar_ne_contient_pas_la_chaine_en_clair_dans_le_depot():
    source = (RACINE / "src" / "ardoise" / "atelier" / "controles.py").read_text()
    assert "EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in source
    assert "X5O!P%@AP[4\\\\PZX54(P^)7CC)7}$EICAR" not in source


def test_suivi_des_evenements_ansible():
    vus = []
    s = Suivi(["pc-a", "pc-b"], lambda h: vus.append(h.etape))
    s({"event": "runner_on_start", "event_data": {"host": "pc-a", "role": "ardoise_socle", "task": "Nommer"}})
    s({"event": "runner_on_ok", "event_data": {"host": "pc-a", "res": {"changed": True}}})
    s(
        {
            "event": "runner_on_start",
            "event_data": {"host": "pc-b", "role": "ardoise_antivirus", "task": "Installer"},
        }
    )
    s(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "pc-b", "res": {"msg": "boum", "stderr": "E: dpkg"}},
        }
    )
    s(
        {
            "event": "runner_on_start",
            "event_data": {"host": "pc-a", "role": "ardoise_comptes", "task": "Admin"},
        }
    )
    s(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "pc-a", "ignore_errors": True, "res": {"msg": "x"}},
        }
    )
    s({"event": "playbook_on_stats", "event_data": {}})
    a, b = s.hotes["pc-a"], s.hotes["pc-b"]
    assert (
        not a.echec
        and a.changements == 1
        and a.fini
        and set(a.durees_roles) == {"ardoise_socle", "ardoise_comptes"}
    )
    assert b.echec and b.etape_echec == "ardoise_antivirus : Installer" and b.raison == "boum — E: dpkg"
    assert vus[0] == "ardoise_socle : Nommer" and vus[-1] == "playbook terminé"
    s2 = Suivi(["pc-c"])
    s2(
        {
            "event": "runner_on_failed",
            "event_data": {"host": "pc-c", "res": {"censored": "the output has been hidden"}},
        }
    )
    assert "masqués" in s2.hotes["pc-c"].raison


def _ok(nom: str) -> Verification:
    return Verification(
        nom, nom, Niveau.OK, "bien", "Firefox ESR 115.9; VLC 3.0.20" if nom == "versions" else None
    )


def test_reprise_et_fiche_depuis_le_magasin(territoire, tmp_path):
    m = Magasin(f"sqlite:///{tmp_path / 'r.sqlite'}")
    ex = m.commencer("atelier", lot="essai")
    r3 = ResultatHote("pc-jean-jaures-03", StatutHote.ok, verifications=[_ok("joignabilite"), _ok("versions")],
                      details={"prepare_le": "2026-03-02T09:30:00+00:00"})  # fmt: skip
    r4 = ResultatHote("pc-jean-jaures-04", StatutHote.echec, etape="préparation : ardoise_antivirus : Démarrer clamd",
                      raison="clamd inactif")  # fmt: skip
    for r in (r3, r4):
        m.enregistrer(ex, r, uai=UAI, commune="bellerive")
    m.definir_etat("pc-jean-jaures-03", "pret", ex)
    m.definir_etat("pc-jean-jaures-04", "echec", ex, r4.etape, r4.raison)
    m.terminer(ex)
    noms = ["pc-jean-jaures-03", "pc-jean-jaures-04", "pc-jean-jaures-05"]
    assert a_reprendre(m, noms) == ["pc-jean-jaures-04", "pc-jean-jaures-05"]

    d = fiche.donnees_fiche(territoire, UAI, m)
    assert [p.nom for p in d.postes] == ["pc-jean-jaures-03", "pc-jean-jaures-04"] and d.prets == 1
    assert d.syndicat and d.commune
    html = fiche.en_html(d)
    assert "Bon de livraison" in html and "PC11002C" in html and "<svg" in html and "clamd inactif" in html
    lignes = list(csv.DictReader(io.StringIO(fiche.en_csv(d)), delimiter=";"))
    assert lignes[0]["qr"] == "SN:PC11002C;HOTE:pc-jean-jaures-03"
    assert lignes[0]["applications"] == "Firefox ESR 115.9; VLC 3.0.20" and lignes[1]["etat"] == "echec"
    assert fiche.en_pdf(d)[:5] == b"%PDF-"
    with pytest.raises(ErreurUsage, match="rien à livrer"):
        fiche.donnees_fiche(territoire, "0331102U", m)


def test_une_tache_bloquee_echoue_sur_ce_poste_seulement(tmp_path):
    """A real ansible-runner run: a task that hangs on one host is cut by its ``timeout`` (as the roles'
    apt tasks are); that host fails with a French reason, the other host finishes the play."""
    import ansible_runner

    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "jeu.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - name: Attendre\n      ansible.builtin.command: sleep {{ attente }}\n"
        "      changed_when: false\n      timeout: 2\n"
        "    - name: Suite\n      ansible.builtin.command: 'true'\n      changed_when: false\n"
    )
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "hosts").write_text(
        "pc-bloque ansible_connection=local attente=60\npc-sain ansible_connection=local attente=0\n"
    )
    s = Suivi(["pc-bloque", "pc-sain"])
    r = ansible_runner.run(
        private_data_dir=str(tmp_path), playbook="jeu.yml", event_handler=s, quiet=True,
        envvars={"ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                 "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])},
    )  # fmt: skip
    bloque, sain = s.hotes["pc-bloque"], s.hotes["pc-sain"]
    assert r.rc != 0 and bloque.echec and bloque.etape_echec == "Attendre"
    assert bloque.raison.startswith("tâche arrêtée après 2 s") and "--reprendre" in bloque.raison
    assert not sain.echec and sain.fini and sain.taches == 2


@pytest.mark.parametrize(
    ("msg", "debut"),
    [
        (
            "async task did not complete within the requested time - 240s",
            "tâche arrêtée sur le poste après 240 s",
        ),
        ("Timeout exceeded", "tâche arrêtée sur le poste sans réponse"),
    ],
)
def test_tache_arretee_sur_le_poste_raison_en_francais(msg, debut):
    """The apt index update runs async: the controller's or the PC watcher's English message becomes French."""
    from ardoise.atelier.ansible import _raison

    raison = _raison({"failed": True, "msg": msg})
    assert raison.startswith(debut) and "relais APT" in raison and "--reprendre" in raison, raison
    assert "async" not in raison and "Timeout" not in raison
