"""Taking over an existing fleet: a CSV export (ours, GLPI's or OCS Inventory's) or an audit's
discovered hosts become manifest entries (state ``en_service``, marked « à vérifier » in ``notes``).

Existing entries are never overwritten (a device already in the manifest, by serial number, is
skipped). Every problem is reported with its CSV line; if any is an error, nothing is written.

Documented columns (any order, ``;`` ``,`` or tab separated, UTF-8 or Windows-1252; the usual GLPI and
OCS column names are accepted too, see :data:`ALIAS`):
``nom, type, modele, fabricant, os, numero_serie, mac, ecole (UAI or name), salle, classe,
date_achat, garantie_fin, garantie_duree_mois, fournisseur, inventaire, profil``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from ardoise.erreurs import ErreurUsage
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.parc.edition import Edition, fichier_ecole

ALIAS: dict[str, tuple[str, ...]] = {
    "nom": ("nom", "name", "hostname", "nom d hote", "nom de la machine", "machine name", "computer name",
            "nom de l ordinateur", "nom ordinateur", "netbios"),
    "numero_serie": ("numero serie", "numero de serie", "n de serie", "no de serie", "num serie", "serial",
                     "serial number", "serialnumber", "ssn", "bios serial"),
    "mac": ("mac", "adresse mac", "mac address", "macaddr", "macaddress", "cartes reseau adresse mac",
            "ports reseau adresse mac", "network ports mac", "network port mac address", "composants adresse mac",
            "adresse physique"),
    "modele": ("modele", "model", "smodel", "modele d ordinateur", "computer model", "modele de materiel"),
    "fabricant": ("fabricant", "manufacturer", "smanufacturer", "marque", "constructeur"),
    "type": ("type", "computer type", "type d ordinateur", "type de materiel", "categorie"),
    "os": ("os", "systeme", "systeme d exploitation", "systeme d exploitation nom", "operating system",
           "operating system name", "osname", "os name", "nom du systeme d exploitation"),
    "ecole": ("ecole", "uai", "rne", "etablissement", "lieu", "location", "localisation", "site", "entite",
              "entity"),
    "salle": ("salle", "room", "piece"),
    "classe": ("classe",),
    "date_achat": ("date achat", "date d achat", "achat", "purchase date", "date de livraison", "delivery date"),
    "garantie_fin": ("fin de garantie", "date de fin de garantie", "garantie fin", "fin garantie",
                     "warranty expiration date", "warranty end", "fin de la garantie"),
    "garantie_duree_mois": ("duree de garantie", "garantie duree mois", "warranty duration", "duree garantie"),
    "fournisseur": ("fournisseur", "supplier", "garantie fournisseur"),
    "inventaire": ("inventaire", "numero d inventaire", "n d inventaire", "inventory number", "otherserial",
                   "numero inventaire", "asset tag"),
    "profil": ("profil",),
}  # fmt: skip

_MOIS = {m: i + 1 for i, m in enumerate(("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet",
                                         "aout", "septembre", "octobre", "novembre", "decembre"))}  # fmt: skip
_TYPES = [
    (("ipad",), "ipad"),
    (("eni", "vpi", "tbi", "ecran interactif", "ecran numerique interactif", "ecran tactile", "interactive display"),
     "eni"),
    (("tablette", "tablet"), "tablette"),
    (("portable", "laptop", "notebook", "ultrabook", "netbook"), "pc-portable"),
    (("pc", "ordinateur", "desktop", "bureau", "tour", "mini pc", "all in one", "tout en un", "station", "computer"),
     "pc"),
]  # fmt: skip


def normaliser(texte: str) -> str:
    """Lowercase, no accents, punctuation → spaces (for column names and matching)."""
    t = unicodedata.normalize("NFKD", texte).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9+]+", " ", t).split())


@dataclass(frozen=True, order=True)
class ProblemeReprise:
    ligne: int
    gravite: str  # erreur | avertissement
    message: str

    def texte(self, fichier: str) -> str:
        return f"{fichier}:{self.ligne}: {self.gravite} : {self.message}"

    def en_dict(self) -> dict:
        return {"ligne": self.ligne, "gravite": self.gravite, "message": self.message}


@dataclass
class Reprise:
    source: str
    entrees: dict[Path, list[dict]] = field(default_factory=dict)  # school file → new entries
    problemes: list[ProblemeReprise] = field(default_factory=list)
    ignorees: int = 0  # already in the manifest
    colonnes_ignorees: list[str] = field(default_factory=list)

    @property
    def erreurs(self) -> list[ProblemeReprise]:
        return [p for p in self.problemes if p.gravite == "erreur"]

    @property
    def nombre(self) -> int:
        return sum(len(v) for v in self.entrees.values())

    def yaml(self, racine: Path) -> str:
        """The YAML that would be appended to each school's ``postes:``."""
        y = YAML()
        y.indent(mapping=2, sequence=2, offset=0)
        y.width = 4096
        sortie = io.StringIO()
        for chemin, entrees in self.entrees.items():
            try:
                nom = chemin.relative_to(racine.resolve().parent)
            except ValueError:
                nom = chemin
            sortie.write(f"# → {nom}, à la fin de « postes: » ({len(entrees)} entrée(s))\n")
            y.dump(entrees, sortie)
        return sortie.getvalue()


