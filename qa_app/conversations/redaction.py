"""PII redaction for message texts: e-mail addresses, phone numbers, payment cards and IBANs.

Reviewers need the conversation, not the customer's contact or payment details, so imports can
replace them with ``[EMAIL]``, ``[PHONE]``, ``[CARD]`` and ``[IBAN]``. The rules favour
precision: order numbers, dates, times, prices, addresses and other reference numbers that
support conversations are full of must survive, so cards and IBANs need a valid check digit and
phone numbers need a plausible shape. Patterns are compiled once and a cheap gate skips the detailed
passes for the many messages that cannot contain any of these. The rules, what they were tuned on
and their known limits are described in docs/redaction.md.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from qa_app.conversations.records import ConversationRecord

EMAIL = "[EMAIL]"
PHONE = "[PHONE]"
CARD = "[CARD]"
IBAN = "[IBAN]"

# Local part and domain may use any letters (internationalised addresses such as
# jürgen@müller.de); the top-level domain is letters or an IDNA ``xn--`` label.
_EMAIL_RE = re.compile(
    r"(?<![\w.+%'-])\w[\w.%+'-]{0,63}@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,24}|[Xx][Nn]--[A-Za-z0-9-]{2,59})(?![\w-])"
)

# Where a number may start: not inside a word, a longer number, an amount ($, €, £, ¥), a
# reference (#123, ORD-123), a path (/accounts/123), nor after a decimal point, thousands comma
# or colon that follows a digit (12.5, 1,234, 10:30). A full stop or colon after a word is fine
# ("done.925-686-6868", "tel:+44...").
_NUMBER_START = r"(?<![\w+$€£¥#/-])(?<!\d[.,:])"
# Where a number must end: not inside a word, nor before more digits joined by punctuation.
_NUMBER_END = r"(?!\w)(?![.,/:-]\d)"

# Any run of digit groups separated by single spaces, dashes or dots. A run never starts inside a
# longer number, so a long reference number is never partly redacted; it may stop before a group
# that continues with "/" or ":" (a card followed by its "12/27" expiry date).
_CARD_RE = re.compile(_NUMBER_START + r"\d+(?:[ .-]\d+)*" + _NUMBER_END)

# IBAN candidates: country code, check digits, then alphanumerics with optional single spaces.
# The exact length comes from the country and the mod-97 check decides.
_IBAN_RE = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})((?: ?[A-Za-z0-9]){10,32})")

# Phone candidates: an optional "+", then digit groups joined by one separator (space, dash,
# dot) or by a parenthesised area code, then an optional extension ("ext. 12", "x204"), which
# is redacted with the number. Colons, slashes and commas are not separators, which keeps
# times, slashed dates and prices out. Every alternative starts with a distinct character, so
# matching stays linear (no catastrophic backtracking on long digit runs).
_PHONE_RE = re.compile(
    _NUMBER_START + r"(?P<number>(?:\+ ?)?(?:\(\d{1,5}\)[ .-]?\d+|\d+)"
    r"(?:[ .-]\d+| ?\(\d{1,5}\)[ .-]?\d+)*)"
    r"(?:[ \t]*,?[ \t]*(?i:ext\.?|extension|x)[ \t]*\d{1,6}(?!\w)|" + _NUMBER_END + ")"
)
# An unbroken run of 10-15 digits is an order or account number as often as a phone number, so it
# is taken for a phone only right after phone wording: "call me at 5551234567", "my mobile
# number is 07700900123", "Phone: 8341210202". "Order number is ..." or "call reference ..."
# name no phone, so those numbers stay.
_PHONE_WORDED_RE = re.compile(
    r"(?i)\b(?:tele?phone|phone|tel|mobile|cell(?:phone)?|whats ?app|fax|sms|text|call(?:back)?"
    r"|reach)"
    r"(?:[ \t]*(?:(?:number|no|nr|is|was|me|us|at|on)\b|[:#.-])){0,4}[ \t]*"
    r"(?P<number>\+?\d{10,15})" + _NUMBER_END
)
_DIGIT_GROUPS = re.compile(r"\d+")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_DATE_IN_RUN = re.compile(
    r"(?<!\d)(?:(?:19|20)\d\d([-. ])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])([-. ])(?:0?[1-9]|[12]\d|3[01])\2(?:19|20)\d\d)(?!\d)"
)
# Cheap gate: every phone, card and IBAN (whose account part is numeric in practice) has 8+
# digits close together. Most messages fail it and skip the detailed passes.
_MAYBE_NUMBER = re.compile(r"\d(?:[ ().-]{0,3}\d){7}")

# ISO 13616 IBAN lengths by country (SWIFT IBAN registry).
IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AL": 28,
    "AT": 20,
    "AZ": 28,
    "BA": 20,
    "BE": 16,
    "BG": 22,
    "BH": 22,
    "BI": 27,
    "BR": 29,
    "BY": 28,
    "CH": 21,
    "CR": 22,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DJ": 27,
    "DK": 18,
    "DO": 28,
    "EE": 20,
    "EG": 29,
    "ES": 24,
    "FI": 18,
    "FK": 18,
    "FO": 18,
    "FR": 27,
    "GB": 22,
    "GE": 22,
    "GI": 23,
    "GL": 18,
    "GR": 27,
    "GT": 28,
    "HN": 28,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IQ": 23,
    "IS": 26,
    "IT": 27,
    "JO": 30,
    "KW": 30,
    "KZ": 20,
    "LB": 28,
    "LC": 32,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "LY": 25,
    "MC": 27,
    "MD": 24,
    "ME": 22,
    "MK": 19,
    "MN": 20,
    "MR": 27,
    "MT": 31,
    "MU": 30,
    "NI": 28,
    "NL": 18,
    "NO": 15,
    "OM": 23,
    "PK": 24,
    "PL": 28,
    "PS": 29,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "RS": 22,
    "RU": 33,
    "SA": 24,
    "SC": 31,
    "SD": 18,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "SO": 23,
    "ST": 25,
    "SV": 28,
    "TL": 23,
    "TN": 24,
    "TR": 26,
    "UA": 29,
    "VA": 22,
    "VG": 24,
    "XK": 20,
    "YE": 30,
}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number carries; random numbers pass 1 in 10.

    ``digits`` holds decimal digits only; other scripts' digits (e.g. fullwidth) count as theirs.
    """
    if not digits.isascii():
        digits = "".join(str(int(char)) for char in digits)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check (letters count as 10..35) plus the country's fixed length."""
    iban = iban.upper()
    if IBAN_LENGTHS.get(iban[:2]) != len(iban) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _is_card_number(digits: str) -> bool:
    """13-19 digits, a payment-card first digit (ISO/IEC 7812 major industry identifier 2-6:
    Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/Maestro/UnionPay 6) and Luhn-valid."""
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _card(match: re.Match[str], counts: Counter[str]) -> str:
    run = match.group()
    groups = _DIGIT_GROUPS.findall(run)
    digits = "".join(groups)
    if len(digits) < 13:
        return run
    if not digits.isascii():
        digits = "".join(str(int(char)) for char in digits)  # e.g. fullwidth digits
    # A card followed by its 3- or 4-digit security code ("4111 1111 1111 1111 123") is one card.
    if _is_card_number(digits) or (
        len(groups) > 2
        and 3 <= len(groups[-1]) <= 4
        and _is_card_number(digits[: -len(groups[-1])])
    ):
        counts["card"] += 1
        return CARD
    return run


