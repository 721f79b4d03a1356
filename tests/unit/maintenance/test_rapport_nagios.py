"""Reports (HTML/JSON/CSV), the Nagios plugin contract and scheduling, over a store filled by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.selection import Selection
from ardoise.maintenance import planification, rapport
from ardoise.maintenance.historique import dernieres_reussites
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin

RACINE = Path(__file__).resolve().parents[3]
ARDOISE = Path(sys.executable).with_name("ardoise")
UAI = "0331101T"


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


def _v(nom: str, niveau: Niveau, message: str = "…", valeur: str | None = None) -> Verification:
    return Verification(nom, nom, niveau, message, valeur, {"x": 1.0})


def remplir(magasin: Magasin, n_runs: int = 3) -> None:
    """Three sweeps of Jean-Jaurès: pc-01 healthy, pc-02 with a full disk, pc-03 down in the last run."""
    for i in range(n_runs):
        ex = magasin.commencer("maintenance")
        magasin.enregistrer(ex, ResultatHote("pc-jean-jaures-01", StatutHote.ok, verifications=[
            _v("disque", Niveau.OK, "espace libre : / 60 %", "60 %"), _v("proxy", Niveau.OK, "proxy conforme")]),
            uai=UAI, commune="bellerive")  # fmt: skip
        magasin.enregistrer(ex, ResultatHote("pc-jean-jaures-02", StatutHote.ok, verifications=[
            _v("disque", Niveau.CRITIQUE, "/ presque plein (2 % libre)", "2 %"), _v("proxy", Niveau.ATTENTION, "x")]),
            uai=UAI, commune="bellerive")  # fmt: skip
        dernier = i == n_runs - 1
        magasin.enregistrer(ex, ResultatHote("pc-jean-jaures-03", StatutHote.injoignable if dernier else StatutHote.ok,
                                             raison="10.11.10.13:22 ne répond pas" if dernier else None,
                                             verifications=[] if dernier else [_v("disque", Niveau.OK)]),
                            uai=UAI, commune="bellerive")  # fmt: skip
        magasin.terminer(ex)


@pytest.fixture
def magasin(tmp_path: Path) -> Magasin:
    m = Magasin(f"sqlite:///{tmp_path}/r.sqlite")
    remplir(m)
    return m


def test_rapport_html_json_csv(territoire, magasin):
    r = rapport.construire(territoire, Selection(ecoles=(UAI,)).verifier(territoire), magasin)
    (e,) = r.ecoles
    assert e.compte == {"OK": 1, "ATTENTION": 0, "CRITIQUE": 1, "injoignable": 1}
    assert [v["nom"] for v in e.a_visiter] == ["pc-jean-jaures-02", "pc-jean-jaures-03"]
    assert [(p.ok, p.critique, p.injoignable) for p in e.tendance] == [(2, 1, 0), (2, 1, 0), (1, 1, 1)]
    html = rapport.en_html(r)
    assert "<svg" in html and "Appareils à visiter" in html and "presque plein" in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")  # no external asset
    assert "<script" not in html and "@page" in html
    donnees = json.loads(rapport.en_json(r))
    assert donnees["ecoles"][0]["compte"]["CRITIQUE"] == 1
    lignes = list(csv.DictReader(io.StringIO(rapport.en_csv(r)), delimiter=";"))
    assert {
        "appareil": "pc-jean-jaures-02",
        "verification": "disque",
        "niveau": "CRITIQUE",
    }.items() <= lignes[2].items()
    assert any(ligne["statut"] == "injoignable" for ligne in lignes)


def test_rapport_commune_regroupe_les_ecoles(territoire, magasin):
    r = rapport.construire(territoire, Selection(communes=("bellerive",)).verifier(territoire), magasin)
    assert [c for c, _ in r.communes()] == ["Bellerive-sur-Garonne"]
    assert len(r.ecoles) == 2 and "commune de Bellerive" in r.titre


def test_derniere_reussite(magasin):
    d = dernieres_reussites(magasin, ["pc-jean-jaures-01", "pc-jean-jaures-03", "inconnu"])
    assert set(d) == {"pc-jean-jaures-01", "pc-jean-jaures-03"}


# -- Nagios: parsed the way a monitoring server reads a plugin ------------------------------
LIGNE = re.compile(r"^ARDOISE (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.+))?$")
PERF = re.compile(r"^'([^'=]+)'=(-?[\d.]+)(s|%|B|KB|MB|TB|c)?(;[\d.:~@-]*){0,4}$")
CODES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def nagios(base: str, uai: str = UAI, *args: str) -> tuple[str, str, dict, int]:
    env = {**os.environ, "ARDOISE_BASE": base}
    r = subprocess.run([ARDOISE, "maintenance", "check-nagios", "--ecole", uai, "--inventaire", str(RACINE / "inventaire"), *args],
                       capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    lignes = r.stdout.splitlines()
    assert len(lignes) == 1, r.stdout + r.stderr  # one status line
    m = LIGNE.match(lignes[0])
    assert m, lignes[0]
    assert CODES[m.group(1)] == r.returncode  # exit code agrees with the status word
    perf = {}
    for item in (m.group(3) or "").split():
        pm = PERF.match(item)
        assert pm, item
        perf[pm.group(1)] = float(pm.group(2))
    return m.group(1), m.group(2), perf, r.returncode


def test_nagios_critique_avec_perfdata(magasin):
    statut, texte, perf, code = nagios(magasin.url)
    assert (statut, code) == ("CRITICAL", 2)
    assert "pc-jean-jaures-02 (disque)" in texte and "injoignable(s) : pc-jean-jaures-03" in texte
    assert perf["appareils"] == 3 and perf["critique"] == 1 and perf["injoignables"] == 1 and perf["ok"] == 1


def test_nagios_ok_attention_inconnu(tmp_path):
    m = Magasin(f"sqlite:///{tmp_path}/n.sqlite")
    assert nagios(m.url)[0] == "UNKNOWN"  # nothing recorded yet
    ex = m.commencer("maintenance")
    m.enregistrer(
        ex, ResultatHote("pc-jean-jaures-01", StatutHote.ok, verifications=[_v("disque", Niveau.OK)]), uai=UAI
    )
    assert nagios(m.url)[:2] == ("OK", "0331101T Groupe scolaire Jean-Jaurès : 1/1 appareil(s) correct(s)")
    ex = m.commencer("maintenance")
    m.enregistrer(
        ex,
        ResultatHote("pc-jean-jaures-01", StatutHote.ok, verifications=[_v("unites", Niveau.ATTENTION)]),
        uai=UAI,
    )
    assert nagios(m.url)[0] == "WARNING"
    assert nagios(m.url, UAI, "--age-max", "0")[0] == "UNKNOWN"  # stale results
    assert nagios(m.url, "0000000A")[0] == "UNKNOWN"  # unknown school: UNKNOWN, not a traceback


# -- scheduling -----------------------------------------------------------------------------
def test_planifier_dans_les_fenetres(territoire, tmp_path):
    sel = Selection(communes=("bellerive",)).verifier(territoire)
    plan = planification.planifier(territoire, sel, "mercredi 13:00", "politique")
    assert plan.calendrier == "Wed *-*-* 13:00:00" and plan.zone == "A" and plan.duree_max_s == 5 * 3600
    fichiers = {f.name: f.read_text() for f in planification.ecrire(plan, tmp_path)}
    service = fichiers["ardoise-maintenance-bellerive.service"]
    assert (
        "ExecCondition=" in service
        and "vacances --zone A" in service
        and "lancer --commune bellerive" in service
    )
    assert "OnCalendar=Wed *-*-* 13:00:00" in fichiers["ardoise-maintenance-bellerive.timer"]
    r = subprocess.run(
        ["systemd-analyze", "verify", *(str(tmp_path / n) for n in fichiers)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    with pytest.raises(ErreurUsage, match="hors des fenêtres"):
        planification.planifier(territoire, sel, "mercredi 09:00", "politique")
    castelnau = Selection(communes=("castelnau",)).verifier(territoire)  # its own window: 14:00-17:00
    with pytest.raises(ErreurUsage, match="14:00–17:00"):
        planification.planifier(territoire, castelnau, "mercredi 13:00", None)
    plan = planification.planifier(territoire, sel, "lundi,jeudi 17h30", "zone-c")
    assert plan.calendrier == "Mon,Thu *-*-* 17:30:00" and plan.zone == "C"


def test_calendrier_des_vacances():
    cal = planification.Calendrier.charger()
    assert cal.source.startswith("paquet PyPI vacances-scolaires-france") and cal.date
    assert cal.vacances("A", dt.date(2026, 10, 20)).nom == "Vacances de la Toussaint"
    assert cal.vacances("A", dt.date(2026, 11, 23)) is None
    hiver = [p for p in cal.periodes if p.nom == "Vacances d'hiver" and p.debut.year == 2027]
    assert len({p.debut for p in hiver}) == 3  # zones A, B, C differ
    assert cal.fin_couverture() >= dt.date(2028, 6, 30)


def test_rafraichir_reproduit_le_fichier_livre(tmp_path):
    livre = planification.Calendrier.charger()
    neuf = planification.Calendrier.charger(planification.rafraichir(tmp_path / "v.csv"))
    assert neuf.periodes == livre.periodes


# -- the CLI's own entry point ------------------------------------------------------------
def test_cli_rapport_et_erreur_d_usage(magasin, tmp_path):
    env = {**os.environ, "ARDOISE_BASE": magasin.url, "ARDOISE_INVENTAIRE": str(RACINE / "inventaire")}
    r = subprocess.run([ARDOISE, "maintenance", "lancer", "--ecole", UAI, "--verifications", "disque,dique"],
                       capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert (
        r.returncode == 2
        and "vérification(s) inconnue(s) : dique" in r.stderr
        and "Traceback" not in r.stderr
    )
    sortie = tmp_path / "r.html"
    r = subprocess.run([ARDOISE, "maintenance", "rapport", "--commune", "bellerive", "--sortie", str(sortie)],
                       capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert r.returncode == 0 and "rapport écrit" in r.stderr and "<svg" in sortie.read_text()
    r = subprocess.run([ARDOISE, "maintenance", "rapport", "--ecole", UAI, "--format", "csv", "--depuis", "01/01/2020"],
                       capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("uai;commune;appareil;statut")
    r = subprocess.run(
        [ARDOISE, "maintenance", "rapport", "--depuis", "hier"], capture_output=True, text=True, env=env
    )
    assert r.returncode == 2 and "JJ/MM/AAAA" in r.stderr