# -- reading -------------------------------------------------------------------------------------
def lire_csv(chemin: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """(line, row with canonical keys) for each data row, and the ignored columns."""
    try:
        brut = chemin.read_bytes()
    except OSError as e:
        raise ErreurUsage(f"lecture impossible de {chemin} : {e.strerror}") from None
    try:
        texte = brut.decode("utf-8-sig")
    except UnicodeDecodeError:
        texte = brut.decode("cp1252", errors="replace")  # Excel's French CSV
    if not texte.strip():
        raise ErreurUsage(f"{chemin.name} est vide")
    premiere = texte.splitlines()[0]
    separateur = max((";", ",", "\t"), key=premiere.count)
    lecteur = csv.reader(io.StringIO(texte, newline=""), delimiter=separateur)
    entete = next(lecteur)
    colonnes: dict[int, str] = {}
    ignorees = []
    index_alias = {a: cle for cle, alias in ALIAS.items() for a in alias}
    for i, nom in enumerate(entete):
        n = normaliser(nom)
        cle = index_alias.get(n) or index_alias.get(n.replace(" ", ""))
        if cle is None and " - " in nom:  # GLPI: "Cartes réseau - Adresse MAC"
            cle = index_alias.get(normaliser(nom.split(" - ")[-1]))
        if cle and cle not in colonnes.values():
            colonnes[i] = cle
        elif nom.strip():
            ignorees.append(nom.strip())
    if "numero_serie" not in colonnes.values() and "nom" not in colonnes.values():
        raise ErreurUsage(
            f"{chemin.name} : ni colonne de numéro de série ni colonne de nom reconnue (en-tête : {premiere[:120]}) ;"
            " colonnes attendues : nom, type, modele, os, numero_serie, mac, ecole, date_achat…"
        )
    lignes = []
    for valeurs in lecteur:
        if not any(v.strip() for v in valeurs):
            continue
        lignes.append(
            (lecteur.line_num, {cle: valeurs[i].strip() for i, cle in colonnes.items() if i < len(valeurs)})
        )
    return lignes, ignorees


def date_fr(texte: str) -> dt.date:
    """``12/09/2019``, ``12/09/19``, ``12-09-2019``, ``12.09.2019``, ``2019-09-12[ 10:00]``, ``12 septembre 2019``."""
    t = texte.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", t)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?", t)
    if m:
        annee = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
        return dt.date(annee, int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2}) ([a-z]+) (\d{4})", normaliser(t))
    if m and m[2] in _MOIS:
        return dt.date(int(m[3]), _MOIS[m[2]], int(m[1]))
    raise ValueError(t)


def _mac(texte: str) -> tuple[str | None, bool]:
    """The first MAC of a cell (GLPI lists one per port) and whether there were several."""
    trouvees = re.findall(
        r"[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}|\b[0-9a-fA-F]{12}\b|[0-9a-fA-F]{4}(?:\.[0-9a-fA-F]{4}){2}",
        texte,
    )
    if not trouvees:
        return None, False
    brut = re.sub(r"[:.\-]", "", trouvees[0].lower())
    return ":".join(brut[i : i + 2] for i in range(0, 12, 2)), len(set(trouvees)) > 1


def _os(texte: str, type_: str | None) -> str | None:
    n = normaliser(texte)
    for motif, os in (("primtux", "primtux"), ("windows", "windows"), ("debian", "debian"), ("android", "android"),
                      ("ipados", "ipados"), ("ios", "ipados")):  # fmt: skip
        if re.search(rf"\b{motif}\b", n):
            return os
    if n:
        return "autre"
    return {"ipad": "ipados", "tablette": "android", "eni": "android"}.get(type_ or "")


