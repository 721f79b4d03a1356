"""The load cache: served when nothing changed, rebuilt as soon as a manifest file changes.

Real files on disk, real cache entries; nothing is patched. A read-only cache directory is a real
read-only mount when the tests run as root (root ignores permission bits), a 0555 directory otherwise.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ardoise.erreurs import ErreurManifeste
from ardoise.inventaire.cache import charger_avec_cache, dossier_cache_defaut
from ardoise.inventaire.chargeur import charger
from tests.unit.inventaire.bac_inventaire import JEAN_JAURES, Bac, profil


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def entree(cache: Path) -> Path:
    (fichier,) = cache.glob("territoire-*.cache")
    return fichier


def servi_par_le_cache(caplog: pytest.LogCaptureFixture) -> bool:
    return any("servi par le cache" in r.getMessage() for r in caplog.records)


@pytest.fixture
def dossier_lecture_seule(tmp_path: Path) -> Iterator[Path]:
    """A cache directory nobody can write to, as in an AWX execution environment."""
    d = tmp_path / "lecture-seule"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d
        d.chmod(0o755)
        return
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(d)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"root sans droit de monter un tmpfs en lecture seule : {r.stderr.decode().strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", str(d)], check=True)


def test_second_load_is_served_from_the_cache_and_equal(bac: Bac, cache: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="ardoise")
    premier = charger_avec_cache(bac.inventaire, cache)
    mtime = entree(cache).stat().st_mtime_ns
    assert not servi_par_le_cache(caplog)
    caplog.clear()
    second = charger_avec_cache(bac.inventaire, cache)
    assert servi_par_le_cache(caplog)
    assert entree(cache).stat().st_mtime_ns == mtime  # read, not rewritten
    assert second == premier == charger(bac.inventaire)
    assert sum(1 for _ in second.equipements()) == 99


def test_a_school_edit_of_the_same_size_is_seen(bac: Bac, cache: Path) -> None:
    charger_avec_cache(bac.inventaire, cache)
    fichier = bac.chemin(JEAN_JAURES)
    avant = fichier.stat()
    bac.remplacer(JEAN_JAURES, "nom: Groupe scolaire Jean-Jaurès", "nom: Groupe scolaire Jean-Jaurés")
    assert fichier.stat().st_size == avant.st_size
    os.utime(fichier, ns=(avant.st_atime_ns, avant.st_mtime_ns + 1_000_000_000))
    assert charger_avec_cache(bac.inventaire, cache).ecole("0331101T").nom == "Groupe scolaire Jean-Jaurés"


def test_a_size_change_is_seen_even_with_the_same_mtime(bac: Bac, cache: Path) -> None:
    charger_avec_cache(bac.inventaire, cache)
    fichier = bac.chemin(JEAN_JAURES)
    avant = fichier.stat()
    bac.remplacer(JEAN_JAURES, "nom: Groupe scolaire Jean-Jaurès", "nom: Groupe scolaire Jean-Jaurès II")
    os.utime(fichier, ns=(avant.st_atime_ns, avant.st_mtime_ns))
    assert charger_avec_cache(bac.inventaire, cache).ecole("0331101T").nom == "Groupe scolaire Jean-Jaurès II"


def test_an_edit_within_the_same_timestamp_tick_is_seen(bac: Bac, cache: Path) -> None:
    """Same size AND same mtime: caught because the file was fresh when cached (content compared)."""
    fichier = bac.chemin(JEAN_JAURES)
    fichier.touch()  # just written, as by a script that edits then loads at once
    charger_avec_cache(bac.inventaire, cache)
    avant = fichier.stat()
    bac.remplacer(JEAN_JAURES, "nom: Groupe scolaire Jean-Jaurès", "nom: Groupe scolaire Jean-Jaurés")
    os.utime(fichier, ns=(avant.st_atime_ns, avant.st_mtime_ns))
    assert fichier.stat().st_size == avant.st_size
    assert charger_avec_cache(bac.inventaire, cache).ecole("0331101T").nom == "Groupe scolaire Jean-Jaurés"


def test_a_removed_school_and_a_profile_edit_are_seen(bac: Bac, cache: Path) -> None:
    charger_avec_cache(bac.inventaire, cache)
    bac.chemin("inventaire/communes/castelnau/ecoles/0333302k-le-lac.yml").unlink()
    assert len(charger_avec_cache(bac.inventaire, cache).ecoles) == 5
    texte = bac.lire(profil("pc-eleve"))
    bac.ecrire(profil("pc-eleve"), texte + "# modifié\n")
    # the profile file is part of the key: the next load reads it again (and sees the same profile)
    mtime = entree(cache).stat().st_mtime_ns
    charger_avec_cache(bac.inventaire, cache)
    assert entree(cache).stat().st_mtime_ns != mtime


def test_a_corrupt_or_truncated_entry_is_ignored_and_rebuilt(bac: Bac, cache: Path, caplog) -> None:
    charger_avec_cache(bac.inventaire, cache)
    fichier = entree(cache)
    contenu = fichier.read_bytes()
    for abime in (b"n'importe quoi", contenu[: len(contenu) // 2], contenu[:-1] + b"\x00"):
        fichier.write_bytes(abime)
        caplog.clear()
        caplog.set_level(logging.DEBUG, logger="ardoise")
        t = charger_avec_cache(bac.inventaire, cache)
        assert not servi_par_le_cache(caplog)
        assert sum(1 for _ in t.equipements()) == 99
        assert entree(cache).read_bytes()[:16] == contenu[:16]  # rewritten whole


def test_an_entry_of_another_version_is_ignored(bac: Bac, cache: Path, caplog) -> None:
    charger_avec_cache(bac.inventaire, cache)
    fichier = entree(cache)
    contenu = fichier.read_bytes()
    debut = contenu.index(b'"version": "') + len(b'"version": "')
    fichier.write_bytes(contenu[:debut] + b"0" * 64 + contenu[debut + 64 :])
    caplog.set_level(logging.DEBUG, logger="ardoise")
    charger_avec_cache(bac.inventaire, cache)
    assert not servi_par_le_cache(caplog)
    assert any("autre version" in r.getMessage() for r in caplog.records)


def test_an_invalid_manifest_raises_and_caches_nothing(bac: Bac, cache: Path) -> None:
    bac.remplacer(JEAN_JAURES, "uai: 0331101T", "uai: 0331101A")
    with pytest.raises(ErreurManifeste) as e:
        charger_avec_cache(bac.inventaire, cache)
    assert any(p.fichier == JEAN_JAURES for p in e.value.problemes)
    assert not cache.exists() or not list(cache.glob("territoire-*.cache"))


def test_a_read_only_cache_directory_only_disables_caching(
    bac: Bac, dossier_lecture_seule: Path, caplog
) -> None:
    caplog.set_level(logging.DEBUG, logger="ardoise")
    for _ in range(2):
        t = charger_avec_cache(bac.inventaire, dossier_lecture_seule)
        assert sum(1 for _ in t.equipements()) == 99
    assert list(dossier_lecture_seule.iterdir()) == []
    assert not servi_par_le_cache(caplog)
    assert not [
        r
        for r in caplog.records
        if r.name.startswith("ardoise.inventaire.cache") and r.levelno > logging.DEBUG
    ]


def test_one_school_is_read_alone_from_the_cache(bac: Bac, cache: Path) -> None:
    charger_avec_cache(bac.inventaire, cache)
    une = charger_avec_cache(bac.inventaire, cache, ecoles=["0331101t"])
    assert [e.uai for e in une.ecoles] == ["0331101T"]
    assert une.ecoles[0] == charger(bac.inventaire).ecole("0331101T")
    commune = charger_avec_cache(bac.inventaire, cache, communes=["castelnau"])
    assert {e.uai for e in commune.ecoles} == {"0333301J", "0333302K"}
    # an unknown school: every school, so that the caller's message can suggest the right one
    assert len(charger_avec_cache(bac.inventaire, cache, ecoles=["0331101X"]).ecoles) == 6


def test_default_directory_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARDOISE_CACHE", str(tmp_path / "a"))
    assert dossier_cache_defaut() == tmp_path / "a"
    monkeypatch.delenv("ARDOISE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert dossier_cache_defaut() == tmp_path / "xdg" / "ardoise"
