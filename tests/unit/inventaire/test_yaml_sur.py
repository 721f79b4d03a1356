"""The safe YAML reader: every hostile or broken file gives one French problem with file:line.

Most cases go through :func:`valider` on a copy of the example territory, as a technician would
meet them; none may raise, print a traceback or write anything.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from ardoise.erreurs import ErreurManifeste
from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.yaml_sur import PROFONDEUR_MAX, TAILLE_MAX, ErreurYaml, lire_texte
from tests.unit.inventaire.bac_inventaire import JEAN_JAURES, TERRITOIRE, Bac, unique

ANGLAIS = ("found", "expected", "while ", "could not", "not allowed", "Input should", "unacceptable")

BOMBE = b"""uai: 0331101T
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def probleme_yaml(bac: Bac, fichier: str = JEAN_JAURES):
    """Validate; expect exactly one ``yaml`` problem, in ``fichier``, in French, with a fix."""
    territoire, problemes = bac.valider()
    assert territoire is None
    p = unique(problemes, "yaml")
    assert p.fichier == fichier
    assert p.gravite == "erreur" and p.correction.strip()
    for mot in ANGLAIS:
        assert mot not in p.message, p.texte()
    return p


# ------------------------------------------------------------------ hostile content ------------


def test_etiquette_python_refusee_sans_execution(bac: Bac, tmp_path: Path) -> None:
    temoin = tmp_path / "pwned"
    bac.remplacer(
        JEAN_JAURES,
        "\nnom: Groupe scolaire Jean-Jaurès",
        f"\nnom: !!python/object/apply:os.system ['touch {temoin}']",
    )
    p = probleme_yaml(bac)
    assert (p.ligne, p.colonne) == (bac.ligne(JEAN_JAURES, "!!python"), bac.colonne(JEAN_JAURES, "!!python"))
    assert "étiquette YAML interdite" in p.message and "python/object/apply" in p.message
    assert not temoin.exists()


def test_cle_en_double_donne_la_premiere_ligne(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "type: groupe_scolaire\n", "type: groupe_scolaire\nnom: Autre nom\n")
    p = probleme_yaml(bac)
    assert p.ligne == bac.ligne(JEAN_JAURES, "nom: Autre nom")
    assert p.colonne == 1
    assert f"clé « nom » en double (déjà définie ligne {bac.ligne(JEAN_JAURES, 'nom: Groupe')})" in p.message


def test_bombe_d_alias_refusee_vite_et_sans_memoire(bac: Bac) -> None:
    bac.ecrire(JEAN_JAURES, BOMBE)
    tracemalloc.start()
    debut = time.perf_counter()
    try:
        p = probleme_yaml(bac)
        duree = time.perf_counter() - debut
        _, pic = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "trop volumineux une fois les alias développés" in p.message
    assert "alias" in p.correction
    assert 2 <= p.ligne <= 10
    assert duree < 5  # loose: it takes milliseconds (sizes are measured on the node graph)
    assert pic < 64 * 1024 * 1024  # the 387 million "lol" are never built


def test_alias_recursif(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "\nnom: Groupe scolaire Jean-Jaurès", "\nnom: &boucle [a, *boucle]")
    p = probleme_yaml(bac)
    assert p.ligne == bac.ligne(JEAN_JAURES, "&boucle")
    assert "alias récursif" in p.message


def test_imbrication_trop_profonde(bac: Bac) -> None:
    n = PROFONDEUR_MAX + 5
    bac.remplacer(JEAN_JAURES, "\nnom: Groupe scolaire Jean-Jaurès", "\nnom: " + "[" * n + "x" + "]" * n)
    p = probleme_yaml(bac)
    ligne = bac.ligne(JEAN_JAURES, "[[[")
    assert p.ligne == ligne
    assert "imbrication trop profonde (plus de 64 niveaux" in p.message