def _iban_end(match: re.Match[str]) -> int | None:
    """End offset of a valid IBAN starting where ``match`` starts, or None."""
    country = match.group(1).upper()
    length = IBAN_LENGTHS.get(country)
    if length is None:
        return None
    rest = match.group(3)
    needed = length - 4
    taken = 0
    end = 0
    for index, char in enumerate(rest):
        if char != " ":
            taken += 1
            if taken == needed:
                end = index + 1
                break
    if taken != needed or rest[end : end + 1] not in ("", " "):
        return None  # too short, or glued to more letters/digits: not this IBAN
    if not iban_valid(country + match.group(2) + rest[:end].replace(" ", "")):
        return None
    return match.start(3) + end


def _redact_ibans(text: str, counts: Counter[str]) -> str:
    """Candidates are greedy, so a failed one is retried one character later, not skipped."""
    parts: list[str] = []
    kept_from = 0
    search_from = 0
    while match := _IBAN_RE.search(text, search_from):
        end = _iban_end(match)
        if end is None:
            search_from = match.start() + 1
            continue
        parts += (text[kept_from : match.start()], IBAN)
        counts["iban"] += 1
        kept_from = search_from = end
    if not parts:
        return text
    parts.append(text[kept_from:])
    return "".join(parts)


def _looks_like_phone(candidate: str) -> bool:
    groups = _DIGIT_GROUPS.findall(candidate)
    digits = sum(len(group) for group in groups)
    if candidate.startswith("+"):
        return 8 <= digits <= 15  # E.164 allows at most 15 digits
    if len(groups) < 2 or not 9 <= digits <= 15:
        return False  # bare digit runs are order/account numbers, not phones
    if digits == 9 and len(groups) < 3:
        return False  # 9-digit national numbers ("2 8765 2000") only in three or more groups
    if "(" not in candidate and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:]):
        return False  # thousands grouping: "123 456 789", "1.234.567.890" are amounts
    if "." in candidate and (
        "-" in candidate or " " in candidate or any(len(group) == 1 for group in groups)
    ):
        return False  # decimals ("12.99 14.99 19.99"), versions ("10.15.7.1234")
    if sum(1 for group in groups if len(group) == 4) >= 3:
        return False  # 4-4-4(-4) is how card-like numbers are written, not phones
    if sum(1 for group in groups if len(group) == 1) > 1:
        return False  # lists of small numbers
    if _IPV4.fullmatch(candidate):
        return False
    return not _DATE_IN_RUN.search(candidate)


