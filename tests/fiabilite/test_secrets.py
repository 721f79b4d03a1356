"""Secrets never leak: a territory whose every vault secret is a unique canary, every command at its most verbose.

The campaign (module fixture ``campagne``) runs, through the real ``ardoise`` entry point and ``ansible-inventory``,
every command that reads or uses secrets, on the normal path and with injected failures:

- switches: the lab's switch emulators on loopback (real SSH peers): in sync, drifted, one that refuses the
  login (wrong password), one that drops the session mid-push, one that refuses unknown commands (the complete
  perimeter pushes NTP/SNMP/user lines the emulators do not know), one unreachable (closed port);
- GLPI: the GLPI stand-in (GLPI cannot run here) accepting the tokens, refusing a wrong token, and unreachable;
- tablets: the adb server stand-in with a tablet refusing an install, and an adb server that is not there;
- the workshop: ansible-runner against a host whose SSH port is closed (unreachable);
- maintenance: real loopback sshd (tests/boucle_sshd.py), one of them stopped;
- invalid manifest, broken vault, wrong vault password.

Then every byte it produced is searched: stdout, stderr, every file under the work directory (logs, reports,
rendered configs, ansible-runner artefacts, the inventory copy that ``parc`` edits, the load cache, HOME), the
SQLite stores (file bytes, WAL and rows) and the backup git repository (every object and ``git log -p``).
Only files meant for a device (Wi-Fi AP configs and iPad profiles, mode 0600) may hold a clear secret.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.boucle_sshd import boucle_sshd, manque_prerequis
from tests.fiabilite.canaris import (
    RACINE,
    TerritoireCanari,
    fuites,
    territoire_canari,
    textes_git,
    textes_sqlite,
)

pytest.importorskip("fake_switches")

BIN = Path(sys.executable).parent
ARDOISE = str(BIN / "ardoise")
V = "-vvv"
JJ, TILLEULS, PINS, LAC, LOTI, BOURG = "0331101T", "0331102U", "0333301J", "0333302K", "0332201N", "0332202P"
ECOLES = (JJ, TILLEULS, PINS, LAC, LOTI, BOURG)
GLPI = ("glpi_user_token", "glpi_app_token", "glpi_jeton_refuse")


def port_ferme() -> int:
    """A loopback TCP port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Sortie:
    commande: str
    code: int
    stdout: str
    stderr: str


