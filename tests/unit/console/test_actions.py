"""Actions from the console: each runs as a background job through the CLI's own function, is scoped, logged
(who/when/what) and idempotent; moving an account checks both its source and its destination communes."""

from __future__ import annotations

import difflib
import subprocess

from sqlalchemy import select

from ardoise.console import comptes
from ardoise.inventaire.chargeur import charger
from ardoise.resultats.modeles import Evenement, Execution, ResultatHoteLigne
from tests.unit.console.conftest import csrf

ECOLE = "0331101T"


def _fichier(console):
    return next(console.inventaire.glob("communes/bellerive/ecoles/0331101t-*.yml"))


def _evenements(magasin, action):
    with magasin.session() as s:
        return [(e.qui, e.resultat, e.cible, e.commune) for e in
                s.scalars(select(Evenement).where(Evenement.action == action).order_by(Evenement.id))]  # fmt: skip


def test_approuver_une_demande_modifie_une_seule_ligne(console_modifiable):
    c = console_modifiable
    client = c.connecter("technicien-commune")
    avant = _fichier(c).read_text()
    r = client.post(f"/ecoles/{ECOLE}/demandes/d-11-02", data={"csrf": csrf(client), "decision": "approuver"},
                    follow_redirects=False)  # fmt: skip
    ident = c.attendre(r)
    apres = _fichier(c).read_text()
    changements = [ligne for ligne in difflib.unified_diff(avant.splitlines(), apres.splitlines(), n=0)
                   if ligne[:1] in "+-" and not ligne.startswith(("+++", "---"))]  # fmt: skip
    assert changements == ["-  statut: demandee", "+  statut: approuvee"]  # comments and order kept
    e = charger(c.inventaire).ecole(ECOLE)
    assert next(d for d in e.modele.demandes if d.id == "d-11-02").statut.value == "approuvee"
    page = client.get(f"/taches/{ident}").text
    assert "demande d-11-02 (scratch, M. Bernard) : approuvee" in page
    assert ("technicien-commune", "ok", f"{ECOLE}/d-11-02", "bellerive") in _evenements(
        c.magasin, "console.demande"
    )
    # twice: nothing changes, the job says why
    r = client.post(f"/ecoles/{ECOLE}/demandes/d-11-02", data={"csrf": csrf(client), "decision": "refuser"},
                    follow_redirects=False)  # fmt: skip
    ident = c.attendre(r)
    assert _fichier(c).read_text() == apres
    assert "déjà « approuvee »" in client.get(f"/api/taches/{ident}").json()["message"]


