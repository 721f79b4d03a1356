"""The console's web application: FastAPI routes rendering Jinja2 pages, sessions, CSRF, security headers.

Every route gets the user's :class:`~ardoise.console.portee.Portee` and reads only through it; the routes
never filter anything themselves. State-changing requests are POST forms carrying the session's CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from ardoise.console import comptes
from ardoise.console.comptes import LIBELLES_ROLES, Role, SessionOuverte
from ardoise.console.portee import Interdit, Introuvable, Portee
from ardoise.console.taches import ETATS_MARQUABLES, LIBELLES_GENRES, Reglages, Taches, audit_disponible
from ardoise.erreurs import ArdoiseErreur, ErreurManifeste
from ardoise.inventaire.types import Etat, TypeEquipement
from ardoise.resultats.magasin import Magasin
from ardoise.secrets import masquer

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
CSP_RAPPORT = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"


class NonConnecte(Exception):
    """No live session: pages redirect to the login form, API calls answer 401."""


class JetonInvalide(Exception):
    """Missing or wrong CSRF token: 403."""


@dataclass
class Noms:
    session: str
    csrf: str


def _noms_cookies(http_local: bool) -> Noms:
    if http_local:
        return Noms("ardoise-session", "ardoise-csrf")
    return Noms("__Host-ardoise-session", "__Host-ardoise-csrf")


def _date_fr(d: dt.datetime | dt.date | None, heure: bool = True) -> str:
    if d is None:
        return ""
    if isinstance(d, dt.datetime):
        d = (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).astimezone(PARIS)
        return d.strftime("%d/%m/%Y %H:%M" if heure else "%d/%m/%Y")
    return d.strftime("%d/%m/%Y")


def _environnement() -> Environment:
    env = Environment(loader=PackageLoader("ardoise.console", "gabarits"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)  # fmt: skip
    env.filters["date_fr"] = _date_fr
    env.globals.update(STATUTS_TACHES={"en_attente": "en attente", "en_cours": "en cours", "termine": "terminé",
                                       "echec": "échec"},
                       LIBELLES_ROLES=LIBELLES_ROLES, LIBELLES_GENRES=LIBELLES_GENRES, Role=Role,
                       ETATS_MARQUABLES=ETATS_MARQUABLES)  # fmt: skip
    return env


def creer_app(reglages: Reglages | None = None, magasin: Magasin | None = None) -> FastAPI:
    """The console application (routes, middleware, background jobs) over one results store."""
    reglages = reglages or Reglages()
    magasin = magasin or Magasin(reglages.base)
    taches = Taches(magasin, reglages)
    env = _environnement()
    noms = _noms_cookies(reglages.http_local)
    horloge = reglages.horloge
    avec_audit = audit_disponible()

    @asynccontextmanager
    async def vie(_app: FastAPI) -> AsyncIterator[None]:
        yield
        taches.fermer()

    app = FastAPI(title="Console Ardoise", docs_url=None, redoc_url=None, openapi_url=None, lifespan=vie)
    app.state.magasin, app.state.taches, app.state.reglages = magasin, taches, reglages
    statique = resources.files("ardoise.console") / "statique"
    app.mount("/statique", StaticFiles(directory=str(statique)), name="statique")

    # -- plumbing --------------------------------------------------------------------------------
    @app.middleware("http")
    async def entetes(request: Request, suite: Any) -> Response:
        reponse = await suite(request)
        h = reponse.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not reglages.http_local:
            h["Strict-Transport-Security"] = "max-age=31536000"
        if not request.url.path.startswith("/statique/"):
            h["Cache-Control"] = "no-store"
        return reponse

    def territoire():
        from ardoise.cli.commun import territoire as charger

        return charger(reglages.inventaire)

    def adresse(request: Request) -> str | None:
        return request.client.host if request.client else None

    def session_de(request: Request) -> SessionOuverte | None:
        return comptes.lire_session(magasin, request.cookies.get(noms.session), horloge)

    def contexte(request: Request) -> tuple[SessionOuverte, Portee]:
        s = session_de(request)
        if s is None:
            raise NonConnecte()
        return s, Portee(s.compte, territoire(), magasin)

    async def contexte_ecriture(request: Request) -> tuple[SessionOuverte, Portee, Any]:
        s, p = contexte(request)
        formulaire = await request.form()
        if not hmac.compare_digest(str(formulaire.get("csrf", "")), s.csrf):
            magasin.journaliser(
                "console.csrf", "refuse", cible=request.url.path[:128], qui=s.compte.identifiant
            )
            raise JetonInvalide()
        return s, p, formulaire

    def page(request: Request, gabarit: str, statut: int = 200, session: SessionOuverte | None = None,
             **ctx: Any) -> HTMLResponse:  # fmt: skip
        html = env.get_template(gabarit).render(session=session, chemin=request.url.path, **ctx)
        return HTMLResponse(html, status_code=statut)

    def vers(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def poser_cookie(reponse: Response, nom: str, valeur: str, samesite: str) -> None:
        reponse.set_cookie(nom, valeur, path="/", secure=not reglages.http_local, httponly=True,
                           samesite=samesite)  # type: ignore[arg-type]  # fmt: skip

    @app.exception_handler(NonConnecte)
    async def _non_connecte(request: Request, _e: NonConnecte) -> Response:
        if request.method == "GET" and not request.url.path.startswith("/api/"):
            return vers("/connexion")
        return JSONResponse({"erreur": "session absente ou expirée : reconnectez-vous"}, status_code=401)

    @app.exception_handler(JetonInvalide)
    async def _jeton(request: Request, _e: JetonInvalide) -> Response:
        return page(request, "erreur.html.j2", 403, session_de(request), titre="Requête refusée",
                    message="jeton de formulaire absent ou invalide : rechargez la page et recommencez")  # fmt: skip

    @app.exception_handler(Introuvable)
    async def _introuvable(request: Request, _e: Introuvable) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"erreur": "introuvable"}, status_code=404)
        return page(request, "erreur.html.j2", 404, session_de(request), titre="Introuvable",
                    message="cette page n'existe pas ou ne fait pas partie de vos communes")  # fmt: skip

    @app.exception_handler(Interdit)
    async def _interdit(request: Request, _e: Interdit) -> Response:
        return page(request, "erreur.html.j2", 403, session_de(request), titre="Action non permise",
                    message="votre rôle ne permet pas cette action")  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> Response:
        titres = {404: "Introuvable", 405: "Méthode non permise"}
        return page(request, "erreur.html.j2", e.status_code, session_de(request),
                    titre=titres.get(e.status_code, "Requête refusée"), message="cette adresse n'existe pas ici")  # fmt: skip

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, _e: RequestValidationError) -> Response:
        return page(request, "erreur.html.j2", 404, session_de(request), titre="Introuvable",
                    message="cette adresse n'existe pas ici")  # fmt: skip

    @app.exception_handler(ErreurManifeste)
    async def _manifeste(request: Request, e: ErreurManifeste) -> Response:
        log.error("console : %s", e)
        return page(request, "erreur.html.j2", 500, session_de(request), titre="Manifeste invalide",
                    message=f"{e} : « ardoise inventaire valider » les détaille")  # fmt: skip

    @app.exception_handler(ArdoiseErreur)
    async def _ardoise(request: Request, e: ArdoiseErreur) -> Response:
        return page(request, "erreur.html.j2", 400, session_de(request), titre="Action impossible",
                    message=masquer(str(e)))  # fmt: skip

    # -- login / logout --------------------------------------------------------------------------
    @app.get("/connexion", response_class=HTMLResponse)
    def connexion_formulaire(request: Request) -> Response:
        if session_de(request) is not None:
            return vers("/")
        jeton = request.cookies.get(noms.csrf) or secrets.token_urlsafe(32)
        reponse = page(request, "connexion.html.j2", csrf_connexion=jeton)
        poser_cookie(reponse, noms.csrf, jeton, "strict")
        return reponse

    @app.post("/connexion")
    async def connexion(request: Request) -> Response:
        f = await request.form()
        attendu = request.cookies.get(noms.csrf, "")
        if not attendu or not hmac.compare_digest(str(f.get("csrf", "")), attendu):
            raise JetonInvalide()
        identifiant = str(f.get("identifiant", ""))
        try:
            compte = comptes.authentifier(magasin, identifiant, str(f.get("mot_de_passe", "")), adresse(request),
                                          horloge)  # fmt: skip
        except comptes.ConnexionRefusee as e:
            reponse = page(request, "connexion.html.j2", 401 if not e.bloque_jusqu_a else 429,
                           csrf_connexion=attendu, erreur=str(e), identifiant=identifiant[:64])  # fmt: skip
            return reponse
        comptes.fermer_session(magasin, request.cookies.get(noms.session))  # no fixation: always a new token
        nouvelle = comptes.ouvrir_session(magasin, compte, adresse(request), horloge)
        reponse = vers("/")
        poser_cookie(reponse, noms.session, nouvelle.jeton, "strict")
        reponse.delete_cookie(
            noms.csrf, path="/", secure=not reglages.http_local, httponly=True, samesite="strict"
        )
        return reponse

    @app.post("/deconnexion")
    async def deconnexion(request: Request) -> Response:
        s, _p, _f = await contexte_ecriture(request)
        comptes.fermer_session(magasin, s.jeton)
        magasin.journaliser("console.deconnexion", "ok", cible=s.compte.identifiant, qui=s.compte.identifiant)
        reponse = vers("/connexion")
        reponse.delete_cookie(noms.session, path="/", secure=not reglages.http_local, httponly=True,
                              samesite="strict")  # fmt: skip
        return reponse

    # -- pages -----------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse)
    def vue_territoire(request: Request) -> Response:
        s, p = contexte(request)
        communes = []
        for c in p.communes():
            ecoles = p.ecoles(c.id)
            rapport = p.maintenance([e.uai for e in ecoles]) if ecoles else None
            par_uai = {er.uai: er for er in rapport.ecoles} if rapport else {}
            lignes = []
            for e in ecoles:
                appareils = p.appareils(e.uai)
                er = par_uai.get(e.uai)
                derniere = er.tendance[-1] if er and er.tendance else None
                lignes.append({"ecole": e, "types": _compter(a.type.value for a in appareils),
                               "etats": _compter(a.etat.value for a in appareils), "total": len(appareils),
                               "derniere": derniere, "a_visiter": len(er.a_visiter) if er else 0,
                               "constats": len(p.constats_audit(e.uai)[1]),
                               "demandes": sum(1 for d in e.modele.demandes if d.statut.value == "demandee")})  # fmt: skip
            communes.append({"commune": c, "ecoles": lignes})
        return page(request, "territoire.html.j2", session=s, syndicat=p.t.syndicat, communes=communes,
                    types=[t.value for t in TypeEquipement], etats=[e.value for e in Etat])  # fmt: skip

    @app.get("/ecoles/{uai}", response_class=HTMLResponse)
    def vue_ecole(request: Request, uai: str) -> Response:
        s, p = contexte(request)
        e = p.ecole(uai)
        rapport = p.maintenance([e.uai]).ecoles[0]
        etats = {a["nom"]: a for a in rapport.appareils}
        audit, constats = p.constats_audit(e.uai)
        return page(request, "ecole.html.j2", session=s, e=e, commune=p.commune(e.commune),
                    appareils=p.appareils(e.uai), etats=etats, rapport=rapport, wifi=p.wifi(e.uai),
                    demandes=p.demandes(e.uai), audit=audit, constats=constats, fiche=p.fiche(e.uai) is not None,
                    avec_audit=avec_audit, politique=e.politique)  # fmt: skip

    @app.get("/ecoles/{uai}/maintenance", response_class=HTMLResponse)
    def vue_rapport_ecole(request: Request, uai: str) -> Response:
        s, p = contexte(request)
        e = p.ecole(uai)
        return page(request, "rapport.html.j2", session=s, titre=f"Rapport de maintenance — {e.nom}",
                    source=f"/ecoles/{e.uai}/maintenance.html", retour=f"/ecoles/{e.uai}")  # fmt: skip

    def brut(html: str) -> HTMLResponse:
        r = HTMLResponse(html)
        r.headers["Content-Security-Policy"] = CSP_RAPPORT
        r.headers["X-Frame-Options"] = "SAMEORIGIN"
        return r

    @app.get("/ecoles/{uai}/maintenance.html", response_class=HTMLResponse)
    def rapport_ecole(request: Request, uai: str) -> Response:
        from ardoise.maintenance.rapport import en_html

        _s, p = contexte(request)
        return brut(en_html(p.maintenance([uai])))

    @app.get("/communes/{commune}/maintenance", response_class=HTMLResponse)
    def vue_rapport_commune(request: Request, commune: str) -> Response:
        s, p = contexte(request)
        c = p.commune(commune)
        return page(request, "rapport.html.j2", session=s, titre=f"Rapport de maintenance — {c.nom}",
                    source=f"/communes/{c.id}/maintenance.html", retour="/")  # fmt: skip

    @app.get("/communes/{commune}/maintenance.html", response_class=HTMLResponse)
    def rapport_commune(request: Request, commune: str) -> Response:
        from ardoise.maintenance.rapport import en_html

        _s, p = contexte(request)
        return brut(en_html(p.maintenance_commune(commune)))

    @app.get("/ecoles/{uai}/fiche.html", response_class=HTMLResponse)
    def fiche(request: Request, uai: str) -> Response:
        from ardoise.atelier.fiche import en_html

        _s, p = contexte(request)
        donnees = p.fiche(uai)
        if donnees is None:
            raise Introuvable("aucune fiche")
        return brut(en_html(donnees))

    @app.get("/appareils/{nom}", response_class=HTMLResponse)
    def vue_appareil(request: Request, nom: str) -> Response:
        from ardoise.parc.garanties import acheminer

        s, p = contexte(request)
        eq = p.appareil(nom)
        e = p.ecole(eq.uai)
        poste = next((x for x in e.modele.postes if x.nom == eq.nom), None)
        return page(request, "appareil.html.j2", session=s, eq=eq, e=e, poste=poste,
                    couverture=acheminer(p.t, eq), historique=p.historique(eq.nom))  # fmt: skip

    @app.get("/executions", response_class=HTMLResponse)
    def vue_executions(request: Request) -> Response:
        s, p = contexte(request)
        return page(request, "executions.html.j2", session=s, taches=p.taches(), executions=p.executions())

    @app.get("/executions/{execution}", response_class=HTMLResponse)
    def vue_execution(request: Request, execution: int) -> Response:
        s, p = contexte(request)
        resume, lignes = p.execution(execution)
        return page(request, "execution.html.j2", session=s, x=resume, lignes=lignes)

    @app.get("/taches/{tache}", response_class=HTMLResponse)
    def vue_tache(request: Request, tache: int) -> Response:
        s, p = contexte(request)
        return page(request, "tache.html.j2", session=s, t=p.tache(tache), a=p.avancement(tache))

    @app.get("/api/taches/{tache}")
    def api_tache(request: Request, tache: int) -> Response:
        _s, p = contexte(request)
        return JSONResponse(p.avancement(tache))

    # -- actions ---------------------------------------------------------------------------------
    @app.post("/ecoles/{uai}/maintenance/lancer")
    async def lancer_maintenance(request: Request, uai: str) -> Response:
        s, p, _f = await contexte_ecriture(request)
        e = p.ecole(uai)
        p.autoriser_action(e.commune, f"maintenance:{e.uai}")
        return vers(f"/taches/{taches.balayage(p.t, e.uai, e.commune, s.compte.identifiant)}")

    if avec_audit:

        @app.post("/ecoles/{uai}/audit/lancer")
        async def lancer_audit(request: Request, uai: str) -> Response:
            s, p, _f = await contexte_ecriture(request)
            e = p.ecole(uai)
            p.autoriser_action(e.commune, f"audit:{e.uai}")
            return vers(f"/taches/{taches.audit(p.t, e.uai, e.commune, s.compte.identifiant)}")

    @app.post("/ecoles/{uai}/demandes/{demande}")
    async def decider(request: Request, uai: str, demande: str) -> Response:
        s, p, f = await contexte_ecriture(request)
        e, d = p.demande(uai, demande)
        p.autoriser_action(e.commune, f"demande:{e.uai}/{d.id}")
        decision = str(f.get("decision", ""))
        if decision not in ("approuver", "refuser"):
            raise comptes.ErreurCompte("décision attendue : approuver ou refuser")
        ident = taches.decider_demande(
            p.t, e.uai, e.commune, d.id, decision == "approuver", s.compte.identifiant
        )
        return vers(f"/taches/{ident}")

    @app.post("/ecoles/{uai}/wifi/{ssid}")
    async def wifi(request: Request, uai: str, ssid: str) -> Response:
        s, p, f = await contexte_ecriture(request)
        e, nom = p.ssid(uai, ssid)
        p.autoriser_action(e.commune, f"wifi:{e.uai}/{nom}")
        action = str(f.get("action", ""))
        if action not in ("couper", "retablir"):
            raise comptes.ErreurCompte("action attendue : couper ou retablir")
        ident = taches.basculer_wifi(p.t, e.uai, e.commune, nom, action == "couper", s.compte.identifiant)
        return vers(f"/taches/{ident}")

    @app.post("/appareils/{nom}/etat")
    async def marquer(request: Request, nom: str) -> Response:
        s, p, f = await contexte_ecriture(request)
        eq, _poste = p.poste(nom)
        p.autoriser_action(eq.commune, f"etat:{eq.nom}")
        ident = taches.marquer(p.t, eq.uai, eq.commune, eq.nom, str(f.get("etat", "")), s.compte.identifiant)
        return vers(f"/taches/{ident}")

    # -- accounts --------------------------------------------------------------------------------
    @app.get("/comptes", response_class=HTMLResponse)
    def vue_comptes(request: Request) -> Response:
        s, p = contexte(request)
        roles = [r for r in Role if s.compte.role is Role.admin_syndicat or not r.syndicat]
        return page(request, "comptes.html.j2", session=s, comptes=p.comptes(), roles=roles,
                    communes=p.communes())  # fmt: skip

    @app.post("/comptes")
    async def creer_compte(request: Request) -> Response:
        s, p, f = await contexte_ecriture(request)
        role, communes = str(f.get("role", "")), [str(c) for c in f.getlist("communes")]
        p.autoriser_compte(role, communes)
        comptes.ajouter(magasin, p.t, str(f.get("identifiant", "")), str(f.get("mot_de_passe", "")), role,
                        communes, nom=str(f.get("nom", "")) or None, par=s.compte.identifiant)  # fmt: skip
        return vers("/comptes")

    @app.post("/comptes/{identifiant}/desactiver")
    async def desactiver_compte(request: Request, identifiant: str) -> Response:
        s, p, _f = await contexte_ecriture(request)
        u = p.compte_gere(identifiant)
        comptes.desactiver(magasin, u.identifiant, par=s.compte.identifiant)
        return vers("/comptes")

    @app.post("/comptes/{identifiant}/communes")
    async def deplacer_compte(request: Request, identifiant: str) -> Response:
        s, p, f = await contexte_ecriture(request)
        u = p.compte_gere(identifiant)  # source: the account's current communes
        communes = [str(c) for c in f.getlist("communes")]
        p.autoriser_compte(u.role, communes)  # destination
        comptes.changer_communes(magasin, p.t, u.identifiant, communes, par=s.compte.identifiant)
        return vers("/comptes")

    return app


def _compter(valeurs: Any) -> dict[str, int]:
    resultat: dict[str, int] = {}
    for v in valeurs:
        resultat[v] = resultat.get(v, 0) + 1
    return resultat