@dataclass
class Campagne:
    t: TerritoireCanari
    travail: Path
    sorties: list[Sortie] = field(default_factory=list)
    pour_appareils: list[Path] = field(default_factory=list)  # files that must carry a clear secret
    verrou: threading.Lock = field(default_factory=threading.Lock)

    def env(self, **plus: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARDOISE_", "ANSIBLE_"))}
        env.update({
            "HOME": str(self.travail / "home"), "ARDOISE_INVENTAIRE": str(self.t.inventaire),
            "ARDOISE_COFFRE_MDP": str(self.t.mot_de_passe), "ARDOISE_CACHE": str(self.travail / "cache"),
            "ARDOISE_BASE": f"sqlite:///{self.travail / 'resultats.sqlite'}",
            "ARDOISE_RESEAU_SAUVEGARDES": str(self.travail / "sauvegardes"),
            "ARDOISE_RESEAU_ETAT": str(self.travail / "en-attente"),
            "ARDOISE_KNOWN_HOSTS": str(self.travail / "known_hosts"), "COLUMNS": "200",
        })  # fmt: skip
        env.update(plus)
        return env

    def lancer(
        self, *args: str, programme: str = ARDOISE, env: dict | None = None, delai: float = 300
    ) -> Sortie:
        r = subprocess.run([programme, *args], capture_output=True, text=True, cwd=self.travail,
                           env=env or self.env(), timeout=delai)  # fmt: skip
        s = Sortie(" ".join([Path(programme).name, *args]), r.returncode, r.stdout, r.stderr)
        with self.verrou:
            self.sorties.append(s)
        assert "Traceback" not in r.stderr and "erreur interne" not in r.stderr, (
            s.commande,
            r.stderr[-3000:],
        )
        return s

    def pilote(self, etapes: list[dict], env: dict | None = None, delai: float = 600) -> list[Sortie]:
        """Run ``ardoise`` commands in one fresh process (tests/fiabilite/pilote_cli.py): outputs per command."""
        fichier = self.travail / f"etapes-{threading.get_ident()}-{len(self.sorties)}.json"
        fichier.write_text(json.dumps(etapes), encoding="utf-8")
        env = {**(env or self.env()), "PYTHONPATH": str(RACINE)}
        r = subprocess.run([sys.executable, "-m", "tests.fiabilite.pilote_cli", str(fichier)], capture_output=True,
                           text=True, cwd=self.travail, env=env, timeout=delai)  # fmt: skip
        fichier.unlink()
        assert r.returncode == 0, r.stderr[-3000:]
        sorties = [Sortie(**d) for d in json.loads(r.stdout)]
        with self.verrou:
            self.sorties += sorties
            self.sorties.append(Sortie("pilote_cli", r.returncode, "", r.stderr))
        for s in sorties:
            assert "Traceback" not in s.stderr and "erreur interne" not in s.stderr, (
                s.commande,
                s.stderr[-3000:],
            )
        return sorties

    def sortie(self, debut: str) -> Sortie:
        return next(s for s in self.sorties if s.commande.startswith(debut))


def E(*args: str, **env: str) -> dict:  # noqa: N802 (a step of the driver)
    return {"args": [*args, V], "env": env}


# ------------------------------------------------------------------ the territory ------------------


def _ajouter_glpi(t: TerritoireCanari, url_ok: str, url_morte: str) -> None:
    """GLPI for the territory (the stand-in), a wrong token for saint-aubin, an unreachable one for castelnau."""
    f = t.inventaire / "territoire.yml"
    texte = f.read_text(encoding="utf-8")
    ancien = "    # glpi:\n    #   url: https://glpi.coteaux.example/apirest.php\n"
    assert ancien in texte
    texte = texte.replace(ancien, f"    glpi:\n      url: {url_ok}\n      user_token: {{coffre: glpi_user_token}}\n"
                                  "      app_token: {coffre: glpi_app_token}\n    # glpi:\n")  # fmt: skip
    texte = texte.replace(
        '    insee: "33445"\n    administration: syndicat\n',
        '    insee: "33445"\n    administration: syndicat\n    politique:\n      parc:\n        glpi:\n'
        f"          url: {url_ok}\n          user_token: {{coffre: glpi_jeton_refuse}}\n",
    )
    texte = texte.replace(
        "    administration: syndicat\n    politique:\n      fenetres_maintenance:",
        f"    administration: syndicat\n    politique:\n      parc:\n        glpi:\n          url: {url_morte}\n"
        "      fenetres_maintenance:",
    )
    f.write_text(texte, encoding="utf-8")


# ------------------------------------------------------------------ the groups of commands ----------


def _inventaire(c: Campagne) -> None:
    i = str(c.t.inventaire)
    c.pilote([E("inventaire", "valider", i), E("inventaire", "valider", i, "--format", "json"),
              E("inventaire", "lister", "--format", "json", "--provenance"), E("inventaire", "lister", "--format", "csv"),
              E("inventaire", "lister", "--format", "table"), E("inventaire", "exporter", "--vers", "json"),
              E("inventaire", "exporter", "--vers", "csv"), E("inventaire", "exporter", "--vers", "ansible"),
              E("profils", "lister"), E("profils", "resoudre", "pc-jean-jaures-03")])  # fmt: skip
    env = c.env(
        ANSIBLE_CONFIG=str(RACINE / "ansible.cfg"), ANSIBLE_VAULT_PASSWORD_FILE=str(c.t.mot_de_passe),
        ANSIBLE_INVENTORY_PLUGINS=str(RACINE / "plugins" / "inventory"),
    )  # fmt: skip
    plugin = str(c.t.inventaire / "ardoise.yml")
    s = c.lancer("-i", plugin, "--list", "-vvv", programme=str(BIN / "ansible-inventory"), env=env)
    assert s.code == 0, s.stderr[-2000:]


def _reseau(c: Campagne) -> None:
    from ardoise.inventaire.chargeur import charger
    from ardoise.inventaire.selection import Selection
    from ardoise.reseau.rendu import cibles
    from tests.integration.reseau import emulateurs

    t = charger(c.t.inventaire)
    par_nom = {x.nom: x.commutateur for x in cibles(t, Selection())}
    dossier = c.travail / "emulateurs"
    dossier.mkdir()
    configs, acces = [], {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emulateurs, "MDP_COFFRE", c.t.mot_de_passe)
        for nom, derive in (("sw-jean-jaures-1", True), ("sw-jean-jaures-2", True), ("sw-les-tilleuls-1", True),
                            ("sw-le-lac-1", False), ("sw-pierre-loti-1", False), ("sw-le-bourg-1", False)):  # fmt: skip
            config, e = emulateurs.config_emulateur(t, par_nom[nom], dossier, derive=derive)
            if nom in ("sw-pierre-loti-1", "sw-le-bourg-1"):  # saint-aubin: the switches refuse the login
                config["mot_de_passe"] = "pas-le-mot-de-passe-du-coffre"
            configs.append(config)
            acces[nom] = {"adresse": e.adresse, "port": e.port}
    acces["sw-les-pins-1"] = {"adresse": "127.0.0.1", "port": port_ferme()}  # unreachable
    assert set(acces) == set(par_nom)  # never a manifest address: nothing leaves the machine
    fichier_acces = c.travail / "acces.json"
    fichier_acces.write_text(json.dumps(acces))
    faux = c.travail / "mauvais.mdp"
    faux.write_text("pas-le-bon-mot-de-passe\n")
    processus = emulateurs.Processus(configs, dossier)
    try:
        env = c.env(
            ARDOISE_RESEAU_ACCES=str(fichier_acces), ARDOISE_BASE=f"sqlite:///{c.travail / 'reseau.sqlite'}"
        )
        c.pilote([
            E("reseau", "generer"), E("reseau", "generer", "--sortie", str(c.travail / "rendu")),
            E("reseau", "sauvegarder", "--format", "json"), E("reseau", "diff"),
            E("reseau", "conformite", "--format", "json"), E("reseau", "appliquer", "--essai", "--format", "json"),
            E("reseau", "appliquer", "--format", "json"),  # complete perimeter: emulators refuse SNMP/NTP/user lines
            {"controle": str(dossier / "sw-jean-jaures-2.ctl"), "lignes": ["couper_apres 2"]},  # dropped mid-push
            E("reseau", "appliquer", "--perimetre", "commutation", "--format", "json", "--ecole", JJ),
            E("reseau", "appliquer", "--perimetre", "commutation", "--confirmer-dans", "1h", "--format", "json"),
            E("reseau", "confirmer"), E("reseau", "historique", "--equipement", "sw-jean-jaures-1"),
            E("reseau", "restaurer", "--equipement", "sw-jean-jaures-1", "--perimetre", "commutation"),
            E("reseau", "diff", "--ecole", JJ, ARDOISE_COFFRE_MDP=str(faux)),
        ], env=env)  # fmt: skip
    finally:
        processus.arreter()


def _wifi_tablettes(c: Campagne) -> None:
    from tests.aide_tablettes import faux_apk
    from tests.doublures.adb_serveur import ServeurAdbDoublure, Tablette

    sortie, tab, apk = c.travail / "wifi", c.travail / "tablettes", c.travail / "apk"
    for paquet in (
        "net.gcompris.full",
        "org.scratchjr.android",
        "org.videolan.vlc",
    ):  # profile tablette-android
        faux_apk(apk / f"{paquet}.apk", paquet)
    etapes = [E("wifi", "generer", "--ecole", uai, "--sortie", str(sortie)) for uai in ECOLES]
    etapes += [E("wifi", "horaires", "--ecole", JJ),
               E("wifi", "couper", "--ecole", JJ, "--ssid", "INVITES-JEAN-JAURES", "--sortie", str(sortie)),
               E("wifi", "retablir", "--ecole", JJ, "--ssid", "INVITES-JEAN-JAURES", "--sortie", str(sortie))]  # fmt: skip
    for uai in (JJ, PINS, LOTI):
        etapes += [E("tablettes", "qr", "--ecole", uai, "--format", "html", "--sortie", str(tab)),
                   E("tablettes", "ipad", "profil", "--ecole", uai, "--sortie", str(tab))]  # fmt: skip
    tablette = Tablette("R9TW110001", refuser_installation={"org.scratchjr.android"})
    with ServeurAdbDoublure([Tablette("R9TW110000"), tablette]) as serveur:
        etapes += [E("tablettes", "adb", "preparer", "--adb-port", str(serveur.port), "--apk", str(apk), "--format",
                     "json"), E("tablettes", "adb", "preparer", "--adb-port", str(port_ferme()), "--apk", str(apk))]  # fmt: skip
        c.pilote(etapes)
    c.pour_appareils += [p for p in sortie.rglob("*") if p.is_file() and p.stat().st_mode & 0o777 == 0o600]
    c.pour_appareils += list(tab.rglob("*.mobileconfig"))


def _atelier(c: Campagne) -> None:
    variables = c.travail / "atelier-variables.yml"
    variables.write_text(
        f"ansible_host: 127.0.0.1\nansible_port: {port_ferme()}\n"
    )  # unreachable, on loopback
    (s, *_) = c.pilote([
        E("atelier", "preparer", "--postes", "pc-jean-jaures-03,pc-jean-jaures-05", "--variables", str(variables),
          "--format", "json"),
        E("atelier", "etat"), E("atelier", "fiche", "--ecole", JJ, "--format", "html", "--sortie",
                                str(c.travail / "fiche.html")),
    ])  # fmt: skip
    assert s.code == 1, s.stdout + s.stderr[-2000:]


MAINTENANCE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from ardoise.cli.commun import configurer_journal
    from ardoise.inventaire.chargeur import charger
    from ardoise.inventaire.selection import Selection
    from ardoise.maintenance.catalogue import choisir
    from ardoise.maintenance.execution import lancer
    from ardoise.maintenance.moteur import ParametresSsh
    from ardoise.resultats.magasin import Magasin
    inventaire, base, cle, known_hosts, *adresses = sys.argv[1:]
    configurer_journal(3)
    def vers_boucle(cibles):
        for c, a in zip(cibles, adresses, strict=False):
            c.adresse, c.port, c.utilisateur = a, 2222, "root"
        return cibles
    bilan = lancer(charger(Path(inventaire)), Selection(noms=("pc-jean-jaures-07", "pc-jean-jaures-08")),
                   choisir(None), Magasin(base), ParametresSsh(cle=Path(cle), known_hosts=Path(known_hosts)),
                   parallele=2, transformer=vers_boucle)
    print(bilan)
""")


def _maintenance(c: Campagne) -> None:
    base = f"sqlite:///{c.travail / 'maintenance.sqlite'}"
    with boucle_sshd(2, prefixe="127.0.96") as b:
        b.arreter(b.adresses[1])  # the second PC is down
        c.lancer("-c", MAINTENANCE, str(c.t.inventaire), base, str(b.cle), str(b.known_hosts), *b.adresses,
                 programme=sys.executable, env=c.env(ARDOISE_BASE=base))  # fmt: skip
    c.pilote([E("maintenance", "rapport", "--ecole", JJ, "--format", fmt) for fmt in ("html", "json", "csv")]
             + [E("maintenance", "check-nagios", "--ecole", JJ)], env=c.env(ARDOISE_BASE=base))  # fmt: skip


def _parc(c: Campagne, glpi) -> None:
    c.pilote([
        E("parc", "garanties"), E("parc", "renouvellement", "--commune", "bellerive", "--format", "html"),
        E("parc", "remplacer", "pc-les-pins-03", "--par", "pc-les-pins-09", "--essai"),
        E("parc", "preter", "pc-jean-jaures-09", "--a", "Mme Martin (CM1)", "--jusqu-au", "30/06/2030"),
        E("parc", "retour", "pc-jean-jaures-09"),
        E("parc", "incident", "ouvrir", "pc-jean-jaures-07", "--symptome", "écran noir"),  # GLPI accepts
        E("parc", "incident", "ouvrir", "pc-pierre-loti-01", "--symptome", "clavier"),  # wrong token
        E("parc", "incident", "ouvrir", "pc-les-pins-01", "--symptome", "bruit"),  # GLPI unreachable
        E("parc", "incident", "lister", "--tous"), E("parc", "historique", "pc-jean-jaures-07"),
    ])  # fmt: skip
    assert glpi.tickets, "the GLPI stand-in received no ticket: the canary tokens were not used"


def _manifeste_invalide(c: Campagne) -> None:
    """A broken school file, then a broken vault: refused in French, no canary anywhere."""
    casse = c.travail / "casse"
    shutil.copytree(c.t.inventaire, casse / "inventaire")
    shutil.copytree(c.t.racine / "profils_terminaux", casse / "profils_terminaux")
    ecole = casse / "inventaire/communes/bellerive/ecoles/0331101t-jean-jaures.yml"
    ecole.write_text(
        ecole.read_text().replace("coffre: wifi_0331101t_classe", "coffre: [wifi_0331101t_classe")
    )
    env = c.env(ARDOISE_INVENTAIRE=str(casse / "inventaire"))
    coffre = casse / "inventaire/coffre.yml"
    intact = coffre.read_text()
    refus = c.pilote([E("inventaire", "lister"), E("reseau", "generer"), E("wifi", "generer", "--ecole", JJ),
                      E("tablettes", "qr", "--ecole", JJ, "--format", "html", "--sortie", str(casse / "tab"))], env=env)  # fmt: skip
    assert all(s.code == 1 for s in refus), [(s.commande, s.code) for s in refus]
    shutil.copy(c.t.inventaire / "communes/bellerive/ecoles/0331101t-jean-jaures.yml", ecole)
    coffre.write_text(intact.replace("$ANSIBLE_VAULT;1.1;AES256", "$ANSIBLE_VAULT;1.1;AES256\n  zz", 3))
    refus = c.pilote([E("wifi", "generer", "--ecole", JJ, "--sortie", str(casse / "wifi")), E("reseau", "generer"),
                      E("tablettes", "ipad", "profil", "--ecole", JJ, "--sortie", str(casse / "tab"))], env=env)  # fmt: skip
    assert all(s.code != 0 for s in refus), [(s.commande, s.code) for s in refus]


# ------------------------------------------------------------------ the campaign --------------------


@pytest.fixture(scope="module")
def campagne(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campagne]:
    if manque_prerequis():
        pytest.skip(manque_prerequis())
    from tests.doublures.glpi import GlpiDoublure

    travail = tmp_path_factory.mktemp("secrets")
    (travail / "home").mkdir()
    t = territoire_canari(travail / "territoire", GLPI)
    with GlpiDoublure(t.canaris["glpi_user_token"], t.canaris["glpi_app_token"]) as glpi:
        _ajouter_glpi(t, glpi.url, f"http://127.0.0.1:{port_ferme()}/apirest.php")
        c = Campagne(t, travail)
        from ardoise.inventaire.chargeur import valider

        assert valider(t.inventaire)[1] == []  # the canary territory is valid (GLPI included)
        with ThreadPoolExecutor(max_workers=4) as pool:
            taches = [pool.submit(f, c) for f in (_reseau, _atelier, _inventaire, _wifi_tablettes, _maintenance,
                                                  _manifeste_invalide)]  # fmt: skip
            taches.append(pool.submit(_parc, c, glpi))
            for tache in taches:
                tache.result()
        yield c


def _tout_ce_qui_a_ete_produit(c: Campagne) -> list[tuple[str, str]]:
    textes = [(f"stdout de « {s.commande} »", s.stdout) for s in c.sorties]
    textes += [(f"stderr de « {s.commande} »", s.stderr) for s in c.sorties]
    appareils = set(c.pour_appareils)
    for p in sorted(c.travail.rglob("*")):
        if p.is_symlink() or not p.is_file() or p in appareils:
            continue
        if p.parent.name == "emulateurs" or p.name == "coffre.yml":
            continue  # the test rig's emulator configs; the (encrypted) vault itself
        if p.suffix in (".sqlite", ".sqlite-wal", ".sqlite-shm"):
            if p.suffix == ".sqlite":
                textes += textes_sqlite(p)
            continue
        textes.append((str(p.relative_to(c.travail)), p.read_bytes().decode("latin-1")))
    for depot in (c.travail / "sauvegardes",):
        textes += textes_git(depot)
    return textes


def test_aucun_canari_dans_ce_que_produisent_les_commandes(campagne: Campagne) -> None:
    c = campagne
    textes = _tout_ce_qui_a_ete_produit(c)
    assert len(textes) > 150  # outputs of ~80 commands, their files, the stores, the git objects
    print(f"\n{len(c.sorties)} sorties de commandes, {len(textes)} textes fouillés, "
          f"{sum(len(t) for _, t in textes) / 1e6:.1f} Mo, {len(c.t.canaris)} canaris")  # fmt: skip
    trouve = [(ou, sorted(fuites(texte, c.t.canaris))) for ou, texte in textes if fuites(texte, c.t.canaris)]
    assert trouve == [], "\n".join(f"{ou} : {noms}" for ou, noms in trouve)


def test_les_pannes_ont_bien_eu_lieu_et_les_secrets_ont_servi(campagne: Campagne) -> None:
    """The 0-hit result means something: each failure happened and every canary reached its device."""
    c = campagne
    appliquer = json.loads(c.sortie("ardoise reseau appliquer --format json").stdout)
    par_nom = {r["equipement"]: r for r in appliquer}
    assert par_nom["sw-les-pins-1"]["statut"] == "injoignable"
    assert "identifiants refusés" in par_nom["sw-pierre-loti-1"]["detail"], par_nom["sw-pierre-loti-1"]
    assert par_nom["sw-jean-jaures-1"]["statut"] == "echec"  # the emulator refused a line it does not know
    coupe = json.loads(
        c.sortie(f"ardoise reseau appliquer --perimetre commutation --format json --ecole {JJ}").stdout
    )
    assert {r["equipement"]: r["statut"] for r in coupe}["sw-jean-jaures-2"] == "echec"
    faux = c.sortie(f"ardoise reseau diff --ecole {JJ}")
    assert faux.code == 1 and "mot de passe du coffre incorrect" in faux.stderr, faux.stderr
    atelier = json.loads(c.sortie("ardoise atelier preparer").stdout)
    assert {a["etat"] for a in atelier} == {"echec"}
    assert all("injoignable" in a["raison"] for a in atelier), atelier
    incidents = c.sortie("ardoise parc incident ouvrir pc-pierre-loti-01")
    assert "GLPI" in incidents.stdout + incidents.stderr
    # the Wi-Fi and iPad files are the only places a clear secret belongs: every PSK reached one, 0600
    psk = {n for n in c.t.canaris if n.startswith("wifi_")}
    dans_les_fichiers = set().union(*(fuites(p.read_bytes(), c.t.canaris) for p in c.pour_appareils))
    assert psk <= dans_les_fichiers
    assert all(p.stat().st_mode & 0o077 == 0 for p in c.pour_appareils)
    # masked forms are what users see: the rendered configs hold a mask where each secret goes
    rendus = [p.read_text() for p in (c.travail / "rendu").rglob("*.cfg")]
    assert len(rendus) == 7 and all("********" in r for r in rendus)
