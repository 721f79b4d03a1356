"""Sessions, cookies, CSRF, login throttling, security headers, audit trail (ASVS 5.0 L2 as reference)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from ardoise.console import comptes
from ardoise.resultats.modeles import Evenement, SessionConsole, UtilisateurConsole
from tests.unit.console.conftest import MDP, creer_console, csrf, jeton_connexion


def _evenements(magasin, action):
    with magasin.session() as s:
        return [
            (e.qui, e.resultat, e.cible)
            for e in s.scalars(select(Evenement).where(Evenement.action == action))
        ]


def test_pas_de_compte_par_defaut(tmp_path, modele):
    c = creer_console(tmp_path, inventaire=modele[0])
    client = c.client()
    for identifiant, mdp in (("admin", "admin"), ("admin", MDP), ("ardoise", "ardoise")):
        r = client.post("/connexion", data={"identifiant": identifiant, "mot_de_passe": mdp,
                                            "csrf": jeton_connexion(client)}, follow_redirects=False)  # fmt: skip
        assert r.status_code == 401 and "identifiant ou mot de passe incorrect" in r.text
    assert comptes.lister(c.magasin) == []
    assert client.get("/", follow_redirects=False).headers["location"] == "/connexion"


def test_mot_de_passe_hache_argon2_jamais_en_clair(console):
    with console.magasin.session() as s:
        u = s.scalars(select(UtilisateurConsole).where(UtilisateurConsole.identifiant == "lecteur")).one()
    assert u.hachage.startswith("$argon2id$") and MDP not in u.hachage
    octets = console.magasin.url.removeprefix("sqlite:///")
    assert MDP.encode() not in open(octets, "rb").read()


def test_cookies_host_secure_httponly_samesite_et_nouveau_jeton(console):
    client = console.client()
    r = client.get("/connexion")
    avant = r.headers["set-cookie"]
    assert avant.startswith("__Host-ardoise-csrf=") and "Secure" in avant and "HttpOnly" in avant
    assert "SameSite=strict" in avant and "Path=/" in avant and "Domain" not in avant
    client.cookies.set("__Host-ardoise-session", "jeton-impose-par-un-attaquant")  # fixation attempt
    r = client.post("/connexion", data={"identifiant": "lecteur", "mot_de_passe": MDP,
                                        "csrf": jeton_connexion(client)}, follow_redirects=False)  # fmt: skip
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-ardoise-session=") and "Secure" in cookie and "HttpOnly" in cookie
    jeton = cookie.split(";")[0].split("=", 1)[1]
    assert jeton != "jeton-impose-par-un-attaquant" and len(jeton) >= 40
    with console.magasin.session() as s:  # only the SHA-256 of the token is stored
        assert [x.empreinte for x in s.scalars(select(SessionConsole))] == [
            hashlib.sha256(jeton.encode()).hexdigest()
        ]
    # a second login gives another token; the first session stays valid only for its own holder
    autre = console.connecter("lecteur")
    assert autre.cookies.get("__Host-ardoise-session") != jeton


def test_http_local_sans_prefixe_ni_secure(tmp_path, modele):
    c = creer_console(tmp_path, inventaire=modele[0], base=modele[1], http_local=True)
    client = c.client()
    cookie = client.get("/connexion").headers["set-cookie"]
    assert cookie.startswith("ardoise-csrf=") and "Secure" not in cookie and "HttpOnly" in cookie
    c.connecter("lecteur", client=client)
    assert client.get("/").status_code == 200


def test_inactivite_30_minutes(console):
    client = console.connecter("lecteur")
    console.horloge.avancer(minutes=29)
    assert client.get("/").status_code == 200  # activity restarts the idle clock
    console.horloge.avancer(minutes=29)
    assert client.get("/").status_code == 200
    console.horloge.avancer(minutes=31)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/connexion"
    assert client.get("/api/taches/1").status_code == 401


def test_duree_absolue_12_heures(console):
    client = console.connecter("lecteur")
    for _ in range(24):  # active every 29 minutes for 11 h 36
        console.horloge.avancer(minutes=29)
        assert client.get("/api/taches/0").status_code == 404  # a live session (401 otherwise), nothing found
    console.horloge.avancer(minutes=25)  # 12 h 01 after login, active 25 minutes ago
    assert client.get("/api/taches/0").status_code == 401
    assert client.get("/executions", follow_redirects=False).status_code == 303


def test_deconnexion_invalide_la_session(console):
    client = console.connecter("lecteur")
    jeton = client.cookies.get("__Host-ardoise-session")
    r = client.post("/deconnexion", data={"csrf": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/connexion"
    vol = console.client()  # the old token replayed by someone who kept it
    vol.cookies.set("__Host-ardoise-session", jeton)
    assert vol.get("/", follow_redirects=False).status_code == 303
    assert ("lecteur", "ok", "lecteur") in _evenements(console.magasin, "console.deconnexion")


def test_compte_desactive_sessions_fermees(console):
    client = console.connecter("technicien-commune")
    assert client.get("/").status_code == 200
    admin = console.connecter("admin-commune")
    r = admin.post("/comptes/technicien-commune/desactiver", data={"csrf": csrf(admin, "/comptes")},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/connexion"
    r = console.client().post("/connexion", data={"identifiant": "technicien-commune", "mot_de_passe": MDP,
                                                  "csrf": jeton_connexion(console.client())})  # fmt: skip
    assert r.status_code in (401, 403)


def test_csrf_obligatoire_sur_chaque_post(console_modifiable):
    console = console_modifiable
    client = console.connecter("admin-syndicat")
    fichier = next(console.inventaire.glob("communes/bellerive/ecoles/0331101t-*.yml"))
    avant = fichier.read_text()
    for donnees in ({}, {"csrf": "faux"}, {"csrf": ""}):
        r = client.post("/ecoles/0331101T/demandes/d-11-02", data={**donnees, "decision": "approuver"})
        assert r.status_code == 403 and "jeton de formulaire" in r.text
        r = client.post("/deconnexion", data=donnees)
        assert r.status_code == 403
    assert fichier.read_text() == avant
    assert client.get("/").status_code == 200  # still logged in: the forged logout did nothing
    # login CSRF: a form posted from elsewhere (no matching cookie) is refused
    r = console.client().post("/connexion", data={"identifiant": "lecteur", "mot_de_passe": MDP, "csrf": "x"})
    assert r.status_code == 403
    assert _evenements(console.magasin, "console.csrf")


def test_limitation_des_tentatives(console):
    client = console.client()

    def essai(mdp):
        return client.post("/connexion", data={"identifiant": "lecteur", "mot_de_passe": mdp,
                                               "csrf": jeton_connexion(client)}, follow_redirects=False)  # fmt: skip

    for _ in range(5):
        assert essai("pas le bon mot de passe").status_code == 401
    r = essai(MDP)  # the right password no longer opens during the block
    assert r.status_code == 429 and "trop de tentatives" in r.text
    console.horloge.avancer(seconds=61)
    assert essai(MDP).status_code == 303
    client = console.client()
    refus = _evenements(console.magasin, "console.connexion")
    assert refus.count(("lecteur", "refuse", "lecteur")) == 5 and ("lecteur", "bloque", "lecteur") in refus
    assert ("lecteur", "ok", "lecteur") in refus
    # five more failures block again; a failure after that block doubles the next one (2 min)
    for _ in range(5):
        essai("faux")
    assert essai(MDP).status_code == 429
    console.horloge.avancer(seconds=61)
    assert essai("faux").status_code == 401
    assert essai(MDP).status_code == 429
    console.horloge.avancer(seconds=61)
    assert essai(MDP).status_code == 429
    console.horloge.avancer(minutes=20)  # a quiet quarter of an hour after the block: counting starts afresh
    for _ in range(4):
        assert essai("faux").status_code == 401
    assert essai(MDP).status_code == 303


def test_entetes_de_securite(console):
    client = console.connecter("lecteur")
    for chemin in ("/connexion", "/", "/ecoles/0331101T", "/statique/console.js"):
        h = client.get(chemin).headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
        assert h["referrer-policy"] == "no-referrer"
    page = client.get("/ecoles/0331101T").text
    assert "<script>" not in page and " style=" not in page and "onclick" not in page
    assert client.get("/").headers["cache-control"] == "no-store"
    rapport = client.get("/ecoles/0331101T/maintenance.html").headers
    assert "sandbox" in rapport["content-security-policy"] and rapport["x-frame-options"] == "SAMEORIGIN"
    for chemin in (
        "/docs",
        "/openapi.json",
        "/executions/pas-un-nombre",
    ):  # French page, nothing of FastAPI's
        r = client.get(chemin)
        assert (
            r.status_code == 404 and "cette adresse n&#39;existe pas ici" in r.text and "detail" not in r.text
        )


def test_refus_journalises(console):
    client = console.connecter("lecteur")
    assert client.get("/ecoles/0332201N").status_code == 404
    r = client.post("/ecoles/0331101T/maintenance/lancer", data={"csrf": csrf(client)})
    assert r.status_code == 403
    refus = _evenements(console.magasin, "console.acces_refuse")
    assert ("lecteur", "introuvable", "ecole:0332201N") in refus
    assert ("lecteur", "interdit", "maintenance:0331101T") in refus
