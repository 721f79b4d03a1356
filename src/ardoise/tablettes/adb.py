"""The workshop path over adb (USB) for Android tablets already past their setup wizard.

For each attached device: its serial must be in the manifest (otherwise it is refused and nothing is
installed), the APKs of its effective profile are installed from a local folder
(``<dossier>/<package>.apk``), Wi-Fi and proxy are set where the OS allows it, then the time zone and the
screen timeout; the result of each device is written to the results store (genre ``tablettes``).

What adb cannot do without a device owner (enforcing a lock code, blocking settings) is the DPC's job
(QR enrolment).
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adbutils import AdbClient, AdbDevice
from adbutils.errors import AdbError

from ardoise.inventaire.modele import Poste
from ardoise.inventaire.territoire import EcoleChargee, Territoire
from ardoise.inventaire.types import SecuriteWifi
from ardoise.profils.resolution import profil_effectif
from ardoise.resultats.forme import Niveau, ResultatHote, StatutHote, Verification
from ardoise.secrets import masquer
from ardoise.tablettes.appareils import proxy_explicite, tablettes_android
from ardoise.tablettes.erreurs import ErreurTablettes
from ardoise.tablettes.qr import FUSEAU_HORAIRE
from ardoise.tablettes.wifi import ReseauWifi, reseau_tablettes

log = logging.getLogger(__name__)

GENRE = "tablettes"
DOSSIER_DISTANT = "/data/local/tmp"
SDK_CMD_WIFI = 30  # `cmd wifi connect-network` exists from Android 11 (API 30)
SECURITE_CMD_WIFI = {
    SecuriteWifi.wpa2_psk: "wpa2",
    SecuriteWifi.wpa3_sae: "wpa3",
    SecuriteWifi.wpa2_wpa3: "wpa2",
    SecuriteWifi.ouvert: "open",
}


class ErreurEtape(Exception):
    """One step failed on one device (French reason, redacted before it is stored)."""

    def __init__(self, etape: str, raison: str) -> None:
        super().__init__(raison)
        self.etape, self.raison = etape, raison


@dataclass(frozen=True)
class Cible:
    ecole: EcoleChargee
    poste: Poste


@dataclass
class Rapport:
    execution_id: int | None
    resultats: list[ResultatHote] = field(default_factory=list)

    @property
    def echecs(self) -> int:
        return sum(1 for r in self.resultats if r.echoue)


def index_manifeste(territoire: Territoire, uai: str | None = None) -> dict[str, Cible]:
    """Serial number → the Android tablet of the manifest (one school, or the whole territory)."""
    ecoles = [territoire.ecole(uai)] if uai else territoire.ecoles
    return {p.numero_serie.upper(): Cible(e, p) for e in ecoles for p in tablettes_android(e)}


def client_adb(hote: str = "127.0.0.1", port: int = 5037) -> AdbClient:
    client = AdbClient(host=hote, port=port, socket_timeout=30)
    try:
        client.server_version()
    except (AdbError, OSError) as e:
        raise ErreurTablettes(
            f"serveur adb injoignable sur {hote}:{port} ({e}) : lancez « adb start-server » "
            "et branchez les tablettes (débogage USB autorisé)"
        ) from None
    return client


def _shell(appareil: AdbDevice, args: list[str], etape: str) -> str:
    """Run a command; its exit code must be 0 (the command line may hold a secret: never logged)."""
    try:
        r = appareil.shell2(shlex.join(args), timeout=120, rstrip=True)
    except (AdbError, OSError) as e:
        raise ErreurEtape(etape, f"liaison adb perdue ({e})") from None
    if r.returncode != 0:
        raise ErreurEtape(
            etape, f"« {args[0]} {args[1] if len(args) > 1 else ''} » a échoué : {r.output.strip()}"
        )
    return r.output


class Preparation:
    """One workshop run: a batch of attached tablets, recorded host by host."""

    def __init__(
        self,
        territoire: Territoire,
        client: AdbClient,
        dossier_apk: Path,
        magasin=None,
        uai: str | None = None,
        rapporter: Callable[[ResultatHote], None] | None = None,
    ) -> None:
        self.territoire, self.client, self.dossier_apk = territoire, client, dossier_apk
        self.magasin, self.uai, self.rapporter = magasin, uai, rapporter
        self.manifeste = index_manifeste(territoire, uai)
        self._reseaux: dict[str, ReseauWifi] = {}

    def lancer(self, series: list[str] | None = None, lot: str | None = None) -> Rapport:
        voulues = {s.upper() for s in series} if series else None
        try:
            branchees = [info.serial for info in self.client.list() if info.state == "device"]
        except (AdbError, OSError) as e:
            raise ErreurTablettes(f"liste des appareils adb illisible : {e}") from None
        execution = None
        if self.magasin is not None:
            execution = self.magasin.commencer(
                GENRE, {"action": "adb preparer", "series": sorted(voulues or []), "uai": self.uai}, lot=lot
            )
        rapport = Rapport(execution)
        for serie in branchees:
            if voulues is not None and serie.upper() not in voulues:
                continue
            self._noter(rapport, self._preparer(serie))
        for serie in sorted((voulues or set()) - {s.upper() for s in branchees}):
            cible = self.manifeste.get(serie)
            self._noter(
                rapport,
                ResultatHote(
                    cible.poste.nom if cible else serie,
                    StatutHote.injoignable,
                    etape="connexion",
                    raison="tablette non branchée (ou débogage USB non autorisé)",
                    details={"numero_serie": serie},
                ),
            )
        if self.magasin is not None and execution is not None:
            resume = {s.value: sum(1 for r in rapport.resultats if r.statut is s) for s in StatutHote}
            self.magasin.terminer(execution, "echec" if rapport.echecs else "termine", resume)
        return rapport

    def _noter(self, rapport: Rapport, r: ResultatHote) -> None:
        r.raison = masquer(r.raison) if r.raison else None
        rapport.resultats.append(r)
        cible = self.manifeste.get(str(r.details.get("numero_serie", "")).upper())
        if self.magasin is not None and rapport.execution_id is not None:
            uai = cible.ecole.uai if cible else None
            commune = cible.ecole.commune if cible else None
            self.magasin.enregistrer(rapport.execution_id, r, uai, commune)
            if cible is not None:
                self.magasin.definir_etat(
                    r.hote, "pret" if not r.echoue else "echec", rapport.execution_id, r.etape, r.raison
                )
        if self.rapporter:
            self.rapporter(r)

    def _reseau(self, ecole: EcoleChargee) -> ReseauWifi:
        if ecole.uai not in self._reseaux:
            self._reseaux[ecole.uai] = reseau_tablettes(self.territoire, ecole)
        return self._reseaux[ecole.uai]

    def _preparer(self, serie_adb: str) -> ResultatHote:
        debut = time.monotonic()
        appareil = self.client.device(serie_adb)
        try:
            serie = _shell(appareil, ["getprop", "ro.serialno"], "verification_serie").strip() or serie_adb
        except ErreurEtape as e:
            return ResultatHote(serie_adb, StatutHote.injoignable, etape=e.etape, raison=e.raison,
                                details={"numero_serie": serie_adb})  # fmt: skip
        cible = self.manifeste.get(serie.upper()) or self.manifeste.get(serie_adb.upper())
        if cible is None:
            portee = f"de l'école {self.uai}" if self.uai else "du territoire"
            log.warning("%s : numéro de série absent du manifeste %s, tablette refusée", serie, portee)
            return ResultatHote(
                serie,
                StatutHote.refuse,
                etape="verification_serie",
                raison=f"numéro de série absent du manifeste {portee} : rien n'a été installé",
                details={"numero_serie": serie},
            )
        r = ResultatHote(cible.poste.nom, StatutHote.ok, details={"numero_serie": cible.poste.numero_serie})
        try:
            self._etapes(appareil, cible, r)
        except ErreurEtape as e:
            r.statut, r.etape, r.raison = StatutHote.echec, e.etape, e.raison
        r.duree_s = round(time.monotonic() - debut, 3)
        log.info(
            "%s (%s) : %s%s",
            r.hote,
            serie,
            r.statut.value,
            f" à l'étape {r.etape} : {r.raison}" if r.etape else "",
        )
        return r

    def _etapes(self, appareil: AdbDevice, cible: Cible, r: ResultatHote) -> None:
        ecole, poste = cible.ecole, cible.poste
        pe = profil_effectif(self.territoire, ecole, poste)
        paquets = [a.installation for a in pe.applications if a.installation]
        r.details["profil"] = poste.profil
        # 1. every APK must be here before anything is installed
        manquants = [p for p in paquets if not (self.dossier_apk / f"{p}.apk").is_file()]
        if manquants:
            raise ErreurEtape(
                "apk",
                f"APK absent(s) de {self.dossier_apk} : "
                + ", ".join(f"{p}.apk" for p in manquants)
                + " ; rien n'a été installé",
            )
        sdk_texte = _shell(appareil, ["getprop", "ro.build.version.sdk"], "systeme").strip()
        sdk = int(sdk_texte) if sdk_texte.isdigit() else 0
        r.details["sdk"] = sdk
        # 2. apps
        installes = []
        for paquet in paquets:
            distant = f"{DOSSIER_DISTANT}/{paquet}.apk"
            try:
                appareil.sync.push(self.dossier_apk / f"{paquet}.apk", distant, mode=0o644)
            except (AdbError, OSError) as e:
                raise ErreurEtape("installation", f"copie de {paquet}.apk impossible : {e}") from None
            sortie = _shell(appareil, ["pm", "install", "-r", "-t", distant], "installation")
            if "Success" not in sortie:
                raise ErreurEtape("installation", f"{paquet} : {sortie.strip()}")
            _shell(appareil, ["rm", "-f", distant], "installation")
            installes.append(paquet)
        r.details["applications"] = installes
        r.change = bool(installes)
        # 3. network
        reseau = self._reseau(ecole)
        if sdk >= SDK_CMD_WIFI:
            commande = ["cmd", "wifi", "connect-network", reseau.ssid, SECURITE_CMD_WIFI[reseau.securite]]
            if reseau.securite is not SecuriteWifi.ouvert:
                commande.append(reseau.psk.reveler())
            if reseau.masque:
                commande.append("-h")
            _shell(appareil, commande, "wifi")
            r.details["wifi"] = reseau.ssid
        else:
            r.details["wifi"] = f"Android API {sdk} : réseau « {reseau.ssid} » à saisir à la main"
            r.verifications.append(
                Verification("wifi", "Wi-Fi", Niveau.ATTENTION,
                             f"Android {sdk} < API {SDK_CMD_WIFI} : rejoindre « {reseau.ssid} » à la main")
            )  # fmt: skip
        proxy = proxy_explicite(ecole.politique.proxy)
        if proxy is not None and proxy.hote:
            _shell(
                appareil, ["settings", "put", "global", "http_proxy", f"{proxy.hote}:{proxy.port}"], "proxy"
            )
            if proxy.exclusions:
                _shell(appareil, ["settings", "put", "global", "global_http_proxy_exclusion_list",
                                  ",".join(proxy.exclusions)], "proxy")  # fmt: skip
            r.details["proxy"] = f"{proxy.hote}:{proxy.port}"
        elif proxy is not None and proxy.pac:
            _shell(appareil, ["settings", "put", "global", "global_proxy_pac_url", str(proxy.pac)], "proxy")
            r.details["proxy"] = str(proxy.pac)
        # 4. settings
        _shell(appareil, ["settings", "put", "global", "auto_time_zone", "0"], "reglages")
        _shell(appareil, ["cmd", "alarm", "set-timezone", FUSEAU_HORAIRE], "reglages")
        minutes = pe.parametres.get("verrouillage_ecran_min", (None, ""))[0]
        if minutes:
            _shell(appareil, ["settings", "put", "system", "screen_off_timeout", str(int(minutes) * 60_000)],
                   "reglages")  # fmt: skip
            r.details["verrouillage_ecran_min"] = minutes
        # 5. checks, read back from the device
        presents = set(
            _shell(appareil, ["pm", "list", "packages"], "verification").replace("package:", "").split()
        )
        absents = [p for p in paquets if p not in presents]
        r.verifications.append(
            Verification(
                "applications", "Applications du profil", Niveau.CRITIQUE if absents else Niveau.OK,
                "absentes : " + ", ".join(absents) if absents else f"{len(paquets)} application(s) installée(s)",
            )
        )  # fmt: skip
        fuseau = _shell(appareil, ["getprop", "persist.sys.timezone"], "verification").strip()
        r.verifications.append(
            Verification("fuseau", "Fuseau horaire", Niveau.OK if fuseau == FUSEAU_HORAIRE else Niveau.ATTENTION,
                         fuseau or "inconnu", fuseau)
        )  # fmt: skip
        if proxy is not None and proxy.hote:
            lu = _shell(appareil, ["settings", "get", "global", "http_proxy"], "verification").strip()
            attendu = f"{proxy.hote}:{proxy.port}"
            r.verifications.append(
                Verification(
                    "proxy", "Proxy", Niveau.OK if lu == attendu else Niveau.CRITIQUE, lu or "absent", lu
                )
            )
        if absents:
            raise ErreurEtape(
                "verification", "applications absentes après installation : " + ", ".join(absents)
            )
