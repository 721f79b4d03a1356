"""The printable sheet: every QR decoded back from the PNG equals the intended payload; the PSK is in
the codes only, never in the text of the HTML or the PDF."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ardoise.inventaire.territoire import Territoire
from ardoise.profils.resolution import profil_effectif
from ardoise.tablettes import qr as q
from ardoise.tablettes.appareils import tablettes_android
from ardoise.tablettes.feuille import FormatFeuille, Regroupement, produire_feuille
from ardoise.tablettes.wifi import reseau_tablettes
from tests.aide_tablettes import UAI, decoder_qr


@pytest.fixture(scope="module")
def feuille(territoire: Territoire, tmp_path_factory):
    return produire_feuille(territoire, UAI, list(FormatFeuille), tmp_path_factory.mktemp("feuille"))


def _attendues(territoire: Territoire) -> dict[str, dict]:
    ecole = territoire.ecole(UAI)
    reseau = reseau_tablettes(territoire, ecole)
    return {
        p.numero_serie: q.charge_utile(
            territoire,
            ecole,
            q.Identite.de_poste(ecole, p),
            profil_effectif(territoire, ecole, p).parametres,
            reseau,
        )
        for p in tablettes_android(ecole)
    }


def test_png_de_la_feuille_decode_chaque_tablette(territoire: Territoire, feuille):
    pngs = [f for f in feuille.fichiers if f.suffix == ".png"]
    assert pngs and feuille.codes == 4
    lus = [json.loads(t) for png in pngs for t in decoder_qr(png)]
    attendues = _attendues(territoire)
    assert len(lus) == len(attendues)
    assert {d[q.EXTRAS]["ardoise.numero_serie"]: d for d in lus} == attendues


def test_psk_seulement_dans_les_codes(territoire: Territoire, feuille, psk: str):
    html = next(f for f in feuille.fichiers if f.suffix == ".html").read_text()
    pdf = next(f for f in feuille.fichiers if f.suffix == ".pdf").read_bytes()
    assert psk not in html and psk.encode() not in pdf
    # the labels are there: hostname, serial, class
    for p in tablettes_android(territoire.ecole(UAI)):
        assert p.nom in html and p.numero_serie in html and f"{p.classe} (" in html
    assert pdf.startswith(b"%PDF")
    for f in feuille.fichiers:
        assert os.stat(f).st_mode & 0o077 == 0, f


def test_un_code_par_lot(territoire: Territoire, tmp_path: Path, psk: str):
    f = produire_feuille(territoire, UAI, [FormatFeuille.png], tmp_path, Regroupement.lot)
    (texte,) = [t for png in f.fichiers for t in decoder_qr(png)]
    d = json.loads(texte)
    assert d[q.EXTRAS] == {
        "ardoise.uai": UAI,
        "ardoise.profil": "tablette-android",
        "ardoise.jeton_ref": f"ardoise:{UAI}:tablette-android",
    }
    assert d[q.WIFI_MDP] == psk
