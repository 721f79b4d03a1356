"""The network audit against the lab school, from the lab's « poste technicien » (a namespace with a leg in
every VLAN, as a laptop on a trunk port): a clean lab gives no finding; injected faults are each found with
their severity; the report, the store and ``parc reprendre --depuis-audit`` see the same audit.

The audits run once per module (each costs an nmap sweep of the six subnets) and the tests read them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from ipaddress import IPv4Network
from pathlib import Path

import pytest

from ardoise.labo import pannes
from ardoise.labo.labo import Labo
from ardoise.labo.plan import PlanLabo
from ardoise.resultats.magasin import Magasin

pytestmark = pytest.mark.labo

RACINE = Path(__file__).resolve().parents[3]
ARDOISE = str(Path(sys.executable).parent / "ardoise")
PC_ARRETE, PC_DEPLACE, CATEGORIE = "pc-jean-jaures-04", "pc-jean-jaures-03", "gambling"
VLAN_ELEVES, PORT_NON_DECLARE = (
    10,
    "sw-jean-jaures-1 Gi1/0/11",
)  # the first free port number not in the manifest


def _ardoise(base: str, *args: str, ns: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ARDOISE_BASE": base, "ARDOISE_INVENTAIRE": str(RACINE / "inventaire")}
    prefixe = ["ip", "netns", "exec", ns] if ns else []
    return subprocess.run(
        [*prefixe, ARDOISE, *args], capture_output=True, text=True, env=env, timeout=300, cwd=RACINE
    )


def _audit(base: str, sortie: Path, ns: str, uai: str, partie: str = "complet") -> tuple[int, dict, str]:
    r = _ardoise(
        base, "audit", partie, "--ecole", uai, "--labo", "--sortie", str(sortie), "--format", "json", ns=ns
    )
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout), r.stderr


def _empreinte(dossier: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(dossier.rglob("*.yml")):
        h.update(f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def audits(
    labo: Labo, acces_labo: dict, plan_labo: PlanLabo, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """Every fault at once (audit + parc dry run), then faults removed and audit again: that second audit is the
    clean lab (and proves each fault's inverse restores it)."""
    dossier = tmp_path_factory.mktemp("audit")
    os.environ.setdefault("ARDOISE_KNOWN_HOSTS", str(dossier / "known_hosts"))
    base = f"sqlite:///{dossier / 'resultats.sqlite'}"
    ns, uai = acces_labo["technicien_ns"], plan_labo.uai
    r: dict = {"base": base, "dossier": dossier}
    try:
        r["intrus_ip"] = pannes.brancher_intrus(labo, plan_labo.postes[0].vlan, port_non_declare=True)
        assert (
            pannes.demarrer_dhcp_pirate(labo) == pannes.demarrer_dhcp_pirate(labo) == r["intrus_ip"]
        )  # idempotent
        pannes.eteindre_poste(labo, PC_ARRETE)
        r["deplace_ip"] = pannes.deplacer_poste(labo, PC_DEPLACE, 20)
        pannes.autoriser_categorie(labo, CATEGORIE)
        pannes.couper_ent(labo)
        r["pannes"] = _audit(base, dossier / "pannes", ns, uai)
        r["xml_pannes"] = (dossier / "pannes" / uai.lower() / "nmap.xml").read_text()
        avant = _empreinte(RACINE / "inventaire")
        r["reprise"] = _ardoise(base, "parc", "reprendre", "--depuis-audit", uai, "--essai")
        r["reprise_inchange"] = avant == _empreinte(RACINE / "inventaire")
    finally:
        pannes.retablir_ent(labo)
        pannes.rebloquer_categorie(labo, CATEGORIE)
        pannes.remettre_poste(labo, PC_DEPLACE)
        pannes.rallumer_poste(labo, PC_ARRETE)
        pannes.debrancher_intrus(labo)
    r["apres"] = _audit(base, dossier / "apres", ns, uai)
    # the same filtering tests from a declared pupil PC, over SSH (key of the lab, host key known)
    h = labo.hote(PC_DEPLACE)
    cle_hote = (h.racine / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()
    Path(os.environ["ARDOISE_KNOWN_HOSTS"]).write_text(f"{h.adresse} {cle_hote[0]} {cle_hote[1]}\n")
    r["depuis_poste"] = _ardoise(base, "audit", "filtrage", "--ecole", uai, "--labo", "--depuis", PC_DEPLACE,
                                 "--cle", acces_labo["cle_ssh"], "--sortie", str(dossier / "poste"), "--format", "json")  # fmt: skip
    return r


def test_clean_lab_gives_no_finding(audits: dict) -> None:
    code, rapport, stderr = audits["apres"]
    assert rapport["constats"] == [], stderr
    assert code == 0
    assert {h["hote"] for h in rapport["hotes"]} == {
        "pc-jean-jaures-03",
        "pc-jean-jaures-04",
        "pc-jean-jaures-05",
        "srv-jean-jaures",
        "sw-jean-jaures-1",
        "sw-jean-jaures-2",
    }
    assert all(e["conforme"] for e in rapport["filtrage"]["essais"]), rapport["filtrage"]
    assert {e["nom"] for e in rapport["filtrage"]["essais"]} >= {
        "catégorie gambling", "ENT accessible", "GAR accessible", "accès direct sans proxy (port 443)",
        "DNS chiffré (DoH) bloqué", "journal du proxy (conservation légale)"}  # fmt: skip
    assert rapport["debit"]["debit_mbps"] > 0 and rapport["debit"]["erreur"] is None
    offres = rapport["dhcp"]["offres"]  # the lab's dnsmasq answers on every VLAN with a DHCP range
    assert rapport["dhcp"]["vlans_testes"] == [10, 20, 30, 40] and {o["vlan"] for o in offres} == {
        10,
        20,
        30,
        40,
    }
    assert {o["serveur"] for o in offres} == {"10.11.10.1", "10.11.20.1", "10.11.30.1", "10.11.40.1"}
    pc = next(h for h in rapport["hotes"] if h["hote"] == "pc-jean-jaures-05")
    assert pc["port"] and pc["port"].startswith("sw-jean-jaures-1 ")  # the MAC-table stand-in, fed by the lab


def test_target_list_is_exactly_the_lab_subnets(audits: dict, plan_labo: PlanLabo) -> None:
    _, rapport, _ = audits["apres"]
    reseaux = [str(v.reseau) for v in plan_labo.vlans]
    assert rapport["resume"]["cibles"] == reseaux
    commande = rapport["nmap"]["commande"]
    assert commande[-len(reseaux) :] == reseaux and commande[0] == "nmap"
    from ardoise.audit.decouverte import lire_xml

    assert all(any(h.ip in IPv4Network(r) for r in reseaux) for h in lire_xml(audits["xml_pannes"]))


def test_each_fault_is_found_with_its_severity(audits: dict) -> None:
    code, rapport, stderr = audits["pannes"]
    trouves = {(c["code"], c["sujet"]): c["gravite"] for c in rapport["constats"]}
    assert trouves == {
        ("hote-inconnu", pannes.MAC_INTRUS): "haute",
        ("dhcp-pirate", f"{VLAN_ELEVES}:{audits['intrus_ip']}"): "critique",
        ("port-non-declare", PORT_NON_DECLARE): "moyenne",
        ("hote-absent", PC_ARRETE): "moyenne",
        ("mauvais-vlan", PC_DEPLACE): "haute",
        ("categorie-non-bloquee", CATEGORIE): "critique",
        ("ent-injoignable", "ent"): "haute",
        ("gar-injoignable", "gar"): "haute",
    }, stderr
    assert code == 1
    intrus = next(c for c in rapport["constats"] if c["code"] == "hote-inconnu")
    assert "Raspberry Pi Foundation" in intrus["preuve"] and audits["intrus_ip"] in intrus["preuve"]
    assert "table MAC de sw-jean-jaures-1" in intrus["preuve"]
    pirate = next(c for c in rapport["constats"] if c["code"] == "dhcp-pirate")
    assert f"routeur {audits['intrus_ip']}" in pirate["preuve"] and "débrancher" in pirate["quoi_faire"]
    port = next(c for c in rapport["constats"] if c["code"] == "port-non-declare")
    assert pannes.MAC_INTRUS in port["preuve"]
    deplace = next(h for h in rapport["hotes"] if h["hote"] == PC_DEPLACE)
    assert (deplace["ip"], deplace["vlan"]) == (audits["deplace_ip"], 20)
    assert all(c["nouveau"] for c in rapport["constats"]) and rapport["precedent"] is None  # first audit


def test_faults_removed_everything_resolved(audits: dict) -> None:
    _, rapport, _ = audits["apres"]
    assert {r["code"] for r in rapport["resolus"]} == {
        "dhcp-pirate",
        "port-non-declare",
        "hote-inconnu",
        "hote-absent",
        "mauvais-vlan",
        "categorie-non-bloquee",
        "ent-injoignable",
        "gar-injoignable",
    }
    assert rapport["precedent"]["id"] == audits["pannes"][1]["execution_id"]


def test_html_report_for_a_head_of_school(audits: dict) -> None:
    dossier = audits["dossier"]
    html_pannes = next((dossier / "pannes").glob("audit-*.html")).read_text()
    assert "problème(s) important(s) à traiter rapidement" in html_pannes
    assert "Un appareil inconnu du manifeste est branché sur le réseau pédagogique (élèves)." in html_pannes
    assert (
        "Que faire" in html_pannes and "Critique" in html_pannes and "Premier audit enregistré" in html_pannes
    )
    assert pannes.MAC_INTRUS in html_pannes and 'id="dhcp"' in html_pannes  # technical detail below
    assert html_pannes.index('id="synthese"') < html_pannes.index('id="constats"')
    html_apres = next((dossier / "apres").glob("audit-*.html")).read_text()
    assert "Aucun problème trouvé" in html_apres and "8 résolu(s)" in html_apres
    assert "http://" not in html_apres.split("<body>")[0]  # no external asset


def test_the_store_holds_each_audit(audits: dict) -> None:
    m = Magasin(audits["base"])
    executions = [e for e in m.executions(genre="audit")]
    assert [e.statut for e in executions] == ["termine"] * 3 and {e.lot for e in executions} == {"0331101T"}
    lignes = {r.hote: r for r in m.resultats(audits["pannes"][1]["execution_id"])}
    intrus = lignes[audits["intrus_ip"]]
    assert {"mac", "nom", "modele", "os", "ip", "vlan", "port", "fournisseur"} <= set(intrus.details)
    assert intrus.details["mac"] == pannes.MAC_INTRUS and intrus.details["declare"] is False
    with m.session() as s:
        filtrage = s.merge(lignes["filtrage"])
        niveaux = {v.nom: v.niveau for v in filtrage.verifications}
        assert niveaux["categorie-non-bloquee"] == "CRITIQUE"
        assert niveaux[f"essai:catégorie {CATEGORIE}"] == "CRITIQUE"
        assert all("horodatage" in e for e in filtrage.details["essais"])
    assert lignes[PC_ARRETE].statut == "injoignable"


def test_parc_takeover_dry_run_from_the_audit(audits: dict) -> None:
    r = audits["reprise"]
    assert r.returncode == 0, r.stderr
    assert audits["reprise_inchange"]  # --essai writes nothing
    yaml = r.stdout
    assert pannes.MAC_INTRUS in yaml and "etat: en_service" in yaml and "à vérifier" in yaml
    assert audits["intrus_ip"] in yaml  # where the audit saw it, kept in the notes
    assert PC_DEPLACE not in yaml and "srv-jean-jaures" not in yaml  # declared devices are not taken over
    assert "1 entrée(s) seraient ajoutées" in r.stderr


def test_filtering_from_a_pupil_pc_over_ssh(audits: dict) -> None:
    r = audits["depuis_poste"]
    assert r.returncode == 0, r.stderr
    rapport = json.loads(r.stdout)
    assert rapport["filtrage"]["source"].startswith(f"{PC_DEPLACE} (10.11.10.")  # the report says from where
    essais = {e["nom"]: e for e in rapport["filtrage"]["essais"]}
    assert essais[f"catégorie {CATEGORIE}"]["obtenu"] == "refusé"
    assert essais["ENT accessible"]["obtenu"] == "accessible"
    assert essais["accès direct sans proxy (port 443)"]["obtenu"] == "refusé"
    assert all(e["conforme"] for e in essais.values()) and rapport["constats"] == []
    lignes = {x.hote: x for x in Magasin(audits["base"]).resultats(rapport["execution_id"])}
    assert lignes["filtrage"].details["source"] == rapport["filtrage"]["source"]  # stored like a VLAN run


def _copie_du_manifeste(tmp_path: Path, acces_labo: dict, plan_labo: PlanLabo, proxy: str) -> Path:
    """A copy of the example inventory whose lab school has ``proxy`` instead of its explicit proxy block."""
    inventaire = tmp_path / "inventaire"
    shutil.copytree(RACINE / "inventaire", inventaire)
    (tmp_path / "profils_terminaux").symlink_to(
        RACINE / "profils_terminaux"
    )  # « profils: ../profils_terminaux »
    fichier = next(inventaire.glob("communes/*/ecoles/0331101t-*.yml"))
    explicite = f"    mode: local\n    adresse: {acces_labo['serveur']}\n    port: {plan_labo.proxy_port}\n"
    texte = fichier.read_text()
    assert explicite in texte
    fichier.write_text(texte.replace(explicite, proxy))
    return inventaire


def _filtrage_sur_copie(
    tmp_path: Path, base: str, cas: str, inventaire: Path, acces_labo: dict, plan_labo: PlanLabo
) -> dict:
    """``audit filtrage`` of the lab school from the pupil VLAN, on a manifest copy; its JSON report."""
    r = _ardoise(f"sqlite:///{tmp_path / (base + '.sqlite')}", "audit", "filtrage", "--ecole", plan_labo.uai,
                 "--labo", "--inventaire", str(inventaire), "--sortie", str(tmp_path / cas), "--format", "json",
                 ns=acces_labo["technicien_ns"])  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_pac_policy_through_the_lab_proxy(
    audits: dict, labo: Labo, acces_labo: dict, plan_labo: PlanLabo, tmp_path: Path
) -> None:
    """The lab school under a PAC policy (a copy of the manifest): the PAC file, published by the lab's school
    server, is fetched from the pupil VLAN and evaluated; the tests go through the real proxy it names."""
    from ardoise.labo.depuis_manifeste import categories_disponibles

    url_pac = f"{acces_labo['signatures_clamav']}ardoise-audit.pac"  # the school server's static files
    inventaire = _copie_du_manifeste(tmp_path, acces_labo, plan_labo, f"    mode: pac\n    pac: {url_pac}\n")
    pac = labo.dossier / "clamav" / "ardoise-audit.pac"
    domaine = categories_disponibles()[CATEGORIE]
    rapports = {}
    try:
        for cas, exception in (("propre", ""), ("trou", f'if (host == "{domaine}") return "DIRECT";')):
            pac.write_text(f"function FindProxyForURL(url, host) {{ {exception} "
                           f'return "PROXY {acces_labo["serveur"]}:{plan_labo.proxy_port}; DIRECT"; }}')  # fmt: skip
            rapports[cas] = _filtrage_sur_copie(tmp_path, "pac", cas, inventaire, acces_labo, plan_labo)
    finally:
        pac.unlink(missing_ok=True)
    essais = {e["nom"]: e for e in rapports["propre"]["filtrage"]["essais"]}
    assert rapports["propre"]["constats"] == [] and all(e["conforme"] for e in essais.values())
    assert essais["fichier PAC"]["obtenu"] == "lu" and essais["ENT accessible"]["obtenu"] == "accessible"
    assert essais[f"catégorie {CATEGORIE}"]["obtenu"] == "refusé"
    trou = {(c["code"], c["sujet"]): c["gravite"] for c in rapports["trou"]["constats"]}
    assert trou == {
        ("pac-sans-proxy", CATEGORIE): "critique"
    }  # the firewall still refuses the direct request


def test_dns_filtering_policy_with_the_lab_dns(
    audits: dict, labo: Labo, acces_labo: dict, plan_labo: PlanLabo, ecole_labo, tmp_path: Path
) -> None:
    """The lab school filtered by DNS (a copy of the manifest, « mode: dns »): pupils reach the web directly
    (the lab server lets them through to its web sites), the lab's dnsmasq answers 0.0.0.0 for the blocked
    categories' domains. Clean → no finding; one category the DNS lets resolve → exactly that finding."""
    from ardoise.labo.depuis_manifeste import categories_disponibles

    dispo = categories_disponibles()
    bloquees = [dispo[c] for c in ecole_labo.politique.filtrage.categories_bloquees if c in dispo]
    assert dispo[CATEGORIE] in bloquees
    inventaire = _copie_du_manifeste(tmp_path, acces_labo, plan_labo, "    mode: dns\n")
    rapports = {}
    try:
        pannes.ouvrir_web_direct(labo)
        for cas, domaines in (("propre", bloquees), ("trou", [d for d in bloquees if d != dispo[CATEGORIE]])):
            pannes.filtrer_par_dns(labo, domaines)
            rapports[cas] = _filtrage_sur_copie(tmp_path, "dns", cas, inventaire, acces_labo, plan_labo)
    finally:
        pannes.arreter_filtrage_dns(labo)
        pannes.fermer_web_direct(labo)
    essais = {e["nom"]: e for e in rapports["propre"]["filtrage"]["essais"]}
    assert rapports["propre"]["constats"] == [], rapports["propre"]["constats"]
    assert (
        essais[f"catégorie {CATEGORIE}"]["obtenu"] == "bloqué"
        and essais["ENT accessible"]["obtenu"] == "accessible"
    )
    trou = {(c["code"], c["sujet"]): c["gravite"] for c in rapports["trou"]["constats"]}
    assert trou == {("categorie-non-bloquee", CATEGORIE): "critique"}, rapports["trou"]["constats"]
    essai = next(e for e in rapports["trou"]["filtrage"]["essais"] if e["nom"] == f"catégorie {CATEGORIE}")
    assert essai["obtenu"] == "résolu" and not essai["conforme"]