def test_marquer_en_panne_puis_reserve(console_modifiable):
    c = console_modifiable
    client = c.connecter("admin-commune")
    for etat in ("en_panne", "reserve", "reserve"):
        r = client.post("/appareils/pc-jean-jaures-01/etat", data={"csrf": csrf(client), "etat": etat},
                        follow_redirects=False)  # fmt: skip
        ident = c.attendre(r)
        assert client.get(f"/api/taches/{ident}").json()["statut"] == "termine"
        assert next(p.etat.value for p in charger(c.inventaire).ecole(ECOLE).modele.postes
                    if p.nom == "pc-jean-jaures-01") == etat  # fmt: skip
    assert "déjà « reserve »" in client.get(f"/api/taches/{ident}").json()["message"]
    assert "reserve" in client.get("/appareils/pc-jean-jaures-01").text
    r = client.post("/appareils/pc-jean-jaures-01/etat", data={"csrf": csrf(client), "etat": "reforme"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 400 and "seuls en_panne, reserve" in r.text


def test_couper_puis_retablir_un_ssid_sans_secret(console, caplog):
    from ardoise.inventaire import coffre

    c = console
    client = c.connecter("technicien-commune")
    t = charger(c.inventaire)
    ssid = next(w.ssid for w in t.ecole(ECOLE).modele.wifi if w.coupable)
    for action, mot in (("couper", "coupé"), ("retablir", "actif")):
        r = client.post(f"/ecoles/{ECOLE}/wifi/{ssid}", data={"csrf": csrf(client), "action": action},
                        follow_redirects=False)  # fmt: skip
        ident = c.attendre(r)
        assert client.get(f"/api/taches/{ident}").json()["statut"] == "termine"
        page = client.get(f"/ecoles/{ECOLE}").text
        ligne = page[page.index(f"<td>{ssid}</td>") :][:600]
        assert mot in ligne
    assert [a for _q, a, *_ in _evenements(c.magasin, "wifi.couper")] == ["ok"]
    fichiers = list((c.reglages.dossier_wifi / ECOLE).rglob("*"))
    assert fichiers  # configurations regenerated on disk (mode 0600 for those holding a key)...
    secrets = [s.reveler() for s in coffre.reveler(t.fichier_coffre, sorted(t.noms_coffre)).values()]
    textes = [client.get(f"/taches/{ident}").text, client.get(f"/api/taches/{ident}").text, caplog.text,
              client.get(f"/ecoles/{ECOLE}").text]  # fmt: skip
    assert not [s for s in secrets for texte in textes if s in texte]  # ...but no key in a page, API or log


def test_balayage_avec_avancement_depuis_le_magasin(console):
    c = console
    client = c.connecter("technicien-commune")
    r = client.post(
        f"/ecoles/{ECOLE}/maintenance/lancer", data={"csrf": csrf(client)}, follow_redirects=False
    )
    ident = c.attendre(r)
    a = client.get(f"/api/taches/{ident}").json()
    assert a["fini"] and a["statut"] == "termine" and a["attendus"] > 0, a
    with c.magasin.session() as s:
        ex = s.get(Execution, a["execution"])
        statuts = [
            r.statut
            for r in s.scalars(select(ResultatHoteLigne).where(ResultatHoteLigne.execution_id == ex.id))
        ]
    assert ex.genre == "maintenance" and ex.utilisateur == "console:technicien-commune"
    assert a["faits"] == len(statuts) == a["attendus"]
    # no device exists here: every Linux PC is unreachable (the rest is not checked over SSH)
    assert a["echecs"] == statuts.count("injoignable") > 0
    assert "injoignable(s)" in a["message"]
    page = client.get(f"/executions/{ex.id}").text
    assert "pc-jean-jaures-01" in page and "injoignable" in page
    assert ("technicien-commune", "lance", ECOLE, "bellerive") in _evenements(
        c.magasin, "console.maintenance"
    )


def test_audit_lance_et_constats_sur_la_page_ecole(console):
    from ardoise.console.taches import audit_disponible

    if not audit_disponible():
        assert "lancer-audit" not in console.connecter("admin-syndicat").get(f"/ecoles/{ECOLE}").text
        return
    client = console.connecter("admin-syndicat")
    r = client.post(f"/ecoles/{ECOLE}/audit/lancer", data={"csrf": csrf(client)}, follow_redirects=False)
    ident = console.attendre(r)
    assert client.get(f"/api/taches/{ident}").json()["message"] == "audit terminé : 1 constat(s)"
    page = client.get(f"/ecoles/{ECOLE}").text
    assert "appareil non déclaré sur le VLAN élèves" in page


def test_deplacer_un_compte_verifie_source_et_destination(console):
    c = console
    admin = c.connecter("admin-commune")  # bellerive
    jeton = csrf(admin, "/comptes")
    # destination outside: a bellerive account cannot be moved to saint-aubin
    r = admin.post("/comptes/cible-bellerive/communes", data={"csrf": jeton, "communes": "saint-aubin"})
    assert r.status_code == 403
    # source outside: a saint-aubin account cannot be pulled into bellerive
    r = admin.post("/comptes/cible-saint-aubin/communes", data={"csrf": jeton, "communes": "bellerive"})
    assert r.status_code == 404 and "saint-aubin" not in r.text
    # nor widened to a syndicat role's reach, nor created elsewhere
    r = admin.post("/comptes", data={"csrf": jeton, "identifiant": "intrus", "role": "admin-syndicat",
                                     "mot_de_passe": "une phrase assez longue"})  # fmt: skip
    assert r.status_code == 403
    assert comptes.lire(c.magasin, "cible-bellerive").communes == ("bellerive",)
    assert comptes.lire(c.magasin, "cible-saint-aubin").communes == ("saint-aubin",)
    assert comptes.lire(c.magasin, "intrus") is None
    syndicat = c.connecter("admin-syndicat")
    r = syndicat.post("/comptes/cible-bellerive/communes", data={"csrf": csrf(syndicat, "/comptes"),
                                                                  "communes": "saint-aubin"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and comptes.lire(c.magasin, "cible-bellerive").communes == ("saint-aubin",)
    assert "cible-bellerive" not in admin.get("/comptes").text  # moved out of the commune admin's reach


def test_creer_un_compte_depuis_la_console(console):
    admin = console.connecter("admin-commune")
    jeton = csrf(admin, "/comptes")
    r = admin.post("/comptes", data={"csrf": jeton, "identifiant": "mme-martin", "role": "lecteur",
                                     "communes": "bellerive", "mot_de_passe": "azertyuiop123"})  # fmt: skip
    assert r.status_code == 400 and "trop courant" in r.text
    r = admin.post("/comptes", data={"csrf": jeton, "identifiant": "mme-martin", "role": "lecteur",
                                     "communes": "bellerive", "mot_de_passe": "trois pommes sur la table"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    nouveau = console.connecter("mme-martin", "trois pommes sur la table")
    assert "Groupe scolaire Jean-Jaurès" in nouveau.get("/").text
    assert ("admin-commune", "ok", "mme-martin", None) in _evenements(console.magasin, "console.compte.creer")


def test_mode_labo_refuse_quand_le_labo_est_arrete(tmp_path, modele, monkeypatch):
    from ardoise.labo.labo import Labo
    from tests.unit.console.conftest import creer_console

    monkeypatch.setattr(Labo, "etat", lambda self: {"demarre": False, "hotes": {}})  # stand-in: a stopped lab
    c = creer_console(tmp_path, inventaire=modele[0], base=modele[1], labo=True)
    client = c.connecter("technicien-commune")
    r = client.post(
        f"/ecoles/{ECOLE}/maintenance/lancer", data={"csrf": csrf(client)}, follow_redirects=False
    )
    assert r.status_code == 400 and "labo n&#39;est pas démarré" in r.text
    with c.magasin.session() as s:
        assert s.scalar(select(Execution.id)) is None  # nothing swept
    c.app.state.taches.fermer()


def test_une_tache_coupee_par_un_arret_de_la_console_ne_reste_pas_en_cours(tmp_path, modele):
    """A console stopped mid-job leaves the job's row « en cours »: the next console start closes it as
    failed and says why; the page and the polling API see it finished. A job of a console that still runs
    on the same store is left alone."""
    from ardoise.resultats.magasin import processus_courant
    from ardoise.resultats.modeles import TacheConsole
    from tests.unit.console.conftest import creer_console

    (tmp_path / "a").mkdir()
    premiere = creer_console(tmp_path / "a", inventaire=modele[0], base=modele[1])
    ici = processus_courant()
    parti = {**ici, "pid": _pid_termine(), "debut": None}
    with premiere.magasin.session() as s:
        # job 1: its console is gone; job 2: a console still running (this test's process)
        for processus in (parti, ici):
            s.add(TacheConsole(genre="balayage", commune="bellerive", uai=ECOLE, cible=ECOLE,
                               qui="technicien-commune", statut="en_cours", attendus=3,
                               details={"processus": processus}))  # fmt: skip
    premiere.app.state.taches.fermer()
    premiere.magasin.moteur.dispose()
    base = tmp_path / "a" / "resultats.sqlite"
    (tmp_path / "b").mkdir()
    seconde = creer_console(tmp_path / "b", inventaire=modele[0], base=base)
    try:
        client = seconde.connecter("technicien-commune")
        etat = client.get("/api/taches/1").json()
        assert etat["fini"] and "interrompue" in etat["message"] and "relancez-la" in etat["message"]
        assert "échec" in client.get("/taches/1").text
        assert not client.get("/api/taches/2").json()["fini"]  # another live console's job is left alone
    finally:
        seconde.app.state.taches.fermer()


def _pid_termine() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid
