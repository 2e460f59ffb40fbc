"""The bench's own test PKI: one CA, a server certificate for the simulators, a client certificate for candidates.

Real national services sit behind the IGC-Santé; the bench cannot issue those, so it issues look-alikes from its
own CA. Keys and certificates are made once, kept in a state directory and reused, so a vendor configures the
trust once. RSA 2048 with SHA-256 is what health-sector software stacks accept everywhere.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "segur-bench Test CA"
SERVER_HOSTS = ("localhost", "127.0.0.1", "::1")
VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class Credential:
    """A certificate and its private key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class BenchPki:
    """Paths of the bench PKI's files.

    >>> pki = ensure_pki(Path("/tmp/state"))  # doctest: +SKIP
    >>> pki.server_context()  # an ssl.SSLContext that requires client certificates  # doctest: +SKIP
    """

    directory: Path
    ca: Credential
    server: Credential
    client: Credential
    untrusted_server: Credential

    def server_context(self, require_client_cert: bool = True) -> ssl.SSLContext:
        """TLS context for a simulator: bench server certificate, TLS 1.2 minimum, mutual TLS by default."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server.cert, self.server.key)
        context.load_verify_locations(self.ca.cert)
        context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
        return context

    def server_only_context(self) -> ssl.SSLContext:
        """TLS authenticating the server only (INSi's CPS-assertion mode: the professional signs an assertion)."""
        context = self.server_context()
        context.verify_mode = ssl.CERT_NONE
        return context

    def untrusted_server_context(self) -> ssl.SSLContext:
        """TLS context of a server whose certificate no candidate should trust (issued by a rogue CA)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.untrusted_server.cert, self.untrusted_server.key)
        context.load_verify_locations(self.ca.cert)
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    def client_context(self) -> ssl.SSLContext:
        """TLS context for a candidate: trusts only the bench CA and presents the bench client certificate."""
        context = ssl.create_default_context(cafile=str(self.ca.cert))
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.client.cert, self.client.key)
        return context


def load_certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def issue_cps_card(pki: BenchPki, national_id: str, *, days: int = 365) -> tuple[bytes, bytes]:
    """A test CPS card for ``national_id``: a signing certificate issued by the bench CA (playing the IGC-Santé), its
    commonName the national id as on a real card, and its private key, both PEM. ``days`` < 0 gives an expired one."""
    ca_key = serialization.load_pem_private_key(pki.ca.key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    ca_cert = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    start, end = (
        (now - dt.timedelta(hours=1), now + dt.timedelta(days=days))
        if days > 0
        else (
            now + dt.timedelta(days=days * 2),
            now + dt.timedelta(days=days),
        )
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                    x509.NameAttribute(NameOID.TITLE, "Médecin"),
                    x509.NameAttribute(NameOID.COMMON_NAME, national_id),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def ensure_pki(directory: Path) -> BenchPki:
    """Create the PKI under ``directory`` unless it is already there, and return its paths."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = BenchPki(
        directory=directory,
        ca=_credential(directory, "ca"),
        server=_credential(directory, "server"),
        client=_credential(directory, "client"),
        untrusted_server=_credential(directory, "untrusted-server"),
    )
    if all(
        path.exists()
        for cred in (pki.ca, pki.server, pki.client, pki.untrusted_server)
        for path in (cred.cert, cred.key)
    ):
        return pki
    ca_key = _new_key()
    ca_cert = _ca_certificate(ca_key, CA_NAME)
    _write(pki.ca, ca_cert, ca_key)
    server_key = _new_key()
    _write(pki.server, _leaf(server_key, "segur-bench simulators", ca_cert, ca_key, server=True), server_key)
    client_key = _new_key()
    _write(pki.client, _leaf(client_key, "segur-bench candidate", ca_cert, ca_key, server=False), client_key)
    # A server certificate from a CA nobody trusts, for scenarios where the candidate must refuse the server.
    rogue_key = _new_key()
    rogue_ca = _ca_certificate(rogue_key, "segur-bench Rogue CA")
    untrusted_key = _new_key()
    untrusted = _leaf(untrusted_key, "segur-bench untrusted simulator", rogue_ca, rogue_key, server=True)
    _write(pki.untrusted_server, untrusted, untrusted_key)
    return pki


def export_client_bundle(pki: BenchPki, destination: Path, password: bytes | None = None) -> list[Path]:
    """Write what a vendor's software needs to talk to the simulators: the CA, and the client credential
    as PEM files and as a PKCS#12 file (Java and .NET stacks prefer the latter)."""
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for name, source in (
        ("segur-bench-ca.pem", pki.ca.cert),
        ("client-cert.pem", pki.client.cert),
        ("client-key.pem", pki.client.key),
    ):
        target = destination / name
        if source == pki.client.key:
            _write_private(target, source.read_bytes())
        else:
            target.write_bytes(source.read_bytes())
        written.append(target)
    key = serialization.load_pem_private_key(pki.client.key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(pki.client.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(pki.ca.cert.read_bytes())
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    p12 = pkcs12.serialize_key_and_certificates(b"segur-bench candidate", key, cert, [ca], encryption)
    target = destination / "client.p12"
    _write_private(target, p12)  # holds the private key, whatever its password
    written.append(target)
    return written


def _write_private(path: Path, data: bytes) -> None:
    """Write a file that holds a private key, readable by its owner only (0600) from its first byte."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _credential(directory: Path, name: str) -> Credential:
    return Credential(cert=directory / f"{name}-cert.pem", key=directory / f"{name}-key.pem")


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "segur-bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_certificate(key: rsa.RSAPrivateKey, common_name: str) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = _name(common_name)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + VALIDITY * 2)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf(
    key: rsa.RSAPrivateKey, common_name: str, ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, *, server: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=not server,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if server:
        names: list[x509.GeneralName] = []
        for host in SERVER_HOSTS:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _write(credential: Credential, cert: x509.Certificate, key: rsa.RSAPrivateKey) -> None:
    credential.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    credential.key.chmod(0o600)
    credential.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
