"""A reproducible cryptographic random stream: HMAC-SHA256 in counter mode over a seed.

The allocation list must be reproducible from its recorded seed (by the statistician who
made it and by an auditor) and unpredictable without it. HMAC-SHA256 keyed by the seed and
run over a named counter is a deterministic generator built on a standard primitive
(NIST SP 800-90A's HMAC_DRBG is built the same way); Python's ``random`` is neither
cryptographic nor guaranteed stable across versions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import MutableSequence
from typing import TypeVar

__all__ = ["RandomStream", "new_seed"]

T = TypeVar("T")
_WORD = 8  # bytes per draw: 64-bit words


def new_seed() -> str:
    """A fresh seed: 32 bytes from the operating system's generator, as hex.

    Examples
    --------
    >>> len(new_seed()), new_seed() != new_seed()
    (64, True)
    """
    return secrets.token_hex(32)


class RandomStream:
    """Uniform draws from ``seed`` for one ``purpose`` (a list, a stratum, a subject).

    Streams of different purposes from one seed are independent; the same seed and
    purpose always give the same draws.

    Examples
    --------
    >>> a = RandomStream("00" * 32, "stratum SITE1")
    >>> [a.below(6) for _ in range(5)] == [
    ...     b.below(6) for b in [RandomStream("00" * 32, "stratum SITE1")] for _ in range(5)]
    True
    >>> 0 <= RandomStream("00" * 32, "x").uniform() < 1
    True
    """

    def __init__(self, seed: str, purpose: str) -> None:
        if len(seed) < 32:
            raise ValueError("a seed needs at least 128 bits (32 hex characters)")
        self._key = hashlib.sha256(b"pustula allocation\0" + seed.encode()).digest()
        self._purpose = purpose.encode()
        self._counter = 0
        self._buffer = b""

    def _word(self) -> int:
        if len(self._buffer) < _WORD:
            block = hmac.new(
                self._key, self._purpose + b"\0" + self._counter.to_bytes(8, "big"),
                hashlib.sha256,
            ).digest()  # fmt: skip
            self._counter += 1
            self._buffer += block
        word, self._buffer = self._buffer[:_WORD], self._buffer[_WORD:]
        return int.from_bytes(word, "big")

    def below(self, n: int) -> int:
        """A whole number from 0 to ``n - 1``, each equally likely (rejection sampling:
        no modulo bias)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        limit = (1 << 64) - (1 << 64) % n
        while True:
            word = self._word()
            if word < limit:
                return word % n

    def uniform(self) -> float:
        """A number in [0, 1) with 53 random bits."""
        return (self._word() >> 11) / float(1 << 53)

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Fisher–Yates, in place."""
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]
