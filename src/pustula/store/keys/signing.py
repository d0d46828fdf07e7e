"""Ed25519 signatures for bundles and backups: an installation signs what it writes with
its private key; an importer accepts only what a public key it trusts has signed.

A shared secret (HMAC) cannot tell the writer from anyone else who holds the key, and a
secret that travels beside the backup protects nothing: whoever alters the backup re-signs
it with the copy. With Ed25519 only the private key signs, and it never leaves the
installation; the public key can be handed to anyone who must import.

Where the private key comes from, first match wins:

1. ``PUSTULA_SIGNING_KEY_FILE``: a PEM file (PKCS #8), e.g. written by
   ``pustula keys new -o FILE``;
2. for a SQLite database file, ``<database>.signing-key`` beside it, created (readable by
   its owner only) the first time it is needed;
3. for an in-memory SQLite database, a new key for the life of the process.

PostgreSQL needs 1: a server's keys belong with its secrets. Public keys an installation
trusts besides its own: ``PUSTULA_TRUSTED_KEYS`` (a PEM file that may hold several keys,
or a folder of ``*.pem`` files), and keys given to an import (``--trust-key``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import URL

from pustula.errors import AuditError, ConfigurationError
from pustula.store.keys.audit_key import create_owner_only, file_beside

__all__ = [
    "SigningKey",
    "Verdict",
    "key_id",
    "new_private_pem",
    "read_private_key",
    "read_public_keys",
    "resolve_signing_key",
    "trusted_keys",
    "verify_signed",
]

ALGORITHM = "Ed25519"


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _canonical(document: Mapping[str, Any]) -> bytes:
    body = {k: v for k, v in document.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, repr=False)
class SigningKey:
    private: Ed25519PrivateKey
    source: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``document`` with a ``signature`` over everything else in it."""
        value = base64.b64encode(self.private.sign(_canonical(document))).decode("ascii")
        signature = {"algorithm": ALGORITHM, "key_id": self.key_id, "value": value}
        return {**document, "signature": signature}

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r}, source={self.source!r})"


@dataclass(frozen=True)
class Verdict:
    """Whether a document's signature was verified, and by which trusted key, or why not."""

    verified: bool
    key_id: str | None
    reason: str


def verify_signed(document: Mapping[str, Any], trusted: Iterable[Ed25519PublicKey]) -> Verdict:
    """Check ``document``'s signature against the trusted keys.

    A missing signature, or one by a key not trusted here, gives an unverified verdict
    (the caller refuses it unless told otherwise). A signature by a trusted key that does
    not verify means the document changed after signing: that raises
    :class:`~pustula.errors.AuditError`, since no option should let it in.
    """
    signature = document.get("signature")
    if not isinstance(signature, Mapping):
        return Verdict(False, None, "it is not signed")
    if signature.get("algorithm") != ALGORITHM:
        return Verdict(False, None, f"its signature is not {ALGORITHM}")
    wanted = str(signature.get("key_id", ""))
    keys = {key_id(k): k for k in trusted}
    if wanted not in keys:
        return Verdict(False, wanted, f"it is signed by key {wanted}, which is not trusted here")
    try:
        value = base64.b64decode(str(signature.get("value", "")))
        keys[wanted].verify(value, _canonical(document))
    except (InvalidSignature, ValueError):
        raise AuditError(
            f"its signature by trusted key {wanted} does not verify: something in it changed "
            "after it was signed"
        ) from None
    return Verdict(True, wanted, f"signed by trusted key {wanted}")


def new_private_pem() -> bytes:
    """A new private key as PEM (PKCS #8, unencrypted: protect the file, not the text)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_private(pem: bytes, source: str) -> SigningKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{source} does not hold a PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{source} holds a private key that is not Ed25519")
    return SigningKey(key, source)


def read_private_key(path: Path) -> SigningKey:
    """The private signing key in a PEM file."""
    return _load_private(path.read_bytes(), str(path))


def key_file_for(url: URL) -> Path | None:
    """``<database>.signing-key`` for a SQLite database file; None for anything else."""
    return file_beside(url, ".signing-key")


def resolve_signing_key(url: URL) -> SigningKey:
    """The installation's private signing key for the database at ``url``."""
    file = os.environ.get("PUSTULA_SIGNING_KEY_FILE")
    if file:
        path = Path(file)
        if not path.is_file():
            raise ConfigurationError(f"PUSTULA_SIGNING_KEY_FILE: {path} does not exist")
        return read_private_key(path)
    beside = key_file_for(url)
    if beside is not None:
        if not beside.exists():
            create_owner_only(beside, new_private_pem())
        return read_private_key(beside)
    if url.get_backend_name() == "sqlite":
        return SigningKey(Ed25519PrivateKey.generate(), "in-memory database")
    raise ConfigurationError(
        "bundles and backups of a PostgreSQL database are signed with a private key kept "
        "outside it: set PUSTULA_SIGNING_KEY_FILE (make one with `pustula keys new -o FILE`)"
    )


def read_public_keys(path: Path) -> list[Ed25519PublicKey]:
    """The Ed25519 public keys in a PEM file (several may follow one another) or in the
    ``*.pem`` files of a folder."""
    files = sorted(path.glob("*.pem")) if path.is_dir() else [path]
    keys: list[Ed25519PublicKey] = []
    for file in files:
        if not file.is_file():
            raise ConfigurationError(f"{file}: no such file of trusted public keys")
        text = file.read_text(encoding="ascii", errors="replace")
        blocks = [b for b in text.split("-----END PUBLIC KEY-----") if "BEGIN PUBLIC KEY" in b]
        if not blocks:
            raise ConfigurationError(f"{file} holds no PEM public key")
        for block in blocks:
            pem = (block.strip() + "\n-----END PUBLIC KEY-----\n").encode("ascii")
            try:
                key = serialization.load_pem_public_key(pem)
            except ValueError as exc:
                raise ConfigurationError(f"{file} holds a public key that cannot be read") from exc
            if not isinstance(key, Ed25519PublicKey):
                raise ConfigurationError(f"{file} holds a public key that is not Ed25519")
            keys.append(key)
    return keys


def trusted_keys(own: SigningKey, extra: Iterable[Path] = ()) -> list[Ed25519PublicKey]:
    """This installation's own public key, ``PUSTULA_TRUSTED_KEYS`` and ``extra`` files."""
    keys = [own.public]
    configured = os.environ.get("PUSTULA_TRUSTED_KEYS")
    for path in ([Path(configured)] if configured else []) + list(extra):
        keys += read_public_keys(path)
    return keys
