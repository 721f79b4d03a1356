"""The printable A4 enrolment sheet: one labelled QR per tablet (or per batch), HTML → PDF → PNG.

The HTML holds each QR as an SVG image (module geometry only): the Wi-Fi PSK is inside the symbols and
nowhere in the text around them. PDF through WeasyPrint, PNG pages through ``pdftoppm`` (poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.profils.resolution import profil_effectif
from ardoise.tablettes.appareils import libelle_classe, tablettes_android
from ardoise.tablettes.erreurs import ErreurConfigurationTablettes, ErreurTablettes
from ardoise.tablettes.qr import Identite, charge_utile, dpc_du_territoire, symbole
from ardoise.tablettes.wifi import reseau_tablettes

log = logging.getLogger(__name__)

PAR_PAGE_COLONNES, PAR_PAGE_RANGEES = 2, 3
RESOLUTION_PNG = 150  # dpi: a QR module stays several pixels wide


class FormatFeuille(StrEnum):
    html = "html"
    pdf = "pdf"
    png = "png"


class Regroupement(StrEnum):
    appareil = "appareil"  # one QR per tablet, its identity in the admin extras
    lot = "lot"  # one QR per profile of the school: the DPC identifies devices itself


@dataclass(frozen=True)
class Etiquette:
    titre: str
    serie: str
    classe: str
    detail: str
    image: str  # data: URI of the QR symbol (SVG)


@dataclass(frozen=True)
class Feuille:
    uai: str
    fichiers: list[Path]
    codes: int
    ssid: str
    choix_wifi: str


def _environnement() -> Environment:
    return Environment(
        loader=PackageLoader("ardoise.tablettes", "modeles"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def etiquettes(
    territoire: Territoire, ecole: EcoleChargee, par: Regroupement = Regroupement.appareil
) -> tuple[list[Etiquette], str, str]:
    """The labelled QR images of the school, the SSID and why it was chosen."""
    dpc_du_territoire(territoire, ecole)  # fail early and clearly
    postes = tablettes_android(ecole)
    if not postes:
        raise ErreurConfigurationTablettes(f"école {ecole.uai} : aucune tablette Android dans le manifeste")
    reseau = reseau_tablettes(territoire, ecole)
    resultat: list[Etiquette] = []
    if par is Regroupement.appareil:
        for p in postes:
            pe = profil_effectif(territoire, ecole, p)
            qr = symbole(charge_utile(territoire, ecole, Identite.de_poste(ecole, p), pe.parametres, reseau))
            detail = f"Profil {p.profil} · {p.modele}" + (f" · salle {p.salle}" if p.salle else "")
            resultat.append(Etiquette(p.nom, p.numero_serie, libelle_classe(ecole, p), detail, _image(qr)))
    else:
        for profil in sorted({p.profil for p in postes}):
            membres = [p for p in postes if p.profil == profil]
            pe = profil_effectif(territoire, ecole, membres[0])
            qr = symbole(charge_utile(territoire, ecole, Identite(ecole.uai, profil), pe.parametres, reseau))
            resultat.append(
                Etiquette(
                    f"Lot {profil}",
                    "",
                    "",
                    f"{len(membres)} tablette(s) : " + ", ".join(p.nom for p in membres),
                    _image(qr),
                )
            )
    return resultat, reseau.ssid, reseau.choix


def _image(qr) -> str:
    return qr.svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


def html_feuille(
    territoire: Territoire, ecole: EcoleChargee, par: Regroupement = Regroupement.appareil
) -> tuple[str, int, str, str]:
    """The sheet's HTML, the number of codes, the SSID and the reason of the Wi-Fi choice."""
    liste, ssid, choix = etiquettes(territoire, ecole, par)
    par_page = PAR_PAGE_COLONNES * PAR_PAGE_RANGEES
    pages = []
    for debut in range(0, len(liste), par_page):
        morceau: list[Etiquette | None] = list(liste[debut : debut + par_page])
        morceau += [None] * (-len(morceau) % PAR_PAGE_COLONNES)
        pages.append([morceau[i : i + PAR_PAGE_COLONNES] for i in range(0, len(morceau), PAR_PAGE_COLONNES)])
    html = (
        _environnement()
        .get_template("feuille.html.j2")
        .render(
            pages=pages,
            uai=ecole.uai,
            ecole_nom=ecole.nom,
            ssid=ssid,
            dpc=ecole.politique.dpc.composant.split("/")[0] if ecole.politique.dpc else "",
            date=dt.date.today().strftime("%d/%m/%Y"),
        )
    )
    return html, len(liste), ssid, choix


