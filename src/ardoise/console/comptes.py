"""Console accounts, roles, password policy, login throttling and server-side sessions.

Everything lives in the results store (``console_*`` tables, migration 0003). Passwords are hashed with
argon2id (argon2-cffi defaults); a session cookie carries a random token whose SHA-256 alone is stored.
The clock is a parameter everywhere, so the timeouts are tested without sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import Territoire
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import SessionConsole, TentativeConnexion, UtilisateurConsole, maintenant

log = logging.getLogger(__name__)

Horloge = Callable[[], dt.datetime]

LONGUEUR_MIN, LONGUEUR_MAX = 12, 128
INACTIVITE = dt.timedelta(minutes=30)
DUREE_MAX = dt.timedelta(hours=12)
ECHECS_AVANT_BLOCAGE = 5  # per account
ECHECS_AVANT_BLOCAGE_ADRESSE = 20  # per client address (many accounts tried from one place)
FENETRE_ECHECS = dt.timedelta(minutes=15)
BLOCAGE_MAX = dt.timedelta(hours=1)
TOUTES = "*"  # the communes of a syndicat role

# argon2id with OWASP's minimum profile (19 MiB, 2 passes, 1 lane), the one ASVS 5.0 cites; a stored hash made
# with other parameters is re-hashed with these at the next successful login
_hacheur = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_HACHAGE_FACTICE = _hacheur.hash(secrets.token_urlsafe(24))  # verified for unknown accounts: same cost


class Role(StrEnum):
    admin_syndicat = "admin-syndicat"
    technicien_syndicat = "technicien-syndicat"
    admin_commune = "admin-commune"
    technicien_commune = "technicien-commune"
    lecteur = "lecteur"

    @property
    def syndicat(self) -> bool:
        return self in (Role.admin_syndicat, Role.technicien_syndicat)

    @property
    def agit(self) -> bool:
        """May launch actions (sweeps, audits, manifest edits)."""
        return self is not Role.lecteur

    @property
    def gere_comptes(self) -> bool:
        return self in (Role.admin_syndicat, Role.admin_commune)


LIBELLES_ROLES = {
    Role.admin_syndicat: "administrateur du syndicat (toutes les communes, comptes compris)",
    Role.technicien_syndicat: "technicien du syndicat (toutes les communes, sans gestion des comptes)",
    Role.admin_commune: "administrateur de commune (ses communes, comptes compris)",
    Role.technicien_commune: "technicien de commune (ses communes)",
    Role.lecteur: "lecteur (consultation seule)",
}


class ErreurCompte(ErreurUsage):
    """An account operation refused (French message)."""


@dataclass(frozen=True)
class Compte:
    """A console account as the pages see it (never the hash)."""

    id: int
    identifiant: str
    nom: str | None
    role: Role
    communes: tuple[str, ...]  # ("*",) for every commune
    actif: bool

    @property
    def toutes_communes(self) -> bool:
        return TOUTES in self.communes


def _compte(u: UtilisateurConsole) -> Compte:
    return Compte(u.id, u.identifiant, u.nom, Role(u.role), tuple(u.communes or ()), u.actif)


def _utc(d: dt.datetime) -> dt.datetime:
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


# -- password policy -------------------------------------------------------------------------
def _normaliser(texte: str) -> str:
    sans_accents = unicodedata.normalize("NFKD", texte.casefold())
    return "".join(c for c in sans_accents if not unicodedata.combining(c))


def mots_de_passe_courants() -> frozenset[str]:
    texte = (resources.files("ardoise.console") / "donnees" / "mots-de-passe-courants.txt").read_text("utf-8")
    return frozenset(
        _normaliser(ligne.strip())
        for ligne in texte.splitlines()
        if ligne.strip() and not ligne.startswith("#")
    )


def verifier_mot_de_passe(mot_de_passe: str, identifiant: str = "") -> None:
    """French error if the password is too short, too long, common, or made of the account name."""
    if len(mot_de_passe) < LONGUEUR_MIN:
        raise ErreurCompte(
            f"mot de passe trop court : {LONGUEUR_MIN} caractères au moins (une phrase convient)"
        )
    if len(mot_de_passe) > LONGUEUR_MAX:
        raise ErreurCompte(f"mot de passe trop long : {LONGUEUR_MAX} caractères au plus")
    norme = _normaliser(mot_de_passe)
    courants = mots_de_passe_courants()
    if norme in courants or norme.rstrip("0123456789!?.*") in courants or len(set(norme)) < 4:
        raise ErreurCompte("mot de passe trop courant : choisissez-en un autre (plusieurs mots, par exemple)")
    if identifiant and len(identifiant) >= 3 and _normaliser(identifiant) in norme:
        raise ErreurCompte("le mot de passe ne doit pas contenir l'identifiant du compte")


# -- accounts --------------------------------------------------------------------------------
def role_de(texte: str) -> Role:
    try:
        return Role(texte)
    except ValueError:
        raise ErreurCompte(f"rôle « {texte} » inconnu ; rôles : {', '.join(x.value for x in Role)}") from None


def verifier_communes(t: Territoire, role: Role, communes: list[str]) -> tuple[str, ...]:
    """The account's communes as manifest ids: every commune for a syndicat role, at least one otherwise."""
    if role.syndicat:
        return (TOUTES,)
    if not communes:
        raise ErreurCompte(f"le rôle {role.value} demande au moins une commune (--commune)")
    if TOUTES in communes:
        if role is not Role.lecteur:
            raise ErreurCompte(f"le rôle {role.value} porte sur des communes nommées, pas sur « * »")
        return (TOUTES,)
    return tuple(dict.fromkeys(t.commune(c).id for c in communes))


