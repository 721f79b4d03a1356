"""Spare swap on a copy of the example territory: minimal diff, comments kept, validation, store, refusals."""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from ardoise.erreurs import ErreurManifeste, ErreurUsage
from ardoise.inventaire.chargeur import charger, valider
from ardoise.parc.edition import Edition, mettre, transplanter
from ardoise.parc.remplacement import remplacer
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import Echange, Evenement, Incident
from tests.aide_parc import copier_exemple

ECOLE = "communes/castelnau/ecoles/0333301j-les-pins.yml"


@pytest.fixture
def inventaire(tmp_path: Path) -> Path:
    inv = copier_exemple(tmp_path)
    f = inv / ECOLE
    texte = f.read_text(encoding="utf-8")
    # comments a technician would write: a full-line one before the spare, one at the end of a line
    texte = texte.replace(
        "- nom: pc-les-pins-09\n", "# spare rangé dans l'armoire de la direction\n- nom: pc-les-pins-09\n"
    )
    texte = texte.replace(
        "  numero_serie: PC31002C\n", "  numero_serie: PC31002C  # étiquette refaite en 2024\n"
    )
    f.write_text(texte, encoding="utf-8")
    return inv


@pytest.fixture
def magasin(tmp_path: Path) -> Magasin:
    return Magasin(f"sqlite:///{tmp_path}/resultats.sqlite")


def _empreintes(inv: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(inv.rglob("*")) if p.is_file()}


def test_echange_diff_minimal_commentaires_gardes_valide_et_enregistre(inventaire, magasin):
    avant = (inventaire / ECOLE).read_text(encoding="utf-8")
    t = charger(inventaire)
    r = remplacer(t, magasin, "pc-les-pins-03", "pc-les-pins-09", "ne s'allume plus")
    apres = (inventaire / ECOLE).read_text(encoding="utf-8")
    modifiees = [
        ligne for ligne in difflib.ndiff(avant.splitlines(), apres.splitlines()) if ligne[:2] in ("- ", "+ ")
    ]
    cles = {ligne[2:].split(":")[0].strip() for ligne in modifiees}
    # only the hardware fields and the states change (both PCs share model, purchase date and warranty)
    assert cles == {"numero_serie", "mac", "inventaire", "etat"}, modifiees
    assert len(modifiees) == 2 * 2 * 4  # 4 keys, 2 entries, one line removed and one added each
    assert "# spare rangé dans l'armoire de la direction\n- nom: pc-les-pins-09\n" in apres
    assert "  numero_serie: PC31008A  # étiquette refaite en 2024\n" in apres  # the comment stays on its line
    assert len(avant.splitlines()) == len(apres.splitlines())
    territoire, problemes = valider(inventaire)
    assert territoire is not None, [p.texte() for p in problemes]
    postes = {p.nom: p for p in territoire.ecole("0333301J").modele.postes}
    assert (
        postes["pc-les-pins-03"].numero_serie == "PC31008A"
        and postes["pc-les-pins-03"].etat.value == "atelier"
    )
    assert postes["pc-les-pins-03"].salle == "salle-info" and postes["pc-les-pins-03"].profil == "pc-eleve"
    assert (
        postes["pc-les-pins-09"].numero_serie == "PC31002C"
        and postes["pc-les-pins-09"].etat.value == "en_panne"
    )
    with magasin.session() as s:
        e = s.scalars(select(Echange)).one()
        assert (e.poste, e.spare, e.serie_en_panne, e.serie_spare) == (
            "pc-les-pins-03",
            "pc-les-pins-09",
            "PC31002C",
            "PC31008A",
        )
        i = s.get(Incident, e.incident_id)
        assert i.statut == "ouvert" and i.numero_serie == "PC31002C" and i.symptome == "ne s'allume plus"
        assert (
            s.scalars(select(Evenement).where(Evenement.action == "parc.remplacer")).one().cible
            == "pc-les-pins-03"
        )
    assert r.preparation == "ardoise atelier preparer --postes pc-les-pins-03"


