"""« La commune reprend la main »: export of one commune, self-contained and sealed; import back; refusals.

Real parts only: the example territory copied to tmp_path, the demo vault and its password, a real SQLite
results store filled through the store's own API and models, the real ``ardoise`` and ``ansible-inventory``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret
from sqlalchemy import delete, func, select

from ardoise.commune import ErreurReprise
from ardoise.commune.exportation import exporter
from ardoise.commune.importation import importer
from ardoise.erreurs import ArdoiseErreur
from ardoise.inventaire import coffre
from ardoise.inventaire.chargeur import charger, valider
from ardoise.parc.edition import _vider, _yaml_pour
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.resultats.magasin import Magasin
from ardoise.resultats.modeles import (
    Echange,
    EtatAppareil,
    Evenement,
    Execution,
    Incident,
    Pret,
    ResultatHoteLigne,
    ResumeQuotidien,
    VerificationLigne,
)
from tests.aide_parc import copier_exemple

BIN = Path(sys.executable).parent
COMMUNES = ("bellerive", "saint-aubin", "castelnau")
MODELES = (Execution, ResultatHoteLigne, VerificationLigne, EtatAppareil, Evenement, Incident, Pret, Echange,
           ResumeQuotidien)  # fmt: skip


def _mdp(inv: Path) -> Path:
    return inv / "coffre-demo.mdp"


def _remplir(magasin: Magasin, t) -> None:
    """History for every commune: one sweep over all of them, one run per commune, states, events, parc rows."""
    hotes = {
        c.id: [eq for eq in t.equipements() if eq.commune == c.id and eq.adresse][:3] for c in t.communes
    }
    ex = magasin.commencer("maintenance", selection={"communes": list(hotes), "postes": [
        eq.nom for eqs in hotes.values() for eq in eqs]})  # fmt: skip
    for eqs in hotes.values():
        for eq in eqs:
            v = Verification("disque", "Espace disque", Niveau.OK, f"{eq.nom} : 40 % libre")
            magasin.enregistrer(ex, ResultatHote(eq.nom, StatutHote.ok, verifications=[v],
                                                 details={"adresse": str(eq.adresse)}), eq.uai, eq.commune)  # fmt: skip
    magasin.terminer(ex, resume={"ecoles": {eq.uai: {"ok": 1} for eqs in hotes.values() for eq in eqs}})
    for commune, eqs in hotes.items():
        ex = magasin.commencer("atelier", selection={"postes": [eq.nom for eq in eqs]}, lot=f"lot-{commune}")
        for eq in eqs:
            magasin.enregistrer(ex, ResultatHote(eq.nom, StatutHote.ok), eq.uai, commune)
            magasin.definir_etat(eq.nom, "pret", ex)
        magasin.terminer(ex)
        magasin.journaliser("wifi.couper", "ok", cible=f"{eqs[0].uai}/Classe", commune=commune)
        with magasin.session() as s:
            inc = Incident(appareil=eqs[0].nom, numero_serie=eqs[0].numero_serie, commune=commune, uai=eqs[0].uai,
                           symptome="écran noir", voie="garantie")  # fmt: skip
            s.add(inc)
            s.flush()
            s.add(Pret(appareil=eqs[1].nom, commune=commune, uai=eqs[1].uai, emprunteur="Mme Martin",
                       jusqu_au=dt.date(2027, 6, 30), etat_avant="en_service"))  # fmt: skip
            s.add(Echange(poste=eqs[0].nom, spare=eqs[2].nom, commune=commune, incident_id=inc.id))
            # a day summarised by the retention policy (maintenance purger)
            s.add(ResumeQuotidien(hote=eqs[0].nom, jour=dt.date(2026, 9, 1), uai=eqs[0].uai, commune=commune,
                                  passages=3, ok=3, dernier_etat="ok"))  # fmt: skip


def _comptes(magasin: Magasin, commune: str | None = None) -> dict[str, int]:
    with magasin.session() as s:
        n = {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in MODELES}
        if commune:
            n["resultats_commune"] = s.scalar(
                select(func.count()).where(ResultatHoteLigne.commune == commune)
            )
        return n


@pytest.fixture(scope="module")
def projet(tmp_path_factory) -> Path:
    racine = tmp_path_factory.mktemp("territoire")
    inv = copier_exemple(racine)
    magasin = Magasin(f"sqlite:///{racine}/base.sqlite")
    _remplir(magasin, charger(inv))
    magasin.moteur.dispose()
    return racine


@pytest.fixture(scope="module")
def exports(projet: Path, tmp_path_factory) -> dict[str, Path]:
    dossier = tmp_path_factory.mktemp("exports")
    inv = projet / "inventaire"
    for c in COMMUNES:
        exporter(inv, c, dossier / c, base=f"sqlite:///{projet}/base.sqlite", mot_de_passe=_mdp(inv))
    return {c: dossier / c for c in COMMUNES}


def _interdits(t, commune: str, inv: Path) -> set[str]:
    """Computed here, independently: everything that names another commune, and the other secrets."""
    interdits: set[str] = set()
    for c in t.communes:
        if c.id != commune:
            interdits |= {c.id, c.nom, c.insee}
    for e in t.ecoles:
        if e.commune == commune:
            continue
        interdits |= {e.uai, e.modele.nom, Path(e.fichier).stem}
    for eq in t.equipements():
        if eq.commune != commune:
            interdits |= {
                x for x in (eq.nom, eq.mac, eq.numero_serie, str(eq.adresse) if eq.adresse else None) if x
            }
    propres = set()
    for e in t.ecoles_de(commune):
        texte = (inv.parent / e.fichier).read_text(encoding="utf-8")
        propres |= set(re.findall(r"coffre: (\w+)", texte))
    propres |= set(
        re.findall(
            r"coffre: (\w+)", (inv / "territoire.yml").read_text(encoding="utf-8").split("\ncommunes:")[0]
        )
    )
    vault = VaultLib([("default", VaultSecret(_mdp(inv).read_bytes().strip()))])
    for nom, chiffre in coffre.textes_chiffres(inv / "coffre.yml").items():
        if nom not in propres:
            interdits.add(nom)
            interdits.add(vault.decrypt(chiffre.encode()).decode())  # the clear value
            interdits |= {ligne.strip() for ligne in chiffre.splitlines()[1:]}  # the encrypted form
    return interdits


@pytest.mark.parametrize("commune", COMMUNES)
def test_export_contient_la_commune_seule_et_se_valide_seul(projet, exports, commune):
    inv, export = projet / "inventaire", exports[commune]
    t = charger(inv)
    ex, problemes = valider(export / "inventaire")
    assert ex is not None, [p.texte() for p in problemes]
    assert [c.id for c in ex.communes] == [commune]
    # same devices, same school files byte for byte (comments kept)
    assert [eq.en_dict() for eq in ex.equipements()] == [
        eq.en_dict() for eq in t.equipements() if eq.commune == commune
    ]
    for e in t.ecoles_de(commune):
        assert (export / e.fichier).read_bytes() == (projet / e.fichier).read_bytes()
    # nothing of another commune anywhere, the SQLite store included (grep of every file)
    fuites = []
    interdits = _interdits(t, commune, inv)
    assert len(interdits) > 100
    for f in export.rglob("*"):
        if f.is_file():
            texte = f.read_bytes().decode("utf-8", errors="replace").lower()
            fuites += [(str(f.relative_to(export)), x) for x in interdits
                       if re.search(rf"(?<![0-9a-z]){re.escape(x.lower())}(?![0-9a-z])", texte)]  # fmt: skip
    assert fuites == []
    # only the profiles in use (with their parents) and only their apps
    utilises = {p.profil for e in t.ecoles_de(commune) for p in e.modele.postes}
    assert utilises <= set(ex.profils) <= set(t.profils)
    for p in ex.profils.values():
        assert set(p.applications) <= set(ex.applications)
        if p.herite_de:
            assert p.herite_de in ex.profils
    assert set(ex.applications) < set(t.applications) or commune == "bellerive"


def test_export_coffre_rechiffre_avec_un_nouveau_mot_de_passe(projet, exports):
    inv, export = projet / "inventaire", exports["castelnau"]
    mdp = export / "inventaire" / "coffre.mdp"
    assert stat.S_IMODE(mdp.stat().st_mode) == 0o600
    assert mdp.read_bytes().strip() != _mdp(inv).read_bytes().strip()
    noms = sorted(coffre.textes_chiffres(export / "inventaire" / "coffre.yml"))
    nouveaux = coffre.reveler(export / "inventaire" / "coffre.yml", noms, mdp)
    anciens = coffre.reveler(inv / "coffre.yml", noms, _mdp(inv))
    assert {n: s.reveler() for n, s in nouveaux.items()} == {n: s.reveler() for n, s in anciens.items()}
    with pytest.raises(ArdoiseErreur, match="mot de passe du coffre incorrect"):
        coffre.reveler(export / "inventaire" / "coffre.yml", noms[:1], _mdp(inv))
    # the secrets to rotate: every exported secret, with a reason, never a value
    rotation = (export / "secrets-a-renouveler.csv").read_text(encoding="utf-8")
    lignes = rotation.splitlines()[1:]
    assert sorted(ligne.split(";")[0] for ligne in lignes) == noms
    assert all(s.reveler() not in rotation for s in anciens.values())
    assert "partagé avec d'autres communes" in rotation.split("admin_postes_mdp;")[1].splitlines()[0]


def test_export_historique_de_la_commune_seule(projet, exports):
    base = Magasin(f"sqlite:///{exports['castelnau']}/var/ardoise/resultats.sqlite")
    with base.session() as s:
        communes = set(s.scalars(select(ResultatHoteLigne.commune)))
        assert communes == {"castelnau"}
        assert set(s.scalars(select(Incident.commune))) == {"castelnau"}
        assert set(s.scalars(select(Pret.commune))) == {"castelnau"}
        assert set(s.scalars(select(Echange.commune))) == {"castelnau"}
        assert set(s.scalars(select(Evenement.commune))) == {"castelnau"}
        assert set(s.scalars(select(ResumeQuotidien.commune))) == {"castelnau"}
        # the shared sweep is there, reduced to this commune's hosts and schools
        balayage = s.scalars(select(Execution).where(Execution.genre == "maintenance")).one()
        assert balayage.selection["communes"] == ["castelnau"]
        assert set(balayage.resume["ecoles"]) <= {"0333301J", "0333302K"}
        # the swap still points at its incident
        echange = s.scalars(select(Echange)).one()
        assert s.get(Incident, echange.incident_id).appareil == echange.poste
    assert _comptes(base) == {"executions": 2, "resultats_hotes": 6, "verifications": 3, "etats_appareils": 3,
                              "evenements": 1, "incidents": 1, "prets": 1, "echanges": 1,
                              "resumes_quotidiens": 1}  # fmt: skip


def test_ardoise_et_ansible_fonctionnent_dans_l_export(exports):
    export = exports["saint-aubin"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARDOISE_", "ANSIBLE_"))}
    r = subprocess.run([str(BIN / "ardoise"), "inventaire", "valider"], cwd=export, env=env,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "1 commune" in r.stderr
    r = subprocess.run([str(BIN / "ansible-inventory"), "--list"], cwd=export, capture_output=True, text=True,
                       timeout=120, env={**env, "ANSIBLE_CACHE_PLUGIN_CONNECTION": str(export / ".cache")})  # fmt: skip
    assert r.returncode == 0, r.stderr
    hotes = set(json.loads(r.stdout)["_meta"]["hostvars"])
    attendus = {eq.nom for eq in charger(export / "inventaire").equipements()}
    assert hotes == attendus and any(h.startswith("pc-pierre-loti") for h in hotes)


def test_export_refuse_sans_rien_ecrire(projet, tmp_path):
    inv = projet / "inventaire"
    occupe = tmp_path / "occupe"
    occupe.mkdir()
    (occupe / "notes.txt").write_text("à garder\n")
    env = {k: v for k, v in os.environ.items() if k != "ARDOISE_INVENTAIRE"}
    r = subprocess.run([str(BIN / "ardoise"), "commune", "exporter", "--commune", "castelnau", "--vers", str(occupe),
                        "--inventaire", str(inv), "--mdp-coffre", str(_mdp(inv))],
                       capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert r.returncode == 1
    assert "déjà existante et non vide" in r.stderr and "rien n'a été écrit" in r.stderr
    assert [f.name for f in occupe.iterdir()] == ["notes.txt"]
    with pytest.raises(ArdoiseErreur, match="vouliez-vous dire « castelnau »"):
        exporter(inv, "castelnaux", tmp_path / "neuf", mot_de_passe=_mdp(inv))
    assert not (tmp_path / "neuf").exists()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["occupe"]  # no temporary directory left either


def _retirer(inv: Path, base: Magasin, commune: str, secrets: list[str]) -> None:
    """What a syndicat does when a commune leaves: its files, its entry, its own secrets, its history."""
    hotes = [eq.nom for eq in charger(inv).equipements() if eq.commune == commune]
    shutil.rmtree(inv / "communes" / commune)
    f = inv / "territoire.yml"
    source = f.read_text(encoding="utf-8")
    y = _yaml_pour(source)
    doc = y.load(source)
    del doc["communes"][[c["id"] for c in doc["communes"]].index(commune)]
    for c in doc["contrats_maintenance"]:
        if commune in (c.get("communes") or []):
            c["communes"].remove(commune)
    f.write_text(_vider(y, doc), encoding="utf-8")
    texte = (inv / "coffre.yml").read_text(encoding="utf-8")
    for nom in secrets:
        texte = re.sub(rf"^{nom}: !vault \|\n(?: +.*\n)+", "", texte, flags=re.MULTILINE)
    (inv / "coffre.yml").write_text(texte, encoding="utf-8")
    with base.session() as s:
        ids = list(s.scalars(select(ResultatHoteLigne.id).where(ResultatHoteLigne.commune == commune)))
        s.execute(delete(VerificationLigne).where(VerificationLigne.resultat_id.in_(ids)))
        s.execute(delete(ResultatHoteLigne).where(ResultatHoteLigne.id.in_(ids)))
        s.execute(delete(Execution).where(Execution.lot == f"lot-{commune}"))
        s.execute(delete(EtatAppareil).where(EtatAppareil.hote.in_(hotes)))
        for m in (Echange, Pret, Incident, Evenement):
            s.execute(delete(m).where(m.commune == commune))


def _empreintes(*dossiers: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in dossiers for p in sorted(d.rglob("*")) if p.is_file()}  # fmt: skip


def test_aller_retour_export_retrait_import(projet, exports, tmp_path):
    shutil.copytree(projet, tmp_path / "avant")
    racine = tmp_path / "avant"
    shutil.copytree(racine, tmp_path / "apres", ignore=shutil.ignore_patterns("base.sqlite-*"))
    inv = tmp_path / "apres" / "inventaire"
    url = f"sqlite:///{tmp_path}/apres/base.sqlite"
    base = Magasin(url)
    avant = charger(inv)
    comptes_avant = _comptes(base, "castelnau")
    propres = ["commutateurs_castelnau_mdp", "wifi_0333301j_classe", "wifi_0333301j_invites",
               "wifi_0333302k_classe", "wifi_0333302k_invites"]  # fmt: skip
    valeurs = {n: s.reveler() for n, s in coffre.reveler(inv / "coffre.yml", propres, _mdp(inv)).items()}
    _retirer(inv, base, "castelnau", propres)
    assert _comptes(base, "castelnau")["resultats_commune"] == 0
    # dry run: says what it would do, writes nothing
    empreintes = _empreintes(inv, tmp_path / "apres" / "profils_terminaux")
    essai = importer(inv, exports["castelnau"], base=url, mot_de_passe=_mdp(inv), essai=True)
    assert sorted(essai.nouveaux) == ["inventaire/communes/castelnau/ecoles/0333301j-les-pins.yml",
                                      "inventaire/communes/castelnau/ecoles/0333302k-le-lac.yml"]  # fmt: skip
    assert sorted(essai.modifies) == ["inventaire/coffre.yml", "inventaire/territoire.yml"]
    assert essai.secrets_ajoutes == propres and essai.historique["resultats"] == 6
    assert "+  - id: castelnau" in essai.diff and "communes: [saint-aubin, castelnau]" in essai.diff
    assert _empreintes(inv, tmp_path / "apres" / "profils_terminaux") == empreintes
    assert _comptes(base, "castelnau")["resultats_commune"] == 0
    # the import
    importer(inv, exports["castelnau"], base=url, mot_de_passe=_mdp(inv))
    apres = charger(inv)
    assert [eq.en_dict() for eq in apres.equipements() if eq.commune == "castelnau"] == [
        eq.en_dict() for eq in avant.equipements() if eq.commune == "castelnau"]  # fmt: skip
    assert apres.commune("castelnau") == avant.commune("castelnau")
    assert [e.politique for e in apres.ecoles_de("castelnau")] == [
        e.politique for e in avant.ecoles_de("castelnau")
    ]
    relus = coffre.reveler(
        inv / "coffre.yml", propres, _mdp(inv)
    )  # re-encrypted with the territory's password
    assert {n: s.reveler() for n, s in relus.items()} == valeurs
    assert _comptes(base, "castelnau") == comptes_avant
    # twice: refused (the commune is back), nothing changes; the history merge alone adds nothing
    empreintes = _empreintes(inv)
    with pytest.raises(ErreurReprise, match="la commune « castelnau » .* est déjà dans le territoire"):
        importer(inv, exports["castelnau"], base=url, mot_de_passe=_mdp(inv))
    assert _empreintes(inv) == empreintes and _comptes(base, "castelnau") == comptes_avant
    from ardoise.commune.historique import copier

    source = Magasin(f"sqlite:///{exports['castelnau']}/var/ardoise/resultats.sqlite")
    assert set(copier(source, base).values()) == {0}


def test_import_refuse_un_conflit_en_nommant_les_fichiers(projet, exports, tmp_path):
    shutil.copytree(projet, tmp_path / "t", ignore=shutil.ignore_patterns("base.sqlite*"))
    inv = tmp_path / "t" / "inventaire"
    shutil.copytree(projet, tmp_path / "avant", ignore=shutil.ignore_patterns("base.sqlite*"))
    url = f"sqlite:///{tmp_path}/t/base.sqlite"
    _retirer(inv, Magasin(url), "castelnau", [])
    # a Bellerive PC now carries a hostname the export also uses
    f = inv / "communes/bellerive/ecoles/0331101t-jean-jaures.yml"
    nom = re.search(r"- nom: (pc-\S+)", f.read_text(encoding="utf-8"))[1]
    f.write_text(
        f.read_text(encoding="utf-8").replace(f"nom: {nom}\n", "nom: pc-les-pins-04\n"), encoding="utf-8"
    )
    assert valider(inv)[0] is not None
    empreintes = _empreintes(inv)
    env = {k: v for k, v in os.environ.items() if k != "ARDOISE_INVENTAIRE"}
    r = subprocess.run([str(BIN / "ardoise"), "commune", "importer", "--depuis", str(exports["castelnau"]),
                        "--inventaire", str(inv), "--mdp-coffre", str(_mdp(inv)), "--base", url],
                       capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert r.returncode == 1, r.stderr
    assert "import refusé, rien n'a été écrit" in r.stderr
    assert "inventaire/communes/bellerive/ecoles/0331101t-jean-jaures.yml" in r.stderr
    assert "nom d'hôte pc-les-pins-04" in r.stderr and "0333301j-les-pins.yml" in r.stderr
    assert _empreintes(inv) == empreintes
    assert not (inv / "communes" / "castelnau").exists()
    assert _comptes(Magasin(url), "castelnau")["resultats_commune"] == 0
