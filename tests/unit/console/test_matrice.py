"""The route matrix, generated from ``app.routes``: every route × role × (own commune, other commune).

A commune account (scoped to bellerive) must get 403/404 on every read and action aimed at another commune's
objects, and the answer must contain nothing of that commune (names, UAI, devices, accounts); its own pages
must not mention other communes either. On its own commune, reads answer 200 and actions are accepted
(303 to the job) or refused (403) according to the role. No page or API answer ever carries a vault secret.
A route added without a sampler for its path parameters makes this test fail.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from ardoise.inventaire import coffre
from ardoise.inventaire.chargeur import charger
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.modeles import TacheConsole
from tests.unit.console.conftest import MDP, ROLES, ROLES_COMMUNE, creer_console

PROPRE, AUTRE = "bellerive", "saint-aubin"
ROUTES_AUTHENTIFICATION = {("GET", "/connexion"), ("POST", "/connexion"), ("POST", "/deconnexion")}
ROUTES_COMPTES = {"/comptes", "/comptes/{identifiant}/desactiver", "/comptes/{identifiant}/communes"}


def _objets(t, magasin, commune: str) -> dict[str, str]:
    """One object of each kind in ``commune``, as the route parameters name them."""
    e = t.ecoles_de(commune)[0]
    poste = e.modele.postes[0].nom
    demande = next((d.id for d in e.modele.demandes if d.statut.value == "demandee"), e.modele.demandes[0].id)
    ssid = next(w.ssid for w in e.modele.wifi if w.coupable)
    ex = magasin.commencer("maintenance", selection={"ecoles": [e.uai]})
    magasin.enregistrer(ex, ResultatHote(poste, StatutHote.ok, verifications=[
        Verification("disque", "Disque", Niveau.CRITIQUE, "disque plein à 97 %")]), uai=e.uai, commune=commune)  # fmt: skip
    magasin.terminer(ex)
    atelier = magasin.commencer("atelier", lot=f"lot-{commune}")
    magasin.enregistrer(atelier, ResultatHote(poste, StatutHote.ok, verifications=[
        Verification("nom_hote", "Nom d'hôte", Niveau.OK, "correct")]), uai=e.uai, commune=commune)  # fmt: skip
    magasin.terminer(atelier)
    with magasin.session() as s:
        tache = TacheConsole(genre="maintenance", commune=commune, uai=e.uai, cible=e.uai, qui="test",
                             statut="termine", execution_id=ex)  # fmt: skip
        s.add(tache)
        s.flush()
        ident_tache = tache.id
    return {"uai": e.uai, "nom": poste, "commune": commune, "demande": demande, "ssid": ssid,
            "identifiant": f"cible-{commune}", "tache": str(ident_tache), "execution": str(ex)}  # fmt: skip


def _marqueurs(t, commune: str, objets: dict[str, str]) -> list[str]:
    """What must never appear in an answer to someone who does not see ``commune``."""
    c = t.commune(commune)
    marqueurs = {c.id, c.nom, objets["nom"], objets["identifiant"]}
    for e in t.ecoles_de(commune):
        marqueurs |= {e.uai, e.uai.lower(), e.nom}
    return sorted(marqueurs)


FORMULAIRES = {
    "/ecoles/{uai}/demandes/{demande}": lambda o, role: {"decision": "refuser"},
    "/ecoles/{uai}/wifi/{ssid}": lambda o, role: {"action": "couper"},
    "/appareils/{nom}/etat": lambda o, role: {"etat": "reserve"},
    "/comptes": lambda o, role: {
        "identifiant": f"nouveau-{role}-{o['commune']}",
        "role": "lecteur",
        "communes": o["commune"],
        "mot_de_passe": MDP,
    },  # fmt: skip
    "/comptes/{identifiant}/communes": lambda o, role: {"communes": o["commune"]},
}


@pytest.fixture(scope="module")
def banc(tmp_path_factory, modele):
    c = creer_console(tmp_path_factory.mktemp("matrice"), base=modele[1])
    t = charger(c.inventaire)
    objets = {k: _objets(t, c.magasin, k) for k in (PROPRE, AUTRE)}
    secrets = [s.reveler() for s in coffre.reveler(t.fichier_coffre, sorted(t.noms_coffre)).values()]
    yield {"console": c, "t": t, "objets": objets, "marqueurs": _marqueurs(t, AUTRE, objets[AUTRE])
           + _marqueurs(t, "castelnau", _objets(t, c.magasin, "castelnau")), "secrets": secrets}  # fmt: skip
    c.app.state.taches.fermer()


def _routes(app) -> list[tuple[str, str]]:
    routes = []
    for r in app.routes:
        if isinstance(r, APIRoute):
            routes += [(m, r.path) for m in sorted(r.methods) if (m, r.path) not in ROUTES_AUTHENTIFICATION]
    return routes


def test_chaque_route_a_ses_echantillons(banc):
    routes = _routes(banc["console"].app)
    assert len(routes) >= 20
    echantillons = set(banc["objets"][PROPRE])
    for _m, chemin in routes:
        params = set(re.findall(r"{(\w+)}", chemin))
        assert params <= echantillons, f"{chemin} : paramètre sans échantillon dans la matrice"
    noms = {chemin for _m, chemin in _routes(banc["console"].app)}
    assert {"/ecoles/{uai}", "/appareils/{nom}", "/api/taches/{tache}", "/executions/{execution}"} <= noms


def _attendu(role: str, methode: str, chemin: str) -> set[int]:
    """Statuses allowed on one's own commune."""
    comptes = chemin in ROUTES_COMPTES
    if methode == "GET":
        return {403} if comptes and role not in ("admin-syndicat", "admin-commune") else {200}
    if comptes:
        return {303} if role in ("admin-syndicat", "admin-commune") else {403}
    return {403} if role == "lecteur" else {303}