def _phone(match: re.Match[str], counts: Counter[str]) -> str:
    if not _looks_like_phone(match.group("number")):
        return match.group()
    counts["phone"] += 1
    return PHONE


def _worded_phone(match: re.Match[str], counts: Counter[str]) -> str:
    counts["phone"] += 1
    start, end = match.span("number")
    whole = match.group()
    offset = match.start()
    return whole[: start - offset] + PHONE + whole[end - offset :]


def redact(text: str) -> tuple[str, Counter[str]]:
    """Replace PII in ``text``; returns the new text and how many of each kind were replaced.

    Kinds are ``email``, ``iban``, ``card`` and ``phone``, applied in that order: IBANs (the
    most specific pattern) first so their digit groups are not read as a card, cards and IBANs
    before phones so they are never mistaken for phone numbers.

    When something was replaced the passes run again on the result, because a placeholder can
    expose a neighbour that was glued to the replaced text ("0958+44 20 ..."): the result is
    then a fixed point, so redacting redacted text changes nothing. Each replacement removes
    digits or an "@" and placeholders contain neither, so this ends after a few rounds.
    """
    counts: Counter[str] = Counter()
    if "@" not in text and not _MAYBE_NUMBER.search(text):
        return text, counts  # most messages: nothing that could be PII
    while True:
        found = counts.total()
        text = _redact_pass(text, counts)
        if counts.total() == found:
            return text, counts


def _redact_pass(text: str, counts: Counter[str]) -> str:
    if "@" in text:
        text, found = _EMAIL_RE.subn(EMAIL, text)
        if found:
            counts["email"] += found
    if not _MAYBE_NUMBER.search(text):
        return text
    text = _redact_ibans(text, counts)
    text = _CARD_RE.sub(lambda match: _card(match, counts), text)
    text = _PHONE_WORDED_RE.sub(lambda match: _worded_phone(match, counts), text)
    return _PHONE_RE.sub(lambda match: _phone(match, counts), text)


def redact_record(record: ConversationRecord) -> tuple[ConversationRecord, dict[str, int]]:
    """Redact every message text of a conversation; returns the new record and total counts."""
    totals: Counter[str] = Counter()
    messages = []
    for message in record.messages:
        text, counts = redact(message.text)
        if counts:
            totals.update(counts)
            message = replace(message, text=text)
        messages.append(message)
    if not totals:
        return record, {}
    return replace(record, messages=tuple(messages)), dict(totals)