def _type(texte: str, os: str, modele: str) -> tuple[str | None, bool]:
    """(type, laptop) from the type cell, else from the OS or the model."""
    n = normaliser(texte)
    if "ipad" in normaliser(modele):
        return "ipad", True
    for mots, type_ in _TYPES:
        if n and any(re.search(rf"\b{m}\b", n) for m in mots):
            return ("pc", True) if type_ == "pc-portable" else (type_, type_ in ("tablette", "ipad"))
    o = normaliser(os)
    if "android" in o:
        return "tablette", True
    if "ipados" in o or re.search(r"\bios\b", o):
        return "ipad", True
    if any(x in o for x in ("windows", "debian", "primtux", "linux", "ubuntu")):
        return "pc", False
    return None, False


def _nom_hote(texte: str) -> str:
    premier = texte.strip().split(".")[0]
    n = unicodedata.normalize("NFKD", premier).encode("ascii", "ignore").decode().lower()
    n = re.sub(r"[^a-z0-9-]+", "-", n).strip("-")
    return re.sub(r"-{2,}", "-", n)[:63].strip("-")


# -- building entries ----------------------------------------------------------------------------
class _Contexte:
    def __init__(self, t: Territoire, ecole_defaut: str | None) -> None:
        self.t = t
        self.ecole_defaut = t.ecole(ecole_defaut) if ecole_defaut else None
        self.series: dict[str, str] = {}
        self.macs: dict[str, str] = {}
        self.noms: set[str] = set()
        profils_vus: Counter = Counter()
        for e in t.ecoles:
            m = e.modele
            objets = (
                list(m.postes)
                + list(m.commutateurs)
                + list(m.bornes_wifi)
                + ([m.serveur] if m.serveur else [])
            )
            for o in objets:
                self.noms.add(o.nom)
                if o.numero_serie:
                    self.series[o.numero_serie.upper()] = o.nom
                if o.mac:
                    self.macs[o.mac] = o.nom
            for p in m.postes:
                profils_vus[(p.type.value, p.os.value, p.profil)] += 1
        self.profils_vus = profils_vus

    def ecole(self, texte: str) -> EcoleChargee | None:
        if not texte:
            return self.ecole_defaut
        for partie in [texte] + re.split(r"\s*>\s*", texte):
            m = re.search(r"\b(\d{7}[A-Za-z])\b", partie)
            if m:
                for e in self.t.ecoles:
                    if e.uai == m[1].upper():
                        return e
            n = normaliser(partie)
            for e in self.t.ecoles:
                if n and (n == normaliser(e.nom) or n in normaliser(e.nom) and len(n) > 5):
                    return e
        return None

    def profil(self, type_: str, os: str) -> str | None:
        candidats = [(n, p) for (ty, o, p), n in self.profils_vus.items() if ty == type_ and o == os]
        candidats = candidats or [(n, p) for (ty, _o, p), n in self.profils_vus.items() if ty == type_]
        if candidats:
            return max(candidats)[1]
        from ardoise.profils.resolution import types_profil

        return next((p for p in sorted(self.t.profils) if type_ in types_profil(self.t.profils, p)), None)


