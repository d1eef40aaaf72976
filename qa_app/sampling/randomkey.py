"""The seeded random key of a conversation, computed in SQL identically on SQLite and PostgreSQL.

The key is a keyed permutation of the conversation id in 64-bit integer arithmetic: three rounds
of ``x -> a * (x + k)^3 + b (mod p)`` (the MiMC construction; cubing is a bijection modulo p
because 3 does not divide p - 1), with the round constants derived from the plan's seed and the
period label by BLAKE2b. Every intermediate value stays below p**2 < 2**63, so neither database
overflows (SQLite would silently turn to floating point, PostgreSQL would raise), and distinct ids
below p get distinct keys. ``python_key`` computes the same value in Python.

The key is computed once per row per round: see ``with_random_key``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import BigInteger, Float, Subquery, cast, select
from sqlalchemy.sql.elements import ColumnElement

KEY_MODULUS = 3_037_000_493  # the largest prime whose square fits in a signed 64-bit integer
KEY_ROUNDS = 3


def key_constants(seed: int, period_label: str) -> list[tuple[int, int, int]]:
    """The (k, a, b) of each round, from the seed and the period; a is never 0."""
    rounds = []
    for number in range(KEY_ROUNDS):
        digest = hashlib.blake2b(
            f"qa_app sampling key:{seed}:{period_label}:{number}".encode(), digest_size=24
        ).digest()
        k, a, b = (int.from_bytes(digest[i : i + 8], "big") for i in (0, 8, 16))
        rounds.append((k % KEY_MODULUS, a % (KEY_MODULUS - 1) + 1, b % KEY_MODULUS))
    return rounds


def _round(x: Any, k: int, a: int, b: int) -> ColumnElement[int]:
    t = (x + k) % KEY_MODULUS
    value: ColumnElement[int] = (t * t % KEY_MODULUS * t % KEY_MODULUS * a + b) % KEY_MODULUS
    return value


def with_random_key(
    rows: Subquery, seed: int, period_label: str, *, id_column: str = "id"
) -> Subquery:
    """``rows`` with one more column, ``random_key``: a uniform pseudo-random integer in
    [0, KEY_MODULUS) per row, from its ``id_column``, the seed and the period.

    A round uses its input three times, so written as one expression the key would repeat the
    id 27 times. Each round is therefore a subquery of its own, fenced with ``OFFSET 0`` so that
    neither SQLite nor PostgreSQL merges it into the next: every row computes each round once.
    """
    passed = [column for column in rows.c if column.name != "random_key"]
    x: Any = cast(rows.c[id_column], BigInteger) % KEY_MODULUS
    layer = rows
    for number, (k, a, b) in enumerate(key_constants(seed, period_label)):
        names = [column.name for column in passed]
        layer = (
            select(*(layer.c[name] for name in names), _round(x, k, a, b).label("random_key"))
            .offset(0)
            .subquery(f"key_round_{number}")
        )
        x = layer.c.random_key
    return layer


def python_key(conversation_id: int, seed: int, period_label: str) -> int:
    """The key ``with_random_key`` computes in SQL, in Python (for tests and checks)."""
    x = conversation_id % KEY_MODULUS
    for k, a, b in key_constants(seed, period_label):
        x = (a * pow(x + k, 3, KEY_MODULUS) + b) % KEY_MODULUS
    return x


def uniform_from_key(key: Any) -> ColumnElement[float]:
    """The key as a float strictly between 0 and 1."""
    # Float() (asdecimal=False, as the bare class means) is typed as Float[float].
    unit: ColumnElement[float] = (cast(key, Float()) + 0.5) / float(KEY_MODULUS)
    return unit
