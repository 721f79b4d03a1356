"""STAND-IN (test double) for an adb server with Android tablets attached — NOT a real adb server.

It speaks just enough of the adb host protocol for ``adbutils`` (``host:version``, ``host:devices``,
``host:tport:serial:``/``host:transport:``, ``host-serial:<s>:features|get-state|get-serialno``,
``shell:`` and ``sync:`` STAT/SEND/RECV), listens on 127.0.0.1 only, and simulates each tablet with a
tiny in-memory model: properties, installed packages, ``settings``, files pushed to /data/local/tmp,
Wi-Fi networks and time zone. Every shell command a tablet receives is kept in ``Tablette.commandes``
so tests can check what was (or was not) done.

Run alone (for manual tries): ``python -m tests.doublures.adb_serveur --port 5099 SERIE[:SDK] …``
"""

from __future__ import annotations

import argparse
import shlex
import socketserver
import stat
import struct
import threading
from dataclasses import dataclass, field

EXIT = "; echo X4EXIT:$?"


@dataclass
class Tablette:
    """One simulated Android device."""

    serie: str
    sdk: int = 34
    modele: str = "SM-X210"
    etat: str = "device"
    paquets: set[str] = field(default_factory=lambda: {"com.android.settings", "com.android.chrome"})
    reglages: dict[tuple[str, str], str] = field(default_factory=dict)
    fichiers: dict[str, bytes] = field(default_factory=dict)
    reseaux_wifi: list[dict] = field(default_factory=list)
    proprietes: dict[str, str] = field(default_factory=dict)
    commandes: list[str] = field(default_factory=list)
    installations: list[str] = field(default_factory=list)
    refuser_installation: set[str] = field(default_factory=set)  # packages whose install fails

    def __post_init__(self) -> None:
        self.proprietes = {
            "ro.serialno": self.serie,
            "ro.build.version.sdk": str(self.sdk),
            "ro.product.model": self.modele,
            "persist.sys.timezone": "GMT",
            **self.proprietes,
        }

    # -- shell -----------------------------------------------------------------------------------
    def executer(self, ligne: str) -> tuple[str, int]:
        self.commandes.append(ligne)
        try:
            args = shlex.split(ligne)
        except ValueError:
            return "syntax error\n", 2
        if not args:
            return "", 0
        nom = args[0]
        if nom == "getprop":
            return (self.proprietes.get(args[1], "") + "\n") if len(args) > 1 else "", 0
        if nom == "pm" and args[1:2] == ["install"]:
            chemin = args[-1]
            donnees = self.fichiers.get(chemin)
            if donnees is None:
                return f"Failure [INSTALL_FAILED_INVALID_URI: {chemin}]\n", 1
            paquet = chemin.rsplit("/", 1)[-1].removesuffix(".apk")  # the real pm reads the manifest
            if not donnees.startswith(b"PK") or paquet in self.refuser_installation:
                return "Failure [INSTALL_PARSE_FAILED_NOT_APK]\n", 1
            self.paquets.add(paquet)
            self.installations.append(paquet)
            return "Performing Streamed Install\nSuccess\n", 0
        if nom == "pm" and args[1:3] == ["list", "packages"]:
            return "".join(f"package:{p}\n" for p in sorted(self.paquets)), 0
        if nom == "rm":
            for chemin in (a for a in args[1:] if not a.startswith("-")):
                self.fichiers.pop(chemin, None)
            return "", 0
        if nom == "settings" and len(args) >= 4:
            action, espace, cle = args[1], args[2], args[3]
            if action == "put" and len(args) >= 5:
                self.reglages[(espace, cle)] = args[4]
                return "", 0
            if action == "get":
                return self.reglages.get((espace, cle), "null") + "\n", 0
            if action == "delete":
                self.reglages.pop((espace, cle), None)
                return "Deleted 1 rows\n", 0
        if nom == "cmd" and args[1:3] == ["wifi", "connect-network"] and self.sdk >= 30:
            reste = [a for a in args[3:] if a != "-h"]
            ssid, securite = reste[0], reste[1]
            self.reseaux_wifi.append(
                {"ssid": ssid, "securite": securite, "psk": reste[2] if len(reste) > 2 else None,
                 "masque": "-h" in args}
            )  # fmt: skip
            return "Connection initiated\n", 0
        if nom == "cmd" and args[1:3] == ["alarm", "set-timezone"]:
            self.proprietes["persist.sys.timezone"] = args[3]
            return "", 0
        return f"/system/bin/sh: {nom}: inaccessible or not found\n", 127

    def shell(self, commande: str) -> bytes:
        if commande.endswith(EXIT):  # adbutils' shell2 over shell v1: exit code after a marker
            sortie, code = self.executer(commande[: -len(EXIT)])
            return (sortie + f"X4EXIT:{code}\n").encode()
        return self.executer(commande)[0].encode()


