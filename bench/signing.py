"""The user's signing key: Ed25519, made once per user and kept in the state directory (0600), used to sign what the
bench vouches for (a run's seal, a bundle's manifest). The public part travels with what it signs; an auditor compares
its fingerprint with the one the vendor declared (``segur-bench verify --signer``). A signature proves which key
sealed the evidence and that nothing changed since, not who ran the bench: that is what the declared key is for."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bench.paths import state_dir
from simulators.common.private_files import create_private_once

ALGORITHM = "Ed25519"
KEY_ENV = "SEGUR_BENCH_SIGNING_KEY"  # path of a PEM key to use instead of the per-user one


def key_path() -> Path:
    return Path(os.environ[KEY_ENV]) if os.environ.get(KEY_ENV) else state_dir() / "signing-ed25519.pem"


def _load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        create_private_once(path, pem)  # two bench processes starting together keep one key
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} : la clé de signature doit être une clé Ed25519")
    return key


def fingerprint(public_raw: bytes) -> str:
    """``SHA256:`` + unpadded base64 of the SHA-256 of the raw public key (the form ``ssh-keygen -l`` prints)."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public_raw).digest()).decode().rstrip("=")


@dataclass(frozen=True)
class Signature:
    """A detached signature and the public key that checks it."""

    public_key: str  # base64 of the raw 32-byte Ed25519 key
    value: str  # base64 of the 64-byte signature

    @property
    def fingerprint(self) -> str:
        return fingerprint(base64.b64decode(self.public_key))

    def as_dict(self) -> dict[str, str]:
        return {
            "algorithm": ALGORITHM,
            "public_key": self.public_key,
            "fingerprint": self.fingerprint,
            "signature": self.value,
        }


def sign(data: bytes) -> Signature:
    key = _load_or_create(key_path())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Signature(base64.b64encode(public).decode(), base64.b64encode(key.sign(data)).decode())


def user_fingerprint() -> str:
    """The fingerprint of the current user's key (made if it does not exist yet)."""
    key = _load_or_create(key_path())
    return fingerprint(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def verify(data: bytes, record: object) -> tuple[str | None, str | None]:
    """(fingerprint of the signer, problem): a valid signature gives its signer and no problem; anything else (wrong
    algorithm, malformed key or value, a signature of other bytes) gives a problem in plain words."""
    if not isinstance(record, dict) or record.get("algorithm") != ALGORITHM:
        return None, f"signature absente ou d'un autre algorithme qu'{ALGORITHM}"
    try:
        raw = base64.b64decode(str(record["public_key"]), validate=True)
        value = base64.b64decode(str(record["signature"]), validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(value, data)
    except (KeyError, ValueError, InvalidSignature):
        return None, "signature invalide : les données signées ont changé, ou la signature n'est pas de cette clé"
    # The fingerprint shown to people must be the key's own, and nothing unsigned may ride along.
    if set(record) != {"algorithm", "public_key", "fingerprint", "signature"} or record["fingerprint"] != fingerprint(
        raw
    ):
        return None, "signature : champs inattendus ou empreinte qui n'est pas celle de la clé"
    return fingerprint(raw), None
