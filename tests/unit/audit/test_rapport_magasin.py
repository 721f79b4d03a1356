"""Report and store of an audit built from the lab's real nmap XML (no lab needed): the head-of-school summary,
the technical detail, the store rows ``parc reprendre`` reads, and what is new/resolved between two audits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ardoise.audit import rapport
from ardoise.audit.cibles import cibles
from ardoise.audit.comparaison import comparer
from ardoise.audit.decouverte import lire_xml
from ardoise.audit.execution import Audit, comparer_au_precedent, enregistrer
from ardoise.inventaire.chargeur import charger
from ardoise.parc.reprise import lignes_audit, preparer
from ardoise.resultats.magasin import Magasin
from tests.unit.audit.test_comparaison import LABO, TECHNICIEN, XML

RACINE = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def territoire():
    return charger(RACINE / "inventaire")


def _audit(t, avec_intrus: bool) -> Audit:
    ecole = t.ecole("0331101T")
    hotes = [h for h in lire_xml(XML.read_text()) if avec_intrus or h.mac != "b8:27:eb:5c:0f:42"]
    a = Audit(ecole.uai, ecole.nom, ecole.commune, ("reseau",), "2026-11-23T10:00:00+01:00")
    a.hotes, a.constats = comparer(cibles(ecole, attendus=LABO), hotes, locales=TECHNICIEN)
    a.cibles = cibles(ecole).liste_nmap()
    return a


def test_html_summary_then_detail(territoire) -> None:
    page = rapport.html(_audit(territoire, True))
    assert "2 problème(s) important(s) à traiter rapidement" in page
    assert page.index('id="synthese"') < page.index('id="constats"') < page.index('id="hotes"')
    assert "Raspberry Pi Foundation" in page and "Que faire" in page
    assert "<script" not in page and 'src="http' not in page
    doc = json.loads(rapport.en_json(_audit(territoire, True)))
    assert {c["code"] for c in doc["constats"]} == {"hote-inconnu", "mauvais-vlan"}


def test_store_rows_and_new_resolved(territoire, tmp_path: Path) -> None:
    m = Magasin(f"sqlite:///{tmp_path / 'r.sqlite'}")
    premier = _audit(territoire, True)
    comparer_au_precedent(premier, m)
    ex = enregistrer(premier, m)
    lignes = {r.hote: r for r in m.resultats(ex)}
    intrus = lignes["10.11.10.253"].details
    assert intrus["mac"] == "b8:27:eb:5c:0f:42" and intrus["fournisseur"] == "Raspberry Pi Foundation"
    assert intrus["decouvert"] and not intrus["declare"] and intrus["vlan"] == 10
    assert lignes["pc-jean-jaures-03"].details["declare"]
    # parc reprendre --depuis-audit: only the undeclared host, as an « en_service » entry « à vérifier »
    rows = lignes_audit(m, territoire, "0331101T")
    assert [r["mac"] for _, r in rows] == ["b8:27:eb:5c:0f:42"]
    reprise = preparer(territoire, rows, "l'audit de 0331101T", "0331101T", depuis_audit=True)
    assert not reprise.erreurs and reprise.nombre == 1
    yaml = reprise.yaml(territoire.racine)
    assert "etat: en_service" in yaml and "à vérifier" in yaml and "10.11.10.253" in yaml
    # a second audit without the rogue host: one finding resolved, none new
    second = _audit(territoire, False)
    comparer_au_precedent(second, m)
    assert second.precedent["id"] == ex
    assert [r["code"] for r in second.resolus] == ["hote-inconnu"] and second.nouveaux == []
    assert "1 résolu(s)" in rapport.html(second)
