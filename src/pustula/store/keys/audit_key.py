"""The audit chain's key: kept outside the database, so that someone holding the database
alone cannot rewrite the audit trail and make it verify again.

Where the key comes from, first match wins:

1. ``PUSTULA_AUDIT_KEY``: the key itself (at least 32 bytes of text, e.g. 64 hex digits);
2. ``PUSTULA_AUDIT_KEY_FILE``: a file holding it;
3. for a SQLite database file, ``<database>.audit-key`` beside it, created (readable by
   its owner only) the first time the database is used;
4. for an in-memory SQLite database, a random key for the life of the process.

PostgreSQL needs 1 or 2: a server's key belongs with the server's secrets, not beside the
data. The key's fingerprint (``key_id``) is kept in the database, so a wrong key is named
as such instead of every row looking altered.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL

from pustula.errors import ConfigurationError

__all__ = ["MIN_KEY_BYTES", "AuditKey", "key_file_for", "resolve_audit_key"]

MIN_KEY_BYTES = 32


@dataclass(frozen=True, repr=False)
class AuditKey:
    secret: bytes
    source: str

    @property
    def key_id(self) -> str:
        """A fingerprint that names the key without revealing it."""
        return hashlib.sha256(b"pustula audit key id\0" + self.secret).hexdigest()[:16]

    def sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return f"AuditKey(key_id={self.key_id!r}, source={self.source!r})"


def _checked(text: str, source: str) -> AuditKey:
    secret = text.strip().encode("utf-8")
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigurationError(
            f"the audit key from {source} is {len(secret)} bytes; it needs at least "
            f"{MIN_KEY_BYTES} (for example 64 hex digits from `python -c 'import secrets; "
            "print(secrets.token_hex(32))'`)"
        )
    return AuditKey(secret, source)


def file_beside(url: URL, suffix: str) -> Path | None:
    """``<database><suffix>`` for a SQLite database file; None for anything else."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).with_name(Path(str(url.database)).name + suffix)


def create_owner_only(path: Path, content: bytes) -> None:
    """Write a new secret file readable by its owner only (refuses to overwrite one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def key_file_for(url: URL) -> Path | None:
    """``<database>.audit-key`` for a SQLite database file; None for anything else."""
    return file_beside(url, ".audit-key")


def resolve_audit_key(url: URL) -> AuditKey:
    """The audit key for the database at ``url`` (see the module's docstring)."""
    text = os.environ.get("PUSTULA_AUDIT_KEY")
    if text:
        return _checked(text, "PUSTULA_AUDIT_KEY")
    file = os.environ.get("PUSTULA_AUDIT_KEY_FILE")
    if file:
        path = Path(file)
        if not path.is_file():
            raise ConfigurationError(f"PUSTULA_AUDIT_KEY_FILE: {path} does not exist")
        return _checked(path.read_text(encoding="utf-8"), str(path))
    beside = key_file_for(url)
    if beside is not None:
        if not beside.exists():
            create_owner_only(beside, (secrets.token_hex(32) + "\n").encode("ascii"))
        return _checked(beside.read_text(encoding="utf-8"), str(beside))
    if url.get_backend_name() == "sqlite":
        return AuditKey(secrets.token_bytes(32), "in-memory database")
    raise ConfigurationError(
        "the audit chain of a PostgreSQL database is signed with a key kept outside it: set "
        "PUSTULA_AUDIT_KEY (at least 32 bytes) or PUSTULA_AUDIT_KEY_FILE"
    )
