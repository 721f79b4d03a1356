"""Renewal plan per commune and per year: which devices to renew, why, and the budget.

For each device (every type; ``reforme`` excluded) the proposed year is the earliest of:

- purchase year + the territory's lifetime for its type (4 to 6 years, ``politique.parc``); when the
  purchase date is unknown, the warranty's end year (flagged « à vérifier »);
- the year its OS reaches end of support for that model family (:mod:`ardoise.parc.fin_support`);
- the first year of the plan when it had ``incidents_max`` incidents in 24 months, or when its last
  battery check reads below ``seuils.batterie_sante_min_pct``.

A year already past becomes the first year of the plan (« en retard »); years after the horizon are
only counted. Unit prices come from the price list (a model's own price, else its type's).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from ardoise.inventaire.modele import Parc, Politique
from ardoise.inventaire.territoire import Territoire, equipements_ecole
from ardoise.inventaire.types import Etat, TypeEquipement
from ardoise.parc.fin_support import FinSupport, fin_support

TYPES_ORDRE = [t.value for t in TypeEquipement]


@dataclass(frozen=True)
class LignePlan:
    nom: str
    type: str
    commune: str
    uai: str
    ecole: str
    modele: str
    etat: str
    date_achat: dt.date | None
    garantie_fin: dt.date | None
    fin_support: FinSupport | None
    incidents: int
    batterie_pct: float | None
    annee: int
    motifs: tuple[str, ...]
    prix: float | None
    a_verifier: bool = False

    def en_dict(self) -> dict:
        return {
            "annee": self.annee, "commune": self.commune, "uai": self.uai, "ecole": self.ecole,
            "nom": self.nom, "type": self.type, "modele": self.modele, "etat": self.etat,
            "date_achat": self.date_achat.isoformat() if self.date_achat else "",
            "garantie_fin": self.garantie_fin.isoformat() if self.garantie_fin else "",
            "fin_support": self.fin_support.fin.isoformat() if self.fin_support else "",
            "incidents_24_mois": self.incidents,
            "batterie_pct": "" if self.batterie_pct is None else f"{self.batterie_pct:.0f}",
            "motif": " ; ".join(self.motifs),
            "prix_unitaire": "" if self.prix is None else f"{self.prix:.2f}".replace(".", ","),
        }  # fmt: skip


@dataclass
class Annee:
    annee: int
    lignes: list[LignePlan] = field(default_factory=list)
    budget: float = 0.0
    par_type: dict[str, list] = field(default_factory=dict)  # type → [count, budget]
    par_ecole: dict[str, list] = field(default_factory=dict)  # "uai nom" → [count, budget]
    sans_prix: int = 0


@dataclass
class Plan:
    commune: str
    nom_commune: str
    annee_debut: int
    horizon: int
    genere_le: dt.date
    annees: list[Annee]
    appareils: int  # devices considered (not reformed)
    apres_horizon: int
    sans_date: list[str]  # no purchase date nor warranty: not planned
    sans_tarif: list[str]  # planned without a price (type/model missing from the price list)
    politique: Parc

    @property
    def budget_total(self) -> float:
        return sum(a.budget for a in self.annees)

    @property
    def nombre_total(self) -> int:
        return sum(len(a.lignes) for a in self.annees)

    def lignes(self) -> list[LignePlan]:
        return [ligne for a in self.annees for ligne in a.lignes]


def prix_unitaire(parc: Parc, type_: str, modele: str) -> float | None:
    """The model's own price, else its type's, else None."""
    return _Grille.de(parc).prix(type_, modele)


class _Grille:
    """Lifetimes and prices of one policy, as dicts (one per distinct policy: fast for 5,000 devices)."""

    _cache: dict[int, tuple[Parc, _Grille]] = {}

    def __init__(self, parc: Parc) -> None:
        self.durees = {t.value: n for t, n in parc.duree_vie_par_type.items()}
        self.duree_defaut = parc.duree_vie_ans
        self.par_modele = {
            (t.type.value, t.modele.casefold()): t.prix for t in parc.tarifs if t.modele is not None
        }
        self.par_type = {t.type.value: t.prix for t in parc.tarifs if t.modele is None}

    @classmethod
    def de(cls, parc: Parc) -> _Grille:
        entree = cls._cache.get(id(parc))
        if entree is None or entree[0] is not parc:
            entree = (parc, cls(parc))
            cls._cache[id(parc)] = entree
        return entree[1]

    def duree(self, type_: str) -> int:
        return self.durees.get(type_, self.duree_defaut)

    def prix(self, type_: str, modele: str) -> float | None:
        prix = self.par_modele.get((type_, modele.casefold()))
        return prix if prix is not None else self.par_type.get(type_)


def calculer(
    t: Territoire,
    commune: str,
    horizon: int | None = None,
    annee_debut: int | None = None,
    incidents: dict[str, int] | None = None,
    batteries: dict[str, float] | None = None,
    jour: dt.date | None = None,
) -> Plan:
    """The plan of ``commune`` from ``annee_debut`` (default: this year) to ``horizon`` (default: +5).

    ``incidents``: serial number → incidents in the last 24 months; ``batteries``: hostname → last
    battery health (%), both read from the results store by the caller.
    """
    jour = jour or dt.date.today()
    c = t.commune(commune)
    debut = annee_debut or jour.year
    fin = horizon or debut + 5
    incidents = incidents or {}
    batteries = batteries or {}
    annees = {a: Annee(a) for a in range(debut, fin + 1)}
    sans_date: list[str] = []
    sans_tarif: list[str] = []
    apres, nombre = 0, 0
    politique_commune: Politique | None = None
    for e in t.ecoles:
        if e.commune != c.id:
            continue
        pol = e.politique
        politique_commune = politique_commune or pol
        parc, seuil_batterie = pol.parc, pol.seuils.batterie_sante_min_pct
        grille = _Grille.de(parc)
        for eq in equipements_ecole(e):
            if eq.etat is Etat.reforme:
                continue
            nombre += 1
            type_ = eq.type.value
            motifs: list[str] = []
            a_verifier = False
            if eq.date_achat is not None:
                duree = grille.duree(type_)
                annee = eq.date_achat.year + duree
                motifs.append(f"âge : acheté en {eq.date_achat.year}, durée de vie {duree} ans")
            elif eq.garantie_fin is not None:
                annee = eq.garantie_fin.year
                a_verifier = True
                motifs.append("date d'achat inconnue : fin de garantie (à vérifier)")
            else:
                sans_date.append(eq.nom)
                continue
            fs = fin_support(eq.os, eq.modele)
            if fs is not None and fs.fin.year < annee:
                annee = fs.fin.year
                motifs.insert(0, f"fin de support {fs.systeme} le {fs.fin.strftime('%d/%m/%Y')}")
            n_inc = incidents.get(eq.numero_serie or "", 0)
            if n_inc >= parc.incidents_max and debut < annee:
                annee = debut
                motifs.insert(0, f"{n_inc} incidents en 24 mois")
            batterie = batteries.get(eq.nom)
            if batterie is not None and batterie < seuil_batterie and debut < annee:
                annee = debut
                motifs.insert(0, f"batterie à {batterie:.0f} % (minimum {seuil_batterie} %)")
            if annee < debut:
                motifs[0] += f" (échéance {annee} dépassée)"
                annee = debut
            if annee > fin:
                apres += 1
                continue
            prix = grille.prix(type_, eq.modele)
            ligne = LignePlan(eq.nom, type_, eq.commune, eq.uai, eq.ecole, eq.modele, eq.etat.value,
                              eq.date_achat, eq.garantie_fin, fs, n_inc, batterie, annee, tuple(motifs),
                              prix, a_verifier)  # fmt: skip
            a = annees[annee]
            a.lignes.append(ligne)
            cle_ecole = f"{eq.uai} {eq.ecole}"
            a.par_type.setdefault(type_, [0, 0.0])[0] += 1
            a.par_ecole.setdefault(cle_ecole, [0, 0.0])[0] += 1
            if prix is None:
                a.sans_prix += 1
                sans_tarif.append(eq.nom)
            else:
                a.budget += prix
                a.par_type[type_][1] += prix
                a.par_ecole[cle_ecole][1] += prix
    for a in annees.values():
        a.par_type = dict(sorted(a.par_type.items(), key=lambda kv: TYPES_ORDRE.index(kv[0])))
        a.par_ecole = dict(sorted(a.par_ecole.items()))
        a.lignes.sort(key=lambda x: (x.uai, x.type, x.nom))
    return Plan(
        commune=c.id, nom_commune=c.nom, annee_debut=debut, horizon=fin, genere_le=jour,
        annees=list(annees.values()), appareils=nombre, apres_horizon=apres, sans_date=sans_date,
        sans_tarif=sans_tarif,
        politique=politique_commune.parc if politique_commune else t.politique.parc,
    )  # fmt: skip


_NOMBRE = re.compile(r"(\d+(?:[.,]\d+)?)")


def sante_batterie(mesures: dict | None, valeur: str | None) -> float | None:
    """Battery health (%) of a maintenance check row: ``mesures["sante_pct"]``, else its value text."""
    if mesures and isinstance(mesures.get("sante_pct"), int | float):
        return float(mesures["sante_pct"])
    if valeur:
        m = _NOMBRE.search(valeur)
        if m:
            return float(m[1].replace(",", "."))
    return None


def donnees_magasin(
    magasin, commune: str, jour: dt.date | None = None
) -> tuple[dict[str, int], dict[str, float]]:
    """Incidents per serial (24 months) and the latest battery health per host, from the store."""
    from sqlalchemy import select

    from ardoise.parc.incidents import compter_par_serie
    from ardoise.resultats.modeles import ResultatHoteLigne, VerificationLigne

    jour = jour or dt.date.today()
    depuis = dt.datetime.combine(jour - dt.timedelta(days=730), dt.time(), dt.UTC)
    incidents = compter_par_serie(magasin, depuis)
    batteries: dict[str, float] = {}
    with magasin.session() as s:
        req = (
            select(ResultatHoteLigne.hote, VerificationLigne.mesures, VerificationLigne.valeur)
            .join(VerificationLigne, VerificationLigne.resultat_id == ResultatHoteLigne.id)
            .where(VerificationLigne.nom.like("batterie%"))
            .where((ResultatHoteLigne.commune == commune) | (ResultatHoteLigne.commune.is_(None)))
            .order_by(ResultatHoteLigne.horodatage, ResultatHoteLigne.id)
        )
        for hote, mesures, valeur in s.execute(req):
            pct = sante_batterie(mesures, valeur)
            if pct is not None:
                batteries[hote] = pct
    return incidents, batteries


__all__ = ["Plan", "LignePlan", "calculer", "donnees_magasin", "prix_unitaire"]