def test_imbrication_enorme_ne_fait_pas_planter_python(tmp_path: Path) -> None:
    """200 000 nested ``[`` (a 400 KB file) used to crash libyaml's recursive composer (SIGSEGV)."""
    fichier = tmp_path / "profond.yml"
    fichier.write_bytes(b"a: " + b"[" * 200_000 + b"]" * 200_000 + b"\n- " + b"- " * 100_000 + b"x\n")
    code = (
        "import sys; from pathlib import Path; from ardoise.inventaire.yaml_sur import lire, ErreurYaml\n"
        "try:\n    lire(Path(sys.argv[1]))\nexcept ErreurYaml as e:\n    print(e)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, str(fichier)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "imbrication trop profonde" in r.stdout
    assert r.stderr == ""


def test_etiquette_vault_refusee_dans_une_ecole(bac: Bac) -> None:
    bac.remplacer(
        JEAN_JAURES,
        "    coffre: wifi_0331101t_classe\n",
        "    coffre: !vault |\n      $ANSIBLE_VAULT;1.1;AES256\n      3132333435\n",
    )
    p = probleme_yaml(bac)
    assert (p.ligne, p.colonne) == (bac.ligne(JEAN_JAURES, "!vault"), bac.colonne(JEAN_JAURES, "!vault"))
    assert "étiquette YAML interdite « !vault »" in p.message
    assert "coffre" in p.correction and "ardoise-vault" in p.correction


def test_trop_gros(bac: Bac) -> None:
    chemin = bac.chemin(JEAN_JAURES)
    with chemin.open("r+b") as f:  # sparse: instant, takes no disk space
        f.truncate(TAILLE_MAX + 1)
    p = probleme_yaml(bac)
    assert p.ligne == 1
    assert "fichier trop gros" in p.message and "limite 16 Mio" in p.message


# ------------------------------------------------------------------ broken files ---------------


def test_tabulation_dans_l_indentation(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "  rue: 14 rue de l'École", "\true: 14 rue de l'École")
    p = probleme_yaml(bac)
    assert (p.ligne, p.colonne) == (bac.ligne(JEAN_JAURES, "\true:"), 1)
    assert "tabulation" in p.message and "espaces" in p.correction


def test_latin1(bac: Bac) -> None:
    brut = bac.lire(JEAN_JAURES).encode("latin-1", errors="replace")  # "è" is one byte, 0xE8
    bac.ecrire(JEAN_JAURES, brut)
    p = probleme_yaml(bac)
    lignes = brut.splitlines()
    premiere = next(i for i, ligne in enumerate(lignes) if not ligne.isascii())
    colonne = next(j for j, c in enumerate(lignes[premiere]) if c >= 0x80)
    assert (p.ligne, p.colonne) == (premiere + 1, colonne + 1)
    assert "pas en UTF-8" in p.message and "iconv" in p.correction


def test_utf16(bac: Bac) -> None:
    bac.ecrire(JEAN_JAURES, bac.lire(JEAN_JAURES).encode("utf-16"))
    p = probleme_yaml(bac)
    assert "UTF-16" in p.message and "utf-8" in p.correction


def test_contenu_binaire(bac: Bac) -> None:
    bac.remplacer(JEAN_JAURES, "  ville: Bellerive-sur-Garonne", "  ville: Bellerive\x00\x01\x02")
    p = probleme_yaml(bac)
    assert p.ligne == bac.ligne(JEAN_JAURES, "ville: Bellerive")
    assert "contenu binaire" in p.message


@pytest.mark.parametrize("contenu", ["", "\n\n   \n", "# rien que des commentaires\n\n  # encore\n"])
def test_fichier_vide(bac: Bac, contenu: str) -> None:
    bac.ecrire(JEAN_JAURES, contenu)
    p = probleme_yaml(bac)
    assert (p.ligne, p.message) == (1, "fichier vide")


@pytest.mark.parametrize("fichier", [JEAN_JAURES, TERRITOIRE])
def test_liste_au_premier_niveau(bac: Bac, fichier: str) -> None:
    bac.ecrire(fichier, "- uai: 0331101T\n- nom: Groupe scolaire\n")
    territoire, problemes = bac.valider()
    assert territoire is None
    p = unique(problemes, "type")
    assert (p.fichier, p.ligne, p.colonne) == (fichier, 1, 1)
    assert p.message == "le fichier doit contenir un dictionnaire (clé: valeur), pas une liste"
    assert "clé: valeur" in p.correction


def test_document_vide_explicite(bac: Bac) -> None:
    bac.ecrire(JEAN_JAURES, "---\n")
    _, problemes = bac.valider()
    p = unique(problemes, "type")
    assert "pas une valeur vide" in p.message


SYNTAXE = [
    (
        "crochet",
        "\nnom: Groupe scolaire Jean-Jaurès",
        "\nnom: [Groupe scolaire",
        "type: groupe_scolaire",
        "crochet ou accolade non fermé (ouvert ligne 5)",
    ),
    (
        "guillemet",
        "  rue: 14 rue de l'École\n  code_postal: '33177'",
        "  rue: \"14 rue de l'École\n  code_postal: 33177",
        None,
        "guillemet non fermé (ouvert ligne 8)",
    ),
    (
        "deux-points",
        "\nnom: Groupe scolaire Jean-Jaurès",
        "\nnom: Groupe: scolaire",
        "Groupe: scolaire",
        "« : » inattendu",
    ),
    (
        "indentation",
        "  code_postal: '33177'",
        " code_postal: '33177'",
        "code_postal",
        "indentation incohérente",
    ),
    (
        "deux-documents",
        "\nnom: Groupe scolaire Jean-Jaurès",
        "\n---\nnom: Groupe scolaire Jean-Jaurès",
        "---",
        "plusieurs documents",
    ),
    (
        "caractere-controle",
        "  ville: Bellerive-sur-Garonne",
        "  ville: Bellerive\x07",
        "ville: Bellerive",
        "caractère de contrôle interdit (U+0007)",
    ),
    (
        "echappement",
        "  ville: Bellerive-sur-Garonne",
        '  ville: "C:\\ecoles\\qbellerive"',
        "ville:",
        "séquence d'échappement",
    ),
    ("alias-inconnu", "\nnom: Groupe scolaire Jean-Jaurès", "\nnom: *inconnu", "*inconnu", "ancre inconnue"),
]


@pytest.mark.parametrize(
    ("ancien", "nouveau", "ou", "message"), [c[1:] for c in SYNTAXE], ids=[c[0] for c in SYNTAXE]
)
def test_syntaxe(bac: Bac, ancien: str, nouveau: str, ou: str | None, message: str) -> None:
    bac.remplacer(JEAN_JAURES, ancien, nouveau)
    p = probleme_yaml(bac)
    assert p.message.startswith("YAML invalide : ") or "contrôle" in p.message
    assert message in p.message, p.texte()
    if ou is not None:
        assert p.ligne == bac.ligne(JEAN_JAURES, ou), p.texte()


def test_pas_de_trace_python_pour_charger(bac: Bac) -> None:
    bac.ecrire(JEAN_JAURES, b"\x00\x01")
    with pytest.raises(ErreurManifeste) as exc:
        charger(bac.inventaire)
    assert "le manifeste contient 1 erreur(s)" in str(exc.value)
    assert exc.value.problemes[0].fichier == JEAN_JAURES


# ------------------------------------------------------------------ YAML 1.1 traps -------------


def test_pieges_yaml_1_1(bac: Bac) -> None:
    """Octal-looking codes, base-60 looking MACs and times, yes/no/on/off and floats keep their text."""
    bac.remplacer(TERRITOIRE, 'insee: "33412"', "insee: 01053")  # octal in YAML 1.1
    bac.remplacer(TERRITOIRE, '      debut: "13:00"', "      debut: 13:00")  # 780 in base 60
    bac.remplacer(JEAN_JAURES, "mac: 02:a0:0b:10:00:00", "mac: 10:20:30:40:50:59")  # base 60 too
    bac.remplacer(JEAN_JAURES, "  modele: HP ProDesk 400 G9\n  os: windows", "  modele: 3.10\n  os: windows")
    bac.remplacer(JEAN_JAURES, "  code_postal: '33177'", "  code_postal: 03177")
    bac.remplacer(JEAN_JAURES, "    description: Serveur ecole", "    description: on")
    bac.remplacer(JEAN_JAURES, "  portable: true", "  portable: yes")
    territoire, problemes = bac.valider()
    assert problemes == [] and territoire is not None
    assert territoire.commune("bellerive").insee == "01053"
    assert [(p.debut, p.fin) for p in territoire.politique.fenetres_maintenance][0] == ("13:00", "18:00")
    jj = territoire.ecole("0331101T").modele
    assert jj.postes[0].mac == "10:20:30:40:50:59"
    assert jj.postes[0].modele == "3.10"
    assert jj.adresse.code_postal == "03177"
    assert jj.wifi[0].horaires[0].debut == "08:30"  # unquoted in the example file
    assert any(p.description == "on" for p in jj.commutateurs[0].ports)
    assert jj.postes[1].portable is True


def test_lire_texte_refuse_sans_exception_etrangere() -> None:
    """The reader itself only ever raises ErreurYaml."""
    for brut in (
        b"a: [",
        b"\xff\xfe\x00",
        b"a: &x [*x]",
        b"? [a]\n: 1\n",
        b"a: &x 1\nb:\n  <<: *x\n",
        b"%YAML 9.9\n---\na: 1",
    ):
        with pytest.raises(ErreurYaml) as exc:
            lire_texte(Path("x.yml"), brut)
        assert exc.value.ligne >= 1 and exc.value.correction


# ------------------------------------------------------------------ validation writes nothing --


def _instantane(racine: Path) -> dict[str, tuple]:
    etat = {}
    for dossier, sous_dossiers, fichiers in os.walk(racine):
        for nom in sous_dossiers + fichiers:
            p = Path(dossier) / nom
            st = p.lstat()
            contenu = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
            etat[str(p.relative_to(racine))] = (st.st_mode, st.st_size, st.st_mtime_ns, contenu)
    return etat


@pytest.mark.parametrize("casse", [False, True], ids=["territoire-valide", "territoire-invalide"])
def test_la_validation_n_ecrit_rien(bac: Bac, casse: bool) -> None:
    if casse:
        bac.remplacer(JEAN_JAURES, "adresse: 10.11.10.12", "adresse: 10.11.20.12")
        bac.remplacer(TERRITOIRE, "auth: {coffre: snmp_auth}", "auth: {coffre: snmp_autth}")
        bac.ecrire("inventaire/communes/bellerive/ecoles/casse.yml", b"a: [\x07")
    avant = _instantane(bac.racine)
    territoire, problemes = bac.valider()
    assert (territoire is None) == casse and bool(problemes) == casse
    assert _instantane(bac.racine) == avant