def ajouter(
    magasin: Magasin, t: Territoire, identifiant: str, mot_de_passe: str, role: str, communes: list[str],
    nom: str | None = None, par: str | None = None,
) -> Compte:  # fmt: skip
    identifiant = identifiant.strip()
    if not identifiant or len(identifiant) > 64 or not all(c.isalnum() or c in "-_.@" for c in identifiant):
        raise ErreurCompte(
            f"identifiant « {identifiant} » invalide : lettres, chiffres et - _ . @ seulement (64 au plus)"
        )
    r = role_de(role)
    portee = verifier_communes(t, r, communes)
    verifier_mot_de_passe(mot_de_passe, identifiant)
    with magasin.session() as s:
        if s.scalars(select(UtilisateurConsole).where(UtilisateurConsole.identifiant == identifiant)).first():
            raise ErreurCompte(f"le compte « {identifiant} » existe déjà")
        u = UtilisateurConsole(identifiant=identifiant, nom=nom, hachage=_hacheur.hash(mot_de_passe),
                               role=r.value, communes=list(portee), actif=True, cree_par=par)  # fmt: skip
        s.add(u)
        s.flush()
        compte = _compte(u)
    magasin.journaliser("console.compte.creer", "ok", cible=identifiant, qui=par,
                        details={"role": r.value, "communes": list(portee)})  # fmt: skip
    log.debug("compte console « %s » créé (%s)", identifiant, r.value)
    return compte


def lire(magasin: Magasin, identifiant: str | None = None, ident: int | None = None) -> Compte | None:
    with magasin.session() as s:
        req = select(UtilisateurConsole)
        req = (
            req.where(UtilisateurConsole.id == ident)
            if ident is not None
            else req.where(UtilisateurConsole.identifiant == identifiant)
        )
        u = s.scalars(req).first()
        return _compte(u) if u else None


def lister(magasin: Magasin) -> list[dict]:
    with magasin.session() as s:
        return [
            {"identifiant": u.identifiant, "nom": u.nom or "", "role": u.role,
             "communes": "toutes" if TOUTES in u.communes else ", ".join(u.communes),
             "actif": "oui" if u.actif else "non",
             "derniere_connexion": _utc(u.derniere_connexion).strftime("%d/%m/%Y %H:%M") if u.derniere_connexion
             else ""}
            for u in s.scalars(select(UtilisateurConsole).order_by(UtilisateurConsole.identifiant))
        ]  # fmt: skip


def desactiver(magasin: Magasin, identifiant: str, par: str | None = None) -> bool:
    """Disable the account and end its sessions now; False if it was already disabled."""
    with magasin.session() as s:
        u = s.scalars(select(UtilisateurConsole).where(UtilisateurConsole.identifiant == identifiant)).first()
        if u is None:
            raise ErreurCompte(f"compte « {identifiant} » inconnu ; « ardoise console utilisateur lister »")
        deja = not u.actif
        u.actif, u.modifie_le = False, maintenant()
        s.execute(delete(SessionConsole).where(SessionConsole.utilisateur_id == u.id))
    if not deja:
        magasin.journaliser("console.compte.desactiver", "ok", cible=identifiant, qui=par)
    return not deja


def changer_communes(magasin: Magasin, t: Territoire, identifiant: str, communes: list[str],
                     par: str | None = None) -> Compte:  # fmt: skip
    with magasin.session() as s:
        u = s.scalars(select(UtilisateurConsole).where(UtilisateurConsole.identifiant == identifiant)).first()
        if u is None:
            raise ErreurCompte(f"compte « {identifiant} » inconnu")
        avant = list(u.communes)
        u.communes = list(verifier_communes(t, Role(u.role), communes))
        u.modifie_le = maintenant()
        compte = _compte(u)
    magasin.journaliser("console.compte.communes", "ok", cible=identifiant, qui=par,
                        details={"avant": avant, "apres": list(compte.communes)})  # fmt: skip
    return compte


# -- login and throttling --------------------------------------------------------------------
def _bloque(s, cle: str, quand: dt.datetime) -> dt.datetime | None:
    t = s.get(TentativeConnexion, cle)
    if t and t.bloque_jusqu_a and _utc(t.bloque_jusqu_a) > quand:
        return _utc(t.bloque_jusqu_a)
    return None


