"""CMS (PKCS#7) signature of configuration profiles, and a self-signed certificate for demos/tests."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ardoise.tablettes.erreurs import ErreurConfigurationTablettes

VARIABLE_MDP_CLE = "ARDOISE_SIGNATURE_MDP"


@dataclass(frozen=True)
class Signataire:
    certificat: x509.Certificate
    cle: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chaine: tuple[x509.Certificate, ...] = ()

    @property
    def sujet(self) -> str:
        return self.certificat.subject.rfc4514_string()


def charger_signataire(certificat: Path, cle: Path | None = None) -> Signataire:
    """The signer from a PEM certificate file (signer first, then its chain) and a PEM key.

    The key is read from ``cle``, or from the certificate file itself; an encrypted key takes its
    password from ``$ARDOISE_SIGNATURE_MDP``.
    """
    try:
        texte_cert = certificat.read_bytes()
        texte_cle = cle.read_bytes() if cle else texte_cert
    except OSError as e:
        raise ErreurConfigurationTablettes(
            f"certificat de signature illisible : {e.filename} ({e.strerror})"
        ) from None
    try:
        certificats = x509.load_pem_x509_certificates(texte_cert)
    except ValueError:
        raise ErreurConfigurationTablettes(
            f"{certificat} : aucun certificat PEM (-----BEGIN CERTIFICATE-----) lisible"
        ) from None
    mdp = os.environ.get(VARIABLE_MDP_CLE)
    try:
        cle_privee = serialization.load_pem_private_key(texte_cle, password=mdp.encode() if mdp else None)
    except TypeError:
        raise ErreurConfigurationTablettes(
            f"la clé privée est chiffrée : donnez son mot de passe dans {VARIABLE_MDP_CLE}"
        ) from None
    except ValueError:
        raise ErreurConfigurationTablettes(
            f"clé privée PEM illisible dans {cle or certificat} (ou mot de passe {VARIABLE_MDP_CLE} incorrect) ;"
            " indiquez-la avec --cle"
        ) from None
    if not isinstance(cle_privee, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ErreurConfigurationTablettes("seules les clés RSA et ECDSA signent des profils iPad")
    if cle_privee.public_key().public_numbers() != certificats[0].public_key().public_numbers():
        raise ErreurConfigurationTablettes("la clé privée ne correspond pas au certificat de signature")
    return Signataire(certificats[0], cle_privee, tuple(certificats[1:]))


def signer(donnees: bytes, signataire: Signataire) -> bytes:
    """A CMS SignedData (DER) embedding ``donnees``, as iOS expects for a signed .mobileconfig."""
    constructeur = pkcs7.PKCS7SignatureBuilder().set_data(donnees)
    constructeur = constructeur.add_signer(signataire.certificat, signataire.cle, hashes.SHA256())
    for c in signataire.chaine:
        constructeur = constructeur.add_certificate(c)
    return constructeur.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])


def certificat_autosigne(
    dossier: Path, nom: str = "Ardoise DEMONSTRATION signature profils"
) -> tuple[Path, Path]:
    """A self-signed signing certificate and its key (PEM, key 0600) — for demos and tests only."""
    cle = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sujet = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, nom),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ardoise (demonstration, jamais en production)"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        ]
    )
    maintenant = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(sujet)
        .issuer_name(sujet)
        .public_key(cle.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(maintenant - dt.timedelta(minutes=5))
        .not_valid_after(maintenant + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(cle, hashes.SHA256())
    )
    dossier.mkdir(parents=True, exist_ok=True)
    chemin_cert, chemin_cle = dossier / "signature-demo.crt", dossier / "signature-demo.key"
    chemin_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    descripteur = os.open(chemin_cle, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descripteur, "wb") as f:
        f.write(
            cle.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return chemin_cert, chemin_cle