def _requete(client, csrf, methode, chemin, objets, role):
    url = re.sub(r"{(\w+)}", lambda m: objets[m.group(1)], chemin)
    if methode == "GET":
        return client.get(url, follow_redirects=False)
    donnees = {"csrf": csrf, **FORMULAIRES.get(chemin, lambda o, r: {})(objets, role)}
    return client.post(url, data=donnees, follow_redirects=False)


@pytest.mark.parametrize("role", ROLES)
def test_matrice(banc, role):
    c = banc["console"]
    client = c.connecter(role)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    problemes = []
    cotes = [("propre", PROPRE)] + ([("autre", AUTRE)] if role in ROLES_COMMUNE else [])
    for methode, chemin in _routes(c.app):
        for cote, commune in cotes:
            r = _requete(client, csrf, methode, chemin, banc["objets"][commune], role)
            corps = r.text
            if cote == "propre" and r.status_code not in _attendu(role, methode, chemin):
                problemes.append(f"{methode} {chemin} ({cote}) : {r.status_code} {corps[:200]}")
            vise_un_objet = "{" in chemin or methode == "POST"  # a list page has no "other commune" variant
            if cote == "autre" and vise_un_objet and r.status_code not in (403, 404):
                problemes.append(f"{methode} {chemin} ({cote}) : {r.status_code} au lieu de 403/404")
            if role in ROLES_COMMUNE:
                fuites = [m for m in banc["marqueurs"] if m in corps]
                if fuites:
                    problemes.append(f"{methode} {chemin} ({cote}) : laisse voir {fuites}")
            secrets = [s for s in banc["secrets"] if s in corps]
            if secrets:
                problemes.append(f"{methode} {chemin} ({cote}) : un secret du coffre apparaît")
    assert not problemes, "\n".join(problemes)
    if role in ("admin-syndicat", "technicien-syndicat"):  # they see every commune
        assert client.get(f"/ecoles/{banc['objets'][AUTRE]['uai']}").status_code == 200