class ServeurAdbDoublure(socketserver.ThreadingTCPServer):
    """The stand-in server; ``with ServeurAdbDoublure([...]) as s: s.port``."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tablettes: list[Tablette], port: int = 0) -> None:
        self.tablettes = {t.serie: t for t in tablettes}
        self.verrou = threading.Lock()
        self.connexions: list[str] = []  # every host command received
        super().__init__(("127.0.0.1", port), _Gestionnaire)
        self._fil: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> ServeurAdbDoublure:
        self._fil = threading.Thread(target=self.serve_forever, name="adb-doublure", daemon=True)
        self._fil.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


def _bloc(texte: str) -> bytes:
    donnees = texte.encode()
    return f"{len(donnees):04x}".encode() + donnees


class _Gestionnaire(socketserver.BaseRequestHandler):
    server: ServeurAdbDoublure

    def _lire(self, n: int) -> bytes:
        tampon = b""
        while len(tampon) < n:
            morceau = self.request.recv(n - len(tampon))
            if not morceau:
                raise ConnectionError("fermée")
            tampon += morceau
        return tampon

    def _commande(self) -> str:
        return self._lire(int(self._lire(4), 16)).decode()

    def _echec(self, message: str) -> None:
        self.request.sendall(b"FAIL" + _bloc(message))

    def handle(self) -> None:
        try:
            self._servir()
        except (ConnectionError, OSError):
            pass

    def _servir(self) -> None:
        commande = self._commande()
        with self.server.verrou:
            self.server.connexions.append(commande)
        tablettes = self.server.tablettes
        if commande == "host:version":
            self.request.sendall(b"OKAY" + _bloc("0029"))
            return
        if commande in ("host:devices", "host:devices-l"):
            self.request.sendall(
                b"OKAY" + _bloc("".join(f"{t.serie}\t{t.etat}\n" for t in tablettes.values()))
            )
            return
        if commande.startswith("host-serial:"):
            _, serie, quoi = commande.split(":", 2)
            t = tablettes.get(serie)
            if t is None:
                self._echec(f"device '{serie}' not found")
                return
            reponses = {
                "features": "cmd,stat_v2,fixed_push_mkdir",
                "get-state": t.etat,
                "get-serialno": t.serie,
            }
            if quoi not in reponses:
                self._echec(f"unsupported: {quoi}")
                return
            self.request.sendall(b"OKAY" + _bloc(reponses[quoi]))
            return
        serie = None
        if commande.startswith("host:tport:serial:"):
            serie = commande.removeprefix("host:tport:serial:")
        elif commande.startswith("host:transport:"):
            serie = commande.removeprefix("host:transport:")
        if serie is None:
            self._echec(f"unknown host service: {commande}")
            return
        t = tablettes.get(serie)
        if t is None or t.etat != "device":
            self._echec(f"device '{serie}' not found")
            return
        self.request.sendall(b"OKAY" + (struct.pack("<Q", 1) if commande.startswith("host:tport") else b""))
        service = self._commande()
        if service.startswith("shell:"):
            self.request.sendall(b"OKAY")
            with self.server.verrou:
                sortie = t.shell(service.removeprefix("shell:"))
            self.request.sendall(sortie)
        elif service == "sync:":
            self.request.sendall(b"OKAY")
            self._sync(t)
        else:
            self._echec(f"unsupported service: {service}")

    def _sync(self, t: Tablette) -> None:
        while True:
            try:
                entete = self._lire(8)
            except ConnectionError:
                return
            ident, longueur = entete[:4], struct.unpack("<I", entete[4:])[0]
            if ident == b"QUIT":
                return
            chemin = self._lire(longueur).decode()
            if ident == b"STAT":
                with self.server.verrou:
                    if chemin.rstrip("/") in ("/data/local/tmp", "/sdcard"):
                        valeurs = (stat.S_IFDIR | 0o771, 4096, 1_700_000_000)
                    elif chemin in t.fichiers:
                        valeurs = (stat.S_IFREG | 0o644, len(t.fichiers[chemin]), 1_700_000_000)
                    else:
                        valeurs = (0, 0, 0)
                self.request.sendall(b"STAT" + struct.pack("<III", *valeurs))
            elif ident == b"SEND":
                destination = chemin.rsplit(",", 1)[0]
                contenu = b""
                while True:
                    bloc = self._lire(8)
                    if bloc[:4] == b"DATA":
                        contenu += self._lire(struct.unpack("<I", bloc[4:])[0])
                    elif bloc[:4] == b"DONE":
                        break
                    else:
                        raise ConnectionError("trame sync inattendue")
                with self.server.verrou:
                    t.fichiers[destination] = contenu
                self.request.sendall(b"OKAY" + struct.pack("<I", 0))
            elif ident == b"RECV":
                donnees = t.fichiers.get(chemin)
                if donnees is None:
                    message = b"No such file or directory"
                    self.request.sendall(b"FAIL" + struct.pack("<I", len(message)) + message)
                else:
                    self.request.sendall(b"DATA" + struct.pack("<I", len(donnees)) + donnees)
                    self.request.sendall(b"DONE" + struct.pack("<I", 0))
            else:
                return


def main() -> None:  # pragma: no cover - manual use
    parser = argparse.ArgumentParser(description="Doublure de serveur adb (tests uniquement).")
    parser.add_argument("--port", type=int, default=5099)
    parser.add_argument("tablettes", nargs="+", help="SERIE ou SERIE:SDK")
    a = parser.parse_args()
    tablettes = [Tablette(s.split(":")[0], int(s.split(":")[1]) if ":" in s else 34) for s in a.tablettes]
    with ServeurAdbDoublure(tablettes, a.port) as s:
        print(f"doublure adb sur 127.0.0.1:{s.port} (Ctrl-C pour arrêter)")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