def _echec(s, cle: str, seuil: int, quand: dt.datetime) -> None:
    t = s.get(TentativeConnexion, cle)
    # a quiet window (15 min without failure after the first one, or after the last block) starts afresh
    calme_depuis = max(_utc(t.premier_echec), _utc(t.bloque_jusqu_a or t.premier_echec)) if t else quand
    if t is None or quand - calme_depuis > FENETRE_ECHECS:
        t = t or TentativeConnexion(cle=cle)
        t.echecs, t.premier_echec, t.bloque_jusqu_a = 0, quand, None
        s.add(t)
    t.echecs += 1
    if t.echecs >= seuil:  # 1 min, then doubling with each further failure, up to an hour
        t.bloque_jusqu_a = quand + min(dt.timedelta(minutes=2 ** (t.echecs - seuil)), BLOCAGE_MAX)


class ConnexionRefusee(ErreurUsage):
    """Wrong name or password, disabled account, or too many attempts (the message never says which)."""

    def __init__(self, message: str, bloque_jusqu_a: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.bloque_jusqu_a = bloque_jusqu_a


def authentifier(magasin: Magasin, identifiant: str, mot_de_passe: str, adresse: str | None,
                 horloge: Horloge = maintenant) -> Compte:  # fmt: skip
    """The account if name and password match and it is active; :class:`ConnexionRefusee` otherwise."""
    quand = horloge()
    identifiant = identifiant.strip()[:64]
    cles = [f"compte:{identifiant.casefold()}"] + ([f"adresse:{adresse}"] if adresse else [])
    with magasin.session() as s:
        for cle in cles:
            jusqu_a = _bloque(s, cle, quand)
            if jusqu_a:
                refus = ConnexionRefusee("trop de tentatives : réessayez plus tard", jusqu_a)
                break
        else:
            refus = None
            u = s.scalars(
                select(UtilisateurConsole).where(UtilisateurConsole.identifiant == identifiant)
            ).first()
            try:
                _hacheur.verify(u.hachage if u else _HACHAGE_FACTICE, mot_de_passe)
                bon = u is not None and u.actif
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                bon = False
            if bon:
                assert u is not None
                if _hacheur.check_needs_rehash(u.hachage):
                    u.hachage = _hacheur.hash(mot_de_passe)
                u.derniere_connexion = quand
                t = s.get(TentativeConnexion, cles[0])
                if t:
                    s.delete(t)
                compte = _compte(u)
            else:
                _echec(s, cles[0], ECHECS_AVANT_BLOCAGE, quand)
                if len(cles) > 1:
                    _echec(s, cles[1], ECHECS_AVANT_BLOCAGE_ADRESSE, quand)
                refus = ConnexionRefusee("identifiant ou mot de passe incorrect")
    details = {"adresse": adresse}
    if refus is not None:
        resultat = "bloque" if refus.bloque_jusqu_a else "refuse"
        magasin.journaliser(
            "console.connexion", resultat, cible=identifiant, qui=identifiant, details=details
        )
        log.warning(
            "connexion à la console refusée pour « %s » depuis %s (%s)", identifiant, adresse, resultat
        )
        raise refus
    magasin.journaliser("console.connexion", "ok", cible=identifiant, qui=identifiant, details=details)
    log.info("connexion à la console : « %s » depuis %s", identifiant, adresse)
    return compte


# -- sessions --------------------------------------------------------------------------------
def empreinte(jeton: str) -> str:
    return hashlib.sha256(jeton.encode()).hexdigest()


@dataclass(frozen=True)
class SessionOuverte:
    jeton: str  # goes into the cookie only
    compte: Compte
    csrf: str


def ouvrir_session(magasin: Magasin, compte: Compte, adresse: str | None,
                   horloge: Horloge = maintenant) -> SessionOuverte:  # fmt: skip
    """A brand-new session (new random token) for a freshly authenticated account."""
    jeton, csrf, quand = secrets.token_urlsafe(32), secrets.token_urlsafe(32), horloge()
    with magasin.session() as s:
        s.add(SessionConsole(empreinte=empreinte(jeton), utilisateur_id=compte.id, csrf=csrf, cree_le=quand,
                             vu_le=quand, adresse=(adresse or "")[:64]))  # fmt: skip
    return SessionOuverte(jeton, compte, csrf)


def lire_session(magasin: Magasin, jeton: str | None, horloge: Horloge = maintenant) -> SessionOuverte | None:
    """The live session of this token, its idle clock restarted; None (and deleted) when expired."""
    if not jeton or len(jeton) > 200:
        return None
    quand = horloge()
    with magasin.session() as s:
        ligne = s.get(SessionConsole, empreinte(jeton))
        if ligne is None:
            return None
        u = s.get(UtilisateurConsole, ligne.utilisateur_id)
        expiree = quand - _utc(ligne.vu_le) > INACTIVITE or quand - _utc(ligne.cree_le) > DUREE_MAX
        if u is None or not u.actif or expiree:
            s.delete(ligne)
            return None
        if quand - _utc(ligne.vu_le) > dt.timedelta(seconds=30):
            ligne.vu_le = quand
        return SessionOuverte(jeton, _compte(u), ligne.csrf)


def fermer_session(magasin: Magasin, jeton: str | None) -> None:
    if jeton:
        with magasin.session() as s:
            s.execute(delete(SessionConsole).where(SessionConsole.empreinte == empreinte(jeton)))
