"""Taking over a fleet from messy GLPI / OCS exports: every problem by CSV line, nothing written on error."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ardoise.cli.main import app
from ardoise.inventaire.chargeur import charger, valider
from ardoise.parc import reprise
from tests.aide_parc import copier_exemple

# A GLPI "Ordinateurs" export as a school secretary sends it: French column names, Windows-1252,
# ";" separator, a location tree, MACs in several spellings, French dates, duplicates.
GLPI = """Nom;Numéro de série;Fabricant;Modèle;Type;Système d'exploitation - Nom;Lieu;Cartes réseau - Adresse MAC;Date d'achat;Date de fin de garantie;Numéro d'inventaire;Commentaires
PC-BCD-01;CZC1234AB;HP;ProDesk 600 G3;Ordinateur de bureau;Microsoft Windows 10 Professionnel;Groupe scolaire Jean-Jaurès > salle-info;3C-52-82-AA-BB-01;12/09/2019;12/09/2022;INV-2019-001;ok
PC-BCD-02;CZC1234AC;HP;ProDesk 600 G3;Ordinateur de bureau;Microsoft Windows 10 Professionnel;Groupe scolaire Jean-Jaurès;;12/09/2019;;INV-2019-002;
PC-BCD-01;CZC1234AB;HP;ProDesk 600 G3;Ordinateur de bureau;Microsoft Windows 10 Professionnel;Groupe scolaire Jean-Jaurès > salle-info;3C-52-82-AA-BB-01;12/09/2019;12/09/2022;INV-2019-001;ok
PC-BCD-09;CZC1234AB;HP;EliteBook 840;Portable;Windows 11;Groupe scolaire Jean-Jaurès;3c:52:82:aa:bb:09;01/02/2021;;;
PC-BCD-03;CZC1234AD;Dell;Latitude 3190;Portable;Windows 10;Groupe scolaire Jean-Jaurès;3c5282aabb03;31/02/2020;;;
pc-jean-jaures-01;PC11000A;HP;ProDesk 400 G9;Ordinateur de bureau;Windows 11;0331101T;02:a0:0b:10:00:00;10/07/2024;;;
PORTABLE-DIR;;Lenovo;ThinkPad E14;Portable;Windows 11;Groupe scolaire Jean-Jaurès;3c:52:82:aa:bb:0e;2023-03-01;;;
PC_CM2 Élève;CZC1234AE;Lenovo;ThinkCentre M75q;;Debian GNU/Linux 12 (bookworm);Groupe scolaire Jean-Jaurès;3c52.82aa.bb05;5 septembre 2022;;;
PC-VH-01;CZC1234AF;Dell;OptiPlex 3000;Ordinateur de bureau;Windows 11;École Victor-Hugo;3c:52:82:aa:bb:06;01/09/2022;;;
TAB-CP-01;R52T70ABCD;Samsung;Galaxy Tab A8;Tablette;Android 13;0331101T;3c:52:82:aa:bb:07;05/03/21;05/03/23;;
"""

OCS = """NAME,SSN,SMANUFACTURER,SMODEL,OSNAME,MACADDR,IPADDR,TAG
ECOLE-TILLEULS-PC1,PF3ABCDE,LENOVO,ThinkCentre M70q,Debian GNU/Linux 12,3c:52:82:cc:00:01,10.12.10.120,TILLEULS
ECOLE-TILLEULS-PC2,PF3ABCDF,LENOVO,ThinkCentre M70q,Debian GNU/Linux 12,,10.12.10.121,TILLEULS
"""


@pytest.fixture
def inventaire(tmp_path: Path) -> Path:
    return copier_exemple(tmp_path)


def _empreintes(inv: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(inv.rglob("*")) if p.is_file()}


def test_fichier_glpi_desordonne_chaque_probleme_par_ligne(inventaire, tmp_path):
    csv_glpi = tmp_path / "export-glpi.csv"
    csv_glpi.write_bytes(GLPI.encode("cp1252"))
    t = charger(inventaire)
    lignes, ignorees = reprise.lire_csv(csv_glpi)
    assert ignorees == ["Commentaires"]
    r = reprise.preparer(t, lignes, csv_glpi.name)
    par_ligne = {}
    for p in r.problemes:
        par_ligne.setdefault(p.ligne, []).append((p.gravite, p.message))
    erreurs = {p.ligne for p in r.erreurs}
    assert erreurs == {5, 6, 8, 10}, par_ligne
    assert any("adresse MAC absente" in m for g, m in par_ligne[3] if g == "avertissement")
    assert par_ligne[4] == [("avertissement", "doublon exact de la ligne 2 : ignorée")]
    assert "déjà à la ligne 2 avec d'autres données" in par_ligne[5][0][1]
    assert any("date d'achat illisible « 31/02/2020 »" in m for _, m in par_ligne[6])
    assert par_ligne[7] == [
        (
            "avertissement",
            "déjà dans le manifeste (« pc-jean-jaures-01 », n° PC11000A) : ignorée, rien n'est écrasé",
        )
    ]
    assert any("numéro de série absent" in m for _, m in par_ligne[8])
    assert any("ramené à un nom d'hôte valide : « pc-cm2-eleve »" in m for _, m in par_ligne[9])
    assert any("école « École Victor-Hugo » introuvable" in m for _, m in par_ligne[10])
    # the good lines were understood (French dates, MAC spellings, OS, types, the room from the location tree)
    entrees = {e["nom"]: e for es in r.entrees.values() for e in es}
    assert set(entrees) == {"pc-bcd-01", "pc-bcd-02", "pc-cm2-eleve", "tab-cp-01"}
    pc = entrees["pc-bcd-01"]
    assert pc["mac"] == "3c:52:82:aa:bb:01" and pc["os"] == "windows" and pc["type"] == "pc"
    assert pc["modele"] == "HP ProDesk 600 G3" and str(pc["date_achat"]) == "2019-09-12"
    assert pc["garantie"]["fin"].isoformat() == "2022-09-12" and pc["etat"] == "en_service"
    assert pc["notes"].startswith("à vérifier : repris de export-glpi.csv (ligne 2)")
    assert (
        entrees["pc-cm2-eleve"]["mac"] == "3c:52:82:aa:bb:05"
        and str(entrees["pc-cm2-eleve"]["date_achat"]) == "2022-09-05"
    )
    assert entrees["pc-cm2-eleve"]["os"] == "debian" and entrees["pc-cm2-eleve"]["profil"] == "pc-eleve"
    assert (
        entrees["tab-cp-01"]["type"] == "tablette" and str(entrees["tab-cp-01"]["date_achat"]) == "2021-03-05"
    )
    # with errors, nothing is written
    empreintes = _empreintes(inventaire)
    assert reprise.ecrire(t, r) == []
    assert _empreintes(inventaire) == empreintes


def test_cli_glpi_erreurs_code_1_rien_ecrit(inventaire, tmp_path):
    csv_glpi = tmp_path / "export-glpi.csv"
    csv_glpi.write_bytes(GLPI.encode("cp1252"))
    empreintes = _empreintes(inventaire)
    r = CliRunner().invoke(app, ["parc", "reprendre", "--depuis", str(csv_glpi), "--inventaire", str(inventaire),
                                 "--base", f"sqlite:///{tmp_path}/r.sqlite"])  # fmt: skip
    assert r.exit_code == 1
    assert f"{csv_glpi}:6: erreur : date d'achat illisible" in r.output
    assert "4 erreur(s) : rien n'a été écrit" in r.output
    assert _empreintes(inventaire) == empreintes


def test_export_ocs_essai_puis_ecriture(inventaire, tmp_path):
    csv_ocs = tmp_path / "ocs.csv"
    csv_ocs.write_text(OCS, encoding="utf-8")
    empreintes = _empreintes(inventaire)
    base = f"sqlite:///{tmp_path}/r.sqlite"
    commun = ["parc", "reprendre", "--depuis", str(csv_ocs), "--ecole", "0331102U", "--inventaire", str(inventaire),
              "--base", base]  # fmt: skip
    essai = CliRunner().invoke(app, commun + ["--essai"])
    assert essai.exit_code == 0, essai.output
    assert (
        "- nom: ecole-tilleuls-pc1\n  type: pc\n  modele: LENOVO ThinkCentre M70q\n  os: debian\n"
        in essai.output
    )
    assert "à vérifier" in essai.output and _empreintes(inventaire) == empreintes
    r = CliRunner().invoke(app, commun)
    assert r.exit_code == 0, r.output
    assert "2 entrée(s) ajoutée(s)" in r.output
    t, problemes = valider(inventaire)
    assert t is not None, [p.texte() for p in problemes]
    postes = {p.nom: p for p in t.ecole("0331102U").modele.postes}
    assert (
        postes["ecole-tilleuls-pc2"].mac is None and postes["ecole-tilleuls-pc1"].etat.value == "en_service"
    )
    assert "à vérifier" in postes["ecole-tilleuls-pc1"].notes
    # a second run overwrites nothing and adds nothing
    avant = _empreintes(inventaire)
    r2 = CliRunner().invoke(app, commun)
    assert r2.exit_code == 0 and "0 entrée(s) ajoutée(s)" in r2.output and "2 déjà présente(s)" in r2.output
    assert _empreintes(inventaire) == avant


@pytest.mark.parametrize(("texte", "iso"), [("12/09/2019", "2019-09-12"), ("12/09/19", "2019-09-12"),
                                             ("12.09.2019", "2019-09-12"), ("2019-09-12 00:00:00", "2019-09-12"),
                                             ("1er", None), ("5 septembre 2022", "2022-09-05")])  # fmt: skip
def test_dates_francaises(texte, iso):
    if iso is None:
        with pytest.raises(ValueError):
            reprise.date_fr(texte)
    else:
        assert reprise.date_fr(texte).isoformat() == iso
