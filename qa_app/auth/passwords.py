"""Password hashing with argon2id; a cheap profile exists only to keep tests fast."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

_STRONG = PasswordHasher()  # argon2-cffi's RFC 9106 low-memory profile
_CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
MIN_PASSWORD_LENGTH = 10


def _hasher(cheap: bool) -> PasswordHasher:
    return _CHEAP if cheap else _STRONG


def hash_password(password: str, *, cheap: bool = False) -> str:
    return _hasher(cheap).hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _STRONG.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, cheap: bool = False) -> bool:
    return _hasher(cheap).check_needs_rehash(password_hash)
