"""The delivery sheet of a school ("bon de livraison / PV de remise"): HTML (A4), PDF and CSV.

One row per device the workshop prepared for the school (its latest workshop result in the store), with
its checklist, its apps and versions, and a QR code encoding its serial number and hostname.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from importlib import resources

import segno
from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from ardoise.atelier.controles import LIBELLES_COURTS
from ardoise.atelier.preparation import GENRE, PRET
from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import Territoire, equipements_ecole
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Execution, ResultatHoteLigne


@dataclass
class LigneFiche:
    nom: str
    type: str
    modele: str
    numero_serie: str
    mac: str
    profil: str
    salle: str
    classe: str
    etat: str  # pret / echec
    controles: list[tuple[str, str, str]]  # (short label, level, message)
    applications: str
    prepare_le: str
    raison: str = ""
    qr_svg: str = ""

    @property
    def resultat(self) -> str:
        ok = sum(1 for _, n, _ in self.controles if n == "OK")
        return f"{ok}/{len(self.controles)} OK" if self.controles else "non vérifié"

    @property
    def qr_texte(self) -> str:
        return f"SN:{self.numero_serie};HOTE:{self.nom}"


@dataclass
class DonneesFiche:
    uai: str
    ecole: str
    adresse: str
    commune: str
    syndicat: str
    syndicat_contact: str
    date: str
    postes: list[LigneFiche] = field(default_factory=list)

    @property
    def prets(self) -> int:
        return sum(p.etat == PRET for p in self.postes)


def _derniers_resultats(magasin: Magasin, uai: str) -> dict[str, ResultatHoteLigne]:
    with magasin.session() as s:
        req = (
            select(ResultatHoteLigne)
            .join(Execution)
            .where(Execution.genre == GENRE, ResultatHoteLigne.uai == uai)
            .order_by(ResultatHoteLigne.horodatage, ResultatHoteLigne.id)
        )
        derniers: dict[str, ResultatHoteLigne] = {}
        for r in s.scalars(req):
            _ = r.verifications  # load while the session is open
            derniers[r.hote] = r
        return derniers


def _date_fr(valeur: str | dt.datetime | None) -> str:
    if not valeur:
        return ""
    d = dt.datetime.fromisoformat(valeur) if isinstance(valeur, str) else valeur
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    return d.astimezone().strftime("%d/%m/%Y %H:%M")


def donnees_fiche(t: Territoire, uai: str, magasin: Magasin) -> DonneesFiche:
    ecole = t.ecole(uai)
    commune = t.commune(ecole.commune)
    resultats = _derniers_resultats(magasin, ecole.uai)
    if not resultats:
        raise ErreurUsage(f"aucun poste de l'école {ecole.uai} n'est passé à l'atelier : rien à livrer")
    syndicat = t.syndicat
    m = ecole.modele
    a = m.adresse
    adresse = f"{a.rue}, {a.code_postal} {a.ville}" if a else ""
    donnees = DonneesFiche(
        uai=ecole.uai, ecole=ecole.nom, adresse=adresse, commune=getattr(commune, "nom", ecole.commune),
        syndicat=syndicat.nom, syndicat_contact=" — ".join(x for x in (syndicat.telephone, syndicat.courriel) if x),
        date=dt.date.today().strftime("%d/%m/%Y"),
    )  # fmt: skip
    postes = {p.nom: p for p in m.postes}
    for eq in equipements_ecole(ecole):
        r = resultats.get(eq.nom)
        if r is None:
            continue
        p = postes.get(eq.nom)
        verifs = {v.nom: v for v in r.verifications}
        apps = verifs["versions"].valeur if "versions" in verifs and verifs["versions"].valeur else ""
        ligne = LigneFiche(
            nom=eq.nom, type=eq.type.value, modele=eq.modele or "", numero_serie=eq.numero_serie or "",
            mac=eq.mac or "", profil=(p.profil if p else "") or "", salle=eq.salle or "", classe=eq.classe or "",
            etat=PRET if r.statut == "ok" else "echec",
            controles=[(LIBELLES_COURTS.get(v.nom, v.nom), v.niveau, v.message) for v in r.verifications],
            applications=apps, prepare_le=_date_fr(r.details.get("prepare_le") or r.horodatage),
            raison="" if r.statut == "ok" else f"{r.etape or ''} — {r.raison or ''}",
        )  # fmt: skip
        ligne.qr_svg = segno.make(ligne.qr_texte, error="m").svg_inline(scale=2, border=1)
        donnees.postes.append(ligne)
    return donnees


def _environnement() -> Environment:
    return Environment(autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


def en_html(d: DonneesFiche) -> str:
    gabarit = (resources.files("ardoise.atelier") / "gabarits" / "fiche.html.j2").read_text(encoding="utf-8")
    return _environnement().from_string(gabarit).render(d=d)


def en_pdf(d: DonneesFiche) -> bytes:
    for bavard in ("weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(bavard).setLevel(logging.ERROR)
    from weasyprint import HTML

    return HTML(string=en_html(d)).write_pdf()


COLONNES_CSV = ["uai", "ecole", "poste", "type", "modele", "numero_serie", "mac", "profil", "salle", "classe",
                "resultat", "etat", "controles_en_echec", "applications", "prepare_le", "qr"]  # fmt: skip


def en_csv(d: DonneesFiche) -> str:
    sortie = io.StringIO()
    w = csv.writer(sortie, delimiter=";", lineterminator="\n")
    w.writerow(COLONNES_CSV)
    for p in d.postes:
        echecs = ", ".join(f"{nom} ({msg})" for nom, niv, msg in p.controles if niv != "OK")
        w.writerow([d.uai, d.ecole, p.nom, p.type, p.modele, p.numero_serie, p.mac, p.profil, p.salle, p.classe,
                    p.resultat, p.etat, echecs or p.raison, p.applications, p.prepare_le, p.qr_texte])  # fmt: skip
    return sortie.getvalue()