def _ecrire_prive(chemin: Path, donnees: bytes) -> None:
    """Write a file readable by its owner only (the QR codes carry the Wi-Fi key)."""
    descripteur = os.open(chemin, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descripteur, "wb") as f:
        f.write(donnees)
    os.chmod(chemin, 0o600)


def _pdf(html: str, base: Path) -> bytes:
    for bavard in ("weasyprint", "weasyprint.progress", "fontTools"):  # before the import: it parses CSS
        logging.getLogger(bavard).setLevel(logging.ERROR)
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as e:  # OSError: the Pango libraries are missing
        raise ErreurTablettes(
            f"WeasyPrint indisponible ({e}) : lancez « make installer » (paquets libpango-1.0-0, libpangoft2-1.0-0)"
        ) from None
    return HTML(string=html, base_url=str(base)).write_pdf()


def _png(pdf: Path, prefixe: Path) -> list[Path]:
    outil = shutil.which("pdftoppm")
    if outil is None:
        raise ErreurTablettes(
            "pdftoppm introuvable : installez le paquet Debian poppler-utils (make installer)"
        )
    for ancien in prefixe.parent.glob(prefixe.name + "-*.png"):
        ancien.unlink()
    r = subprocess.run(
        [outil, "-png", "-r", str(RESOLUTION_PNG), str(pdf), str(prefixe)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if r.returncode != 0:
        raise ErreurTablettes(f"conversion PNG impossible (pdftoppm) : {r.stderr.strip()}")
    pages = sorted(prefixe.parent.glob(prefixe.name + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for p in pages:
        os.chmod(p, 0o600)
    return pages


def produire_feuille(
    territoire: Territoire,
    uai: str,
    formats: list[FormatFeuille],
    sortie: Path,
    par: Regroupement = Regroupement.appareil,
) -> Feuille:
    """Write the school's enrolment sheet in each requested format under ``sortie``."""
    ecole = territoire.ecole(uai)
    html, n, ssid, choix = html_feuille(territoire, ecole, par)
    sortie.mkdir(parents=True, exist_ok=True)
    nom = f"qr-{ecole.uai.lower()}" + ("-lots" if par is Regroupement.lot else "")
    fichiers: list[Path] = []
    if FormatFeuille.html in formats:
        _ecrire_prive(sortie / f"{nom}.html", html.encode("utf-8"))
        fichiers.append(sortie / f"{nom}.html")
    if FormatFeuille.pdf in formats or FormatFeuille.png in formats:
        pdf = _pdf(html, sortie)
        if FormatFeuille.pdf in formats:
            _ecrire_prive(sortie / f"{nom}.pdf", pdf)
            fichiers.append(sortie / f"{nom}.pdf")
        if FormatFeuille.png in formats:
            with tempfile.TemporaryDirectory(prefix="ardoise-qr-") as tmp:
                source = Path(tmp) / f"{nom}.pdf"
                _ecrire_prive(source, pdf)
                fichiers += _png(source, sortie / nom)
    log.debug("feuille d'enrôlement de %s : %d code(s), Wi-Fi « %s » (%s)", ecole.uai, n, ssid, choix)
    return Feuille(ecole.uai, fichiers, n, ssid, choix)