def test_champs_differents_inseres_a_leur_place(inventaire, magasin):
    """A spare without warranty nor MAC: the broken PC's keys are removed, the spare's added in schema order."""
    f = inventaire / ECOLE
    texte = f.read_text(encoding="utf-8")
    debut = texte.index("- nom: pc-les-pins-09")
    fin = texte.index("- nom: tab-les-pins-01")
    bloc = texte[debut:fin]
    nouveau = bloc.replace("  mac: 02:a0:1f:10:00:08\n", "")
    nouveau = nouveau[: nouveau.index("  garantie:")] + nouveau[nouveau.index("  inventaire:") :]
    f.write_text(texte[:debut] + nouveau + texte[fin:], encoding="utf-8")
    t = charger(inventaire)
    remplacer(t, magasin, "pc-les-pins-03", "pc-les-pins-09")
    territoire, problemes = valider(inventaire)
    assert territoire is not None, [p.texte() for p in problemes]
    postes = {p.nom: p for p in territoire.ecole("0333301J").modele.postes}
    assert postes["pc-les-pins-03"].mac is None and postes["pc-les-pins-03"].garantie is None
    assert (
        postes["pc-les-pins-09"].mac == "02:a0:1f:10:00:02" and postes["pc-les-pins-09"].garantie is not None
    )
    apres = f.read_text(encoding="utf-8")
    bloc09 = apres[apres.index("- nom: pc-les-pins-09") : apres.index("- nom: tab-les-pins-01")]
    cles = [ligne.split(":")[0].strip(" -") for ligne in bloc09.splitlines() if not ligne.startswith("    ")]
    assert cles == ["nom", "type", "modele", "os", "profil", "numero_serie", "mac", "etat", "vlan", "adresse",
                    "date_achat", "garantie", "inventaire"]  # fmt: skip


@pytest.mark.parametrize(
    ("spare", "message"),
    [
        ("pc-les-pins-04", "n'est pas un spare : son état est « en_service »"),
        ("tab-les-pins-02", "le spare doit être du même type"),
        ("pc-pierre-loti-10", "appartient à la réserve de la commune « saint-aubin »"),
    ],
)
def test_refus_rien_n_est_ecrit(inventaire, magasin, spare, message):
    f = inventaire / "communes/castelnau/ecoles/0333301j-les-pins.yml"
    if spare.startswith("tab"):  # a tablet in the reserve of the same commune
        texte = f.read_text(encoding="utf-8")
        debut = texte.index("- nom: tab-les-pins-02")
        f.write_text(
            texte[:debut] + texte[debut:].replace("  etat: en_service", "  etat: reserve", 1),
            encoding="utf-8",
        )
    empreintes = _empreintes(inventaire)
    t = charger(inventaire)
    with pytest.raises(ErreurUsage) as e:
        remplacer(t, magasin, "pc-les-pins-03", spare)
    assert message in str(e.value)
    assert _empreintes(inventaire) == empreintes
    with magasin.session() as s:
        assert s.scalars(select(Echange)).all() == [] and s.scalars(select(Incident)).all() == []


@pytest.mark.parametrize(
    ("cle", "valeur", "regle"),
    [("etat", "casse", "valeur-inconnue"), ("numero_serie", "PC31008A", "numero-serie-double")],
)
def test_edition_invalide_rien_n_est_ecrit(inventaire, cle, valeur, regle):
    empreintes = _empreintes(inventaire)
    ed = Edition(inventaire)
    mettre(ed.poste(inventaire / ECOLE, "pc-les-pins-04"), cle, valeur)
    with pytest.raises(ErreurManifeste) as e:
        ed.ecrire()
    assert regle in {p.regle for p in e.value.problemes}
    assert all("essai" not in p.fichier for p in e.value.problemes)  # named after the real files
    assert _empreintes(inventaire) == empreintes
    assert not list(inventaire.parent.glob(".inventaire-essai-*"))  # the mirror is gone


def test_essai_montre_le_diff_sans_ecrire(inventaire):
    empreintes = _empreintes(inventaire)
    r = remplacer(charger(inventaire), None, "pc-les-pins-03", "pc-les-pins-09", essai=True)
    assert "-  etat: reserve" in r.diff and "+  etat: en_panne" in r.diff and not r.ecrit
    assert _empreintes(inventaire) == empreintes


def test_transplanter_ne_touche_que_les_lignes_changees():
    """ruamel would re-space ``cle:   valeur`` and re-indent; only the edited line may change."""
    source = "a:   1\nb:\n    - x\n    - y\nc: bonjour   # commentaire\n"
    vierge = "a: 1\nb:\n- x\n- y\nc: bonjour   # commentaire\n"
    modifie = "a: 1\nb:\n- x\n- y\nc: au revoir   # commentaire\n"
    assert (
        transplanter(source, vierge, modifie)
        == "a:   1\nb:\n    - x\n    - y\nc: au revoir   # commentaire\n"
    )