def preparer(t: Territoire, lignes: list[tuple[int, dict[str, str]]], source: str,
             ecole_defaut: str | None = None, depuis_audit: bool = False,
             jour: dt.date | None = None) -> Reprise:  # fmt: skip
    """Turn rows into manifest entries, with every problem by line (nothing is written here)."""
    jour = jour or dt.date.today()
    ctx = _Contexte(t, ecole_defaut)
    r = Reprise(source)
    vus_serie: dict[str, tuple[int, dict]] = {}
    vus_mac: dict[str, int] = {}
    vus_nom: dict[str, int] = {}

    for ligne, ro in lignes:

        def probleme(message: str, gravite: str = "erreur", _l: int = ligne) -> None:
            r.problemes.append(ProblemeReprise(_l, gravite, message))

        row = {k: v for k, v in ro.items() if v}
        erreurs_avant = len(r.erreurs)
        serie = row.get("numero_serie", "").strip()
        mac, plusieurs = _mac(row.get("mac", ""))
        if row.get("mac") and mac is None:
            probleme(f"adresse MAC illisible « {row['mac']} »")
        elif plusieurs:
            probleme(f"plusieurs adresses MAC : la première ({mac}) est retenue", "avertissement")
        elif mac is None:
            probleme("adresse MAC absente : à relever (réservation DHCP, contrôle d'accès)", "avertissement")
        if not serie:
            if depuis_audit and mac:
                serie = "A-RELEVER-" + mac.replace(":", "").upper()
                probleme(f"numéro de série inconnu (découvert par l'audit) : « {serie} » provisoire, à relever",
                         "avertissement")  # fmt: skip
            else:
                probleme("numéro de série absent : le manifeste l'exige (étiquette sous l'appareil)")
                continue
        cle_serie = serie.upper()
        if cle_serie in vus_serie:
            premiere, donnees = vus_serie[cle_serie]
            if donnees == row:
                probleme(f"doublon exact de la ligne {premiere} : ignorée", "avertissement")
            else:
                probleme(
                    f"numéro de série « {serie} » déjà à la ligne {premiere} avec d'autres données : gardez une seule ligne"
                )
            continue
        vus_serie[cle_serie] = (ligne, row)
        if cle_serie in ctx.series:
            r.ignorees += 1
            probleme(f"déjà dans le manifeste (« {ctx.series[cle_serie]} », n° {serie}) : ignorée, rien n'est écrasé",
                     "avertissement")  # fmt: skip
            continue
        if mac:
            if mac in ctx.macs:
                probleme(f"adresse MAC {mac} déjà utilisée par « {ctx.macs[mac]} » dans le manifeste")
            elif mac in vus_mac:
                probleme(f"adresse MAC {mac} déjà à la ligne {vus_mac[mac]}")
            vus_mac.setdefault(mac, ligne)
        # school
        ecole = ctx.ecole(row.get("ecole", ""))
        if ecole is None:
            if row.get("ecole"):
                probleme(f"école « {row['ecole']} » introuvable (UAI ou nom d'une école du manifeste)")
            else:
                probleme("école inconnue : ajoutez une colonne « ecole » (UAI) ou l'option --ecole")
            continue
        # model, OS, type
        modele = row.get("modele", "")
        fabricant = row.get("fabricant", "")
        if fabricant and normaliser(fabricant).split(" ")[0] not in normaliser(modele):
            modele = f"{fabricant} {modele}".strip()
        if not modele:
            modele = "modèle inconnu"
            probleme("modèle absent : « modèle inconnu » (à vérifier)", "avertissement")
        type_, portable = _type(row.get("type", ""), row.get("os", ""), modele)
        if type_ is None:
            probleme(f"type d'appareil inconnu « {row.get('type', '')} » : pc, tablette, ipad ou eni")
            continue
        os = _os(row.get("os", ""), type_)
        if os is None:
            os = "autre"
            probleme("système d'exploitation absent : « autre » (à vérifier)", "avertissement")
        # name
        nom = _nom_hote(row.get("nom", ""))
        if not nom:
            nom = _nom_hote(f"{type_}-{serie}")
            probleme(f"nom absent : « {nom} » proposé", "avertissement")
        elif nom != row.get("nom", "").strip():
            probleme(f"nom « {row['nom']} » ramené à un nom d'hôte valide : « {nom} »", "avertissement")
        if nom in ctx.noms:
            probleme(
                f"nom d'hôte « {nom} » déjà utilisé par un autre appareil du manifeste (autre n° de série)"
            )
        elif nom in vus_nom:
            probleme(f"nom d'hôte « {nom} » déjà à la ligne {vus_nom[nom]}")
        vus_nom.setdefault(nom, ligne)
        # dates
        dates = {}
        for cle, libelle in (("date_achat", "date d'achat"), ("garantie_fin", "fin de garantie")):
            if row.get(cle):
                try:
                    dates[cle] = date_fr(row[cle])
                except ValueError:
                    probleme(f"{libelle} illisible « {row[cle]} » (attendu JJ/MM/AAAA)")
        if "garantie_fin" not in dates and row.get("garantie_duree_mois") and "date_achat" in dates:
            try:
                mois = int(re.sub(r"\D", "", row["garantie_duree_mois"]))
                a = dates["date_achat"]
                annee, m = divmod(a.month - 1 + mois, 12)
                dates["garantie_fin"] = a.replace(year=a.year + annee, month=m + 1, day=min(a.day, 28))
            except ValueError:
                probleme(f"durée de garantie illisible « {row['garantie_duree_mois']} » (en mois)")
        if "garantie_fin" in dates and "date_achat" in dates and dates["garantie_fin"] < dates["date_achat"]:
            probleme("fin de garantie avant la date d'achat")
        # profile, room, class
        notes = [f"à vérifier : repris de {source} (ligne {ligne}) le {jour.strftime('%d/%m/%Y')}"]
        if row.get("notes"):
            notes.append(row["notes"])
        profil = row.get("profil")
        if profil and profil not in t.profils:
            probleme(f"profil « {profil} » inconnu ; profils : {', '.join(sorted(t.profils))}")
        if not profil:
            profil = ctx.profil(type_, os)
            if profil is None:
                probleme(f"aucun profil prévu pour un appareil {type_} : ajoutez une colonne « profil »")
        salle = row.get("salle")
        if salle and salle not in {s.id for s in ecole.modele.salles}:
            notes.append(f"salle d'origine : {salle}")
            probleme(f"salle « {salle} » inconnue dans {ecole.nom} : gardée dans les notes", "avertissement")
            salle = None
        classe = row.get("classe")
        if classe and classe not in {c.id for c in ecole.modele.classes}:
            notes.append(f"classe d'origine : {classe}")
            probleme(
                f"classe « {classe} » inconnue dans {ecole.nom} : gardée dans les notes", "avertissement"
            )
            classe = None
        if row.get("ecole") and ecole.uai not in row["ecole"].upper():
            notes.append(f"lieu d'origine : {row['ecole']}")
        if len(r.erreurs) > erreurs_avant:
            continue
        entree = {"nom": nom, "type": type_, "modele": modele, "os": os, "profil": profil, "numero_serie": serie,
                  "mac": mac, "salle": salle, "classe": classe, "etat": "en_service",
                  "date_achat": dates.get("date_achat")}  # fmt: skip
        if "garantie_fin" in dates:
            entree["garantie"] = {"fournisseur": row.get("fournisseur") or "inconnu (à vérifier)",
                                  "fin": dates["garantie_fin"]}  # fmt: skip
        entree["inventaire"] = row.get("inventaire")
        if portable and type_ == "pc":
            entree["portable"] = True
        entree["notes"] = " ; ".join(notes)
        r.entrees.setdefault(fichier_ecole(t, ecole.uai), []).append(
            {k: v for k, v in entree.items() if v is not None}
        )
    r.problemes.sort()
    return r


