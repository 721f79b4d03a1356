"""Each check's ``traiter``: outputs in, status out (cases as data), plus the batch script round trip."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ardoise.inventaire.chargeur import charger
from ardoise.inventaire.types import ModeProxy
from ardoise.maintenance import script as batch
from ardoise.maintenance.catalogue import Sortie, catalogue, choisir
from ardoise.maintenance.cibles import AppAttendue, Contexte
from ardoise.resultats.forme import Niveau

RACINE = Path(__file__).resolve().parents[3]
OK, ATT, CRIT, INC = Niveau.OK, Niveau.ATTENTION, Niveau.CRITIQUE, Niveau.INCONNU
T0 = 1_800_000_000.0  # controller clock when the command was sent


@pytest.fixture(scope="module")
def politique():
    return (
        charger(RACINE / "inventaire").ecoles[0].politique
    )  # proxy 10.11.50.10:8080, thresholds 15/5 %, 5 s…


def ctx(politique, **kw) -> Contexte:
    base = {"nom": "pc-01", "type": "pc", "os": "debian", "politique": politique,
            "domaine_bloque": ("gambling", "casino.test-ardoise.fr")}  # fmt: skip
    base.update(kw)
    return Contexte(**base)


DF = "Filesystem Type 1024-blocks Used Available Capacity Mounted on\n"
ENV_OK = 'http_proxy="http://10.11.50.10:8080/"\nhttps_proxy="http://10.11.50.10:8080/"\n'
E2_REFUS = (
    "@essai\nHTTP/1.1 200 OK\nContent-Type: text/html\n\n<title>E2Guardian - Access Denied</title>\n@code 0\n"
)


def PULL(succes: bool, jours: float = 0.1) -> str:  # noqa: N802 - builds an ardoise-pull result file
    fin = (dt.datetime.now(dt.UTC) - dt.timedelta(days=jours)).isoformat(timespec="seconds")
    echecs = (
        [] if succes else [{"tache": "Régler le fuseau", "role": "ardoise_socle", "message": "disque plein"}]
    )
    return json.dumps(
        {
            "poste": "pc-01",
            "fin": fin,
            "duree_s": 42.0,
            "succes": succes,
            "changements": 3,
            "revision": "0123456789abcdef",
            "echecs": echecs,
        }
    )


PASSE = "@essai\nHTTP/1.1 200 OK\nContent-Type: text/html\n\n<h1>Casino</h1>\n@code 0\n"

CAS = [
    # (check, output, exit code, extra context, expected level, words expected in the message)
    ("disque", DF + "/dev/sda1 ext4 100000 50000 50000 50% /\n", 0, {}, OK, "50 %"),
    ("disque", DF + "/dev/sda1 ext4 100000 90000 10000 90% /\n", 0, {}, ATT, "presque plein"),
    ("disque", DF + "overlay overlay 100000 97000 3000 97% /\ntmpfs tmpfs 100 100 0 100% /run\n", 0, {}, CRIT, "/ presque"),
    ("disque", DF + "/dev/sda1 ext4 100000 10 99990 1% /\n/dev/sdb1 ext4 1000 990 10 99% /home\n", 0, {}, CRIT, "/home"),
    ("disque", "", 0, {}, INC, "aucun"),
    ("mises_a_jour", "", 0, {}, OK, "aucune mise à jour de sécurité"),
    ("mises_a_jour", "Inst libc6 [2.36-9] (2.36-9+deb12u9 Debian-Security:12/stable-security [amd64])\n"
                     "Inst vim [2:9.0] (2:9.0.1 Debian:12.9/stable [amd64])\n", 0, {}, ATT, "1 mise(s) à jour de sécurité"),
    ("mises_a_jour", "@absent\n", 0, {}, INC, "apt-get absent"),
    ("redemarrage", "non\n", 0, {}, OK, "aucun"),
    ("redemarrage", "oui\nlinux-image-amd64\n", 0, {}, ATT, "linux-image-amd64"),
    ("antivirus", f"etat active\nmaintenant {T0:.0f}\nsignature {T0 - 3600:.0f} daily.cld\nsignature {T0 - 90 * 86400:.0f} main.cvd\n", 0, {}, OK, "ClamAV actif"),
    ("antivirus", f"etat inactive\nmaintenant {T0:.0f}\nsignature {T0 - 3600:.0f} daily.cld\n", 0, {}, CRIT, "arrêté"),
    ("antivirus", f"etat inactive\nmaintenant {T0:.0f}\n", 0, {}, CRIT, "n'est pas installé"),
    ("antivirus", f"etat active\nmaintenant {T0:.0f}\nsignature {T0 - 4 * 86400:.0f} daily.cld\n", 0, {}, ATT, "anciennes"),
    ("antivirus", f"etat active\nmaintenant {T0:.0f}\nsignature {T0 - 10 * 86400:.0f} daily.cld\n", 0, {}, CRIT, "périmées"),
    ("antivirus", f"etat active\nmaintenant {T0:.0f}\n", 0, {}, CRIT, "sans base"),
    ("proxy", ENV_OK + E2_REFUS, 0, {}, OK, "bien refusé"),
    ("proxy", "export http_proxy=http://10.11.50.10:8080\n" + E2_REFUS, 0, {}, OK, "conforme"),
    ("proxy", "" + E2_REFUS, 0, {}, CRIT, "aucun proxy configuré"),
    ("proxy", 'http_proxy="http://autre:3128/"\n' + E2_REFUS, 0, {}, CRIT, "le manifeste demande"),
    ("proxy", ENV_OK + PASSE, 0, {}, CRIT, "filtrage inopérant"),
    # a test site that loads, whose own title says « à bloquer »: not a filter's block page
    ("proxy", ENV_OK + "@essai\nHTTP/1.1 200 OK\n\n<title>Site à bloquer de test</title>\n@code 0\n", 0, {},
     CRIT, "filtrage inopérant"),
    ("proxy", ENV_OK + "@essai\nbash: connect: Connection refused\n@code 1\n", 0, {}, CRIT, "injoignable"),
    ("proxy", ENV_OK + "@essai\n@code 124\n", 0, {}, CRIT, "délai dépassé"),
    ("proxy", ENV_OK + "@essai\nHTTP/1.1 403 Forbidden\n\n@code 0\n", 0, {}, OK, "bien refusé"),
    ("proxy", ENV_OK, 0, {"domaine_bloque": None}, OK, "pas de domaine de test"),
    ("horloge", f"{T0 + 0.01:.3f}\nyes\n", 0, {}, OK, "synchronisée"),
    ("horloge", f"{T0 + 60:.3f}\nno\n", 0, {}, CRIT, "+59"),
    ("horloge", f"{T0 + 8:.3f}\n?\n", 0, {}, ATT, "maximum 5 s"),
    ("horloge", f"{T0 - 7:.3f}\nyes\n", 0, {}, ATT, "-7.0 s"),
    ("unites", "", 0, {}, OK, "aucun service"),
    ("unites", "clamav-daemon.service loaded failed failed Clam AntiVirus\n", 0, {}, ATT, "clamav-daemon.service"),
    ("unites", "", 1, {}, INC, "systemctl indisponible"),
    ("smart", "@absent\n", 0, {}, INC, "smartmontools"),
    ("smart", "", 0, {}, INC, "aucun disque"),
    ("smart", "@disque /dev/sda\nSMART overall-health self-assessment test result: PASSED\n", 0, {}, OK, "/dev/sda"),
    ("smart", "@disque /dev/nvme0\nSMART overall-health self-assessment test result: FAILED!\n", 0, {}, CRIT, "remplacer"),
    ("smart", "@disque /dev/sda\n", 0, {}, INC, "illisible"),
    ("batterie", "BAT0 40000000 50000000\n", 0, {"portable": True}, OK, "80 %"),
    ("batterie", "BAT0 20000000 50000000\n", 0, {"portable": True}, ATT, "usée"),
    ("batterie", "", 0, {"portable": True}, INC, "n'expose pas"),
    ("applications", "@deb\nii  firefox-esr\n", 0, {"applications": (AppAttendue("firefox-esr", "Firefox ESR", "firefox-esr"),)}, OK, "installées"),
    ("applications", "@deb\nun  vlc\n@flatpak\n", 0, {"applications": (AppAttendue("vlc", "VLC", "vlc"), AppAttendue("scratch", "Scratch", "edu.mit.Scratch", True))}, ATT, "VLC, Scratch"),
    ("applications", "@deb\n@flatpak\nedu.mit.Scratch\n", 0, {"applications": (AppAttendue("scratch", "Scratch", "edu.mit.Scratch", True),)}, OK, "1 applications"),
    ("applications", "", 0, {}, OK, "aucune application"),
    ("nom_hote", "pc-01\n", 0, {}, OK, "conforme"),
    ("nom_hote", "PC-01.ecole.example\n", 0, {}, OK, "conforme"),
    ("nom_hote", "debian\n", 0, {}, ATT, "« debian »"),
    ("disponibilite", "86400.5 100.0\n", 0, {}, OK, "1.0 jour"),
    ("disponibilite", f"{40 * 86400} 1\n", 0, {}, ATT, "40 jours"),
    ("disponibilite", "pas un nombre\n", 0, {}, INC, "sortie illisible"),
    ("dernier_passage", "", 0, {}, INC, "aucun passage"),
    ("dernier_passage", "", 0, {"derniere_reussite": dt.datetime.now(dt.UTC) - dt.timedelta(days=2)}, OK, "dernier passage"),
    ("dernier_passage", "", 0, {"derniere_reussite": dt.datetime.now(dt.UTC) - dt.timedelta(days=60)}, ATT, "60 jours"),
    ("joignabilite", "ok 12.4", 0, {}, OK, "12 ms"),
    ("joignabilite", "ok 900", 0, {}, ATT, "900 ms"),
    ("joignabilite", "echec aucune réponse en 10 s", 0, {}, CRIT, "ne répond pas"),
    ("pull", "@absent\n", 0, {}, ATT, "jamais tourné"),
    ("pull", PULL(True), 0, {}, OK, "3 changement(s), révision 0123456789"),
    ("pull", PULL(True, jours=20), 0, {}, ATT, "plus à jour"),
    ("pull", PULL(False), 0, {}, CRIT, "ardoise_socle : Régler le fuseau — disque plein"),
    ("pull", "{pas du json", 0, {}, INC, "illisible"),
]  # fmt: skip


@pytest.mark.parametrize(
    "nom,texte,code,extra,niveau,mots", CAS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CAS)]
)
def test_traiter(politique, nom, texte, code, extra, niveau, mots):
    c = catalogue()[nom]
    v = c.evaluer(Sortie(texte, code, T0, T0 + 0.05), ctx(politique, **extra))
    assert v.niveau is niveau, v.message
    assert mots in v.message
    assert v.nom == nom and v.libelle == c.libelle


def test_chaque_verification_a_des_cas():
    couverts = {c[0] for c in CAS}
    assert set(catalogue()) == couverts


def test_section_absente_est_inconnue_jamais_une_exception(politique):
    for c in catalogue().values():
        if c.script is not None:
            v = c.evaluer(Sortie("", None), ctx(politique))
            assert v.niveau is INC and "interrompue" in v.message
        v = c.evaluer(Sortie("\x00 ordure \n@@@", 0, T0, T0), ctx(politique, portable=True))
        assert isinstance(v.niveau, Niveau)


def test_proxy_selon_le_mode(politique):
    p_dns = politique.model_copy(update={"proxy": politique.proxy.model_copy(update={"mode": ModeProxy.dns})})
    c = catalogue()["proxy"]
    assert c.evaluer(Sortie("", 0), ctx(p_dns)).niveau is OK


def test_script_une_commande_et_sections(politique):
    controles = choisir(None)
    texte = batch.construire(controles, ctx(politique, portable=True))
    assert texte.index("debut:horloge") < texte.index("debut:disque")  # the clock is read first
    sortie = "".join(
        f"{batch.MARQUE}:debut:{n}\nligne {n}\n{batch.MARQUE}:fin:{n}:{i}\n"
        for i, n in enumerate(["disque", "proxy"])
    )
    sortie += f"{batch.MARQUE}:debut:unites\ncoupé au milieu"
    sections = batch.decouper(sortie)
    assert sections == {"disque": ("ligne disque\n", 0), "proxy": ("ligne proxy\n", 1)}


def test_choisir_refuse_un_nom_inconnu():
    from ardoise.erreurs import ErreurUsage

    with pytest.raises(ErreurUsage, match="disponibles"):
        choisir(["disque", "dique"])
    assert [c.nom for c in choisir(["proxy", "disque"])] == ["proxy", "disque"]