def ecrire(t: Territoire, r: Reprise) -> list[Path]:
    """Append the entries (validated together first); nothing is written if there is any error."""
    if r.erreurs or not r.entrees:
        return []
    ed = Edition(t.racine)
    for chemin, entrees in r.entrees.items():
        ed.ajouter_postes(chemin, entrees)
    return ed.ecrire()


def lignes_audit(magasin, t: Territoire, uai: str) -> list[tuple[int, dict[str, str]]]:
    """Hosts the latest audit of a school discovered and the manifest does not know (results store).

    Written by :mod:`ardoise.audit.execution`: one row per discovered host, ``details`` with ``mac``, ``nom``,
    ``modele``, ``os``, ``type``, ``ip``, ``vlan``, ``port``, ``fournisseur`` (the MAC's vendor),
    ``declare`` (known to the manifest) and ``decouvert``. Declared devices and the audit's other rows
    (filtering, throughput, devices that did not answer) are skipped. The host's position is the « ligne ».
    """
    from sqlalchemy import select

    from ardoise.resultats.modeles import Execution, ResultatHoteLigne

    ecole = t.ecole(uai)
    with magasin.session() as s:
        req = (
            select(Execution.id)
            .join(ResultatHoteLigne, ResultatHoteLigne.execution_id == Execution.id)
            .where(Execution.genre == "audit", ResultatHoteLigne.uai == ecole.uai)
            .order_by(Execution.debut.desc())
            .limit(1)
        )
        execution = s.scalars(req).first()
        if execution is None:
            raise ErreurUsage(
                f"aucun audit enregistré pour {ecole.nom} ({ecole.uai}) : lancez d'abord l'audit de l'école"
                f" (ardoise audit reseau --ecole {ecole.uai})"
            )
        lignes = []
        for i, h in enumerate(s.scalars(select(ResultatHoteLigne).where(
                ResultatHoteLigne.execution_id == execution, ResultatHoteLigne.uai == ecole.uai)
                .order_by(ResultatHoteLigne.id)), start=1):  # fmt: skip
            d = h.details or {}
            if not d.get("decouvert") or d.get("declare"):
                continue
            row = {k: str(d[k]) for k in ("mac", "modele", "os", "type", "numero_serie") if d.get(k)}
            if d.get("fournisseur"):
                row["fabricant"] = str(
                    d["fournisseur"]
                )  # the MAC's vendor (« fournisseur » in a CSV is the warranty's)
            if not row.get("type"):
                row["type"] = "pc"  # an unknown wired device: to be checked on site
            vu = f"vu par l'audit à {d.get('ip') or 'adresse inconnue'}, VLAN {d.get('vlan')}"
            row["nom"] = str(d.get("nom") or "")
            row["notes"] = vu + (f", port {d['port']}" if d.get("port") else "")
            row["ecole"] = ecole.uai
            lignes.append((i, row))
        return lignes
