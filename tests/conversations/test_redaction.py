"""PII redaction: what must go (e-mail, phone, card, IBAN) and what support text must keep."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qa_app.conversations.records import AgentRef, ConversationRecord, MessageRecord
from qa_app.conversations.redaction import (
    CARD,
    EMAIL,
    IBAN,
    PHONE,
    iban_valid,
    luhn_valid,
    redact,
    redact_record,
)


def redacted(text: str) -> str:
    return redact(text)[0]


# --- e-mail addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail me at jane.doe@example.com please", "Mail me at [EMAIL] please"),
        ("jane.doe+billing@example.com", "[EMAIL]"),
        ("ops@mail.eu.example.co.uk", "[EMAIL]"),
        ("Write to JOHN.SMITH@EXAMPLE.COM today", "Write to [EMAIL] today"),
        ("From: Jane Doe <jane_doe@example.org>", "From: Jane Doe <[EMAIL]>"),
        ("Is it bob@example.com?", "Is it [EMAIL]?"),
        ("It's bob@example.com.", "It's [EMAIL]."),
        ("bob@example.com, alice@example.net; carol@example.io!", "[EMAIL], [EMAIL]; [EMAIL]!"),
        ("(reply-to: o'brien@example.ie)", "(reply-to: [EMAIL])"),
        ("mailto:support-team@help.example.com", "mailto:[EMAIL]"),
        ("Kontakt: jürgen.müller@beispiel.de", "Kontakt: [EMAIL]"),
        ("user123@sub-domain.example-shop.com\nthanks", "[EMAIL]\nthanks"),
    ],
)
def test_email_addresses_are_redacted(text: str, expected: str) -> None:
    result, counts = redact(text)
    assert result == expected
    assert counts == Counter(email=expected.count(EMAIL))


@pytest.mark.parametrize(
    "text",
    [
        "3 baths @ 4950 per month",
        "Bloomrooms @ New Delhi Railway Station",
        "Enjoy the event@ the venue",
        "ping @support or @jane_doe on Slack",
        "the price is 2 @ $5",
        "user@localhost",  # no domain with a dot: not an address anyone can be mailed at
    ],
)
def test_at_signs_that_are_not_addresses_survive(text: str) -> None:
    assert redact(text) == (text, Counter())


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "+44 20 7946 0958",  # E.164 with spaces
        "+442079460958",
        "+1-202-555-0143",
        "+1 (415) 555-0132",
        "+49 (0)30 12345678",
        "+33 1 46 34 14 80",
        "+60 3-2110 2211",
        "+254 709 716000",
        "(555) 123-4567",
        "(555)123-4567",
        "555.123.4567",
        "555-123-4567",
        "555 123 4567",
        "030 12345678",  # German national
        "020 7946 0958",  # UK national
        "07700 900123",  # UK mobile
        "01 40 62 05 00",  # French national
        "0049 30 12345678",
        "02 123 45 67",  # Belgian, 9 digits
        "2 8765 2000",  # Sydney without trunk prefix, 9 digits in three groups
    ],
)
def test_phone_numbers_are_redacted(phone: str) -> None:
    result, counts = redact(f"You can reach them at {phone}.")
    assert result == "You can reach them at [PHONE]."
    assert counts == Counter(phone=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call 555-123-4567 ext. 89 after 5", "call [PHONE] after 5"),
        ("call +1 (415) 555-0132 x204", "call [PHONE]"),
        ("(555) 123-4567, extension 12", "[PHONE]"),
        ("555-123-4567x9", "[PHONE]"),
        ("tel:+442079460958", "tel:[PHONE]"),
        ("Phone:+1 202 555 0143", "Phone:[PHONE]"),  # the "+1" must not be left behind
        (
            "Scheduling was done.925-686-6868 is the number",
            "Scheduling was done.[PHONE] is the number",
        ),
        ("Wifi is not available.+1 416-663-9500 is it", "Wifi is not available.[PHONE] is it"),
        ("Home 030 12345678, mobile +49 151 23456789", "Home [PHONE], mobile [PHONE]"),
        # unbroken digit runs count as phones only after phone wording
        ("call me at 5551234567 tomorrow", "call me at [PHONE] tomorrow"),
        ("My mobile number is 07700900123.", "My mobile number is [PHONE]."),
        ("Phone: 8341210202", "Phone: [PHONE]"),
        ("Phone number: 8341210202, order 6609498072", "Phone number: [PHONE], order 6609498072"),
        ("text me on 5551234567 please", "text me on [PHONE] please"),
        ("cell no. 5551234567", "cell no. [PHONE]"),
        ("WhatsApp 447700900123", "WhatsApp [PHONE]"),
    ],
)
def test_phone_numbers_in_context(text: str, expected: str) -> None:
    result, counts = redact(text)
    assert result == expected
    assert counts == Counter(phone=expected.count(PHONE))


# --- payment cards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",  # Visa, grouped by spaces
        "4111-1111-1111-1111",
        "4111111111111111",
        "4012.8888.8888.1881",
        "5555 5555 5555 4444",  # Mastercard
        "2223 0031 2200 3222",  # Mastercard 2-series
        "3782 822463 10005",  # Amex 4-6-5
        "371449635398431",  # Amex unbroken
        "6011 1111 1111 1117",  # Discover
        "6221 2600 1200 0000 006",  # 19 digits (UnionPay)
        "6221260012000000006",
        "4111 1111 1111 1111 123",  # with its security code: the code goes too
        "４１１１ １１１１ １１１１ １１１１",  # fullwidth digits
    ],
)
def test_luhn_valid_card_numbers_are_redacted(card: str) -> None:
    result, counts = redact(f"my card is {card}, expiry 12/27")
    assert result == "my card is [CARD], expiry 12/27"
    assert counts == Counter(card=1)


def test_card_at_sentence_end_and_after_a_label() -> None:
    assert redacted("Card number:4111111111111111.") == "Card number:[CARD]."
    assert redacted("Paid with card.4111 1111 1111 1111") == "Paid with card.[CARD]"


# --- IBANs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "GB82 WEST 1234 5698 7654 32",
        "GB82WEST12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "FR14 2004 1010 0505 0001 3M02 606",
        "FR1420041010050500013M02606",
        "NL91 ABNA 0417 1643 00",
        "NL91ABNA0417164300",
        "nl91abna0417164300",
        "gb82 west 1234 5698 7654 32",
        "BE68 5390 0754 7034",
        "ES91 2100 0418 4502 0005 1332",
        "CH93 0076 2011 6238 5295 7",
    ],
)
def test_valid_ibans_are_redacted(iban: str) -> None:
    result, counts = redact(f"Please refund to IBAN: {iban}. Thanks")
    assert result == "Please refund to IBAN: [IBAN]. Thanks"
    assert counts == Counter(iban=1)


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # wrong check digits
        "GB82 WEST 1234 5698 7654 33",
        "DE89 3704 0044 0532 0130",  # too short for DE
        "XX89 3704 0044 0532 0130 00",  # no such country
    ],
)
def test_invalid_ibans_are_not_redacted_as_ibans(text: str) -> None:
    assert redact(text)[1]["iban"] == 0


# --- what must survive --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # order, reference and ticket numbers
        "Your order #123456789 has shipped.",
        "I am asking about order 4829103 from last week.",
        "Reference ORD-2024-000123 is closed.",
        "Order ID: 6609498072",
        "Your order number is 6609498072 and the account 1234567890.",
        "call reference 1234567890, microphone 5551234567, cellular 5551234567",
        "Phone: 55512345678901234567 is no number",
        "Amazon order 112-1234567-1234567",
        "Ticket #A-10023 was merged into #A-10024.",
        "order 9123456789012348 (passes Luhn, but no card starts with 9)",
        "loyalty number 1123456789012345",
        # Luhn-invalid card-like numbers
        "card 4111 1111 1111 1112",
        "5555-5555-5555-4445",
        "4111111111111112",
        # dates and times
        "It was delivered on 2024-03-15 at 14:30.",
        "Invoice dated 15/03/2024, due 15/04/2024.",
        "US date 03.15.2024 and German date 15.03.2024",
        "2024-03-15T14:30:00Z",
        "Open 09:00-17:30, Mon-Fri; lunch 12:00 - 13:00.",
        "The show starts at 7:30 pm on March 11th.",
        "between 10.30 and 11.45",
        # prices and amounts
        "That comes to $1,234.56 including tax.",
        "Total: € 12 345,00",
        "Total: 1.234.567,89 EUR or 1 234 567 EUR",
        "£1,299.00 and ¥120000",
        "Your balance is $14615.50.",
        "Prices: 12.99 14.99 19.99",
        "123 456 789 points",
        # tracking, versions, network addresses
        "Tracking 1Z999AA10123456784",
        "FedEx 7489 1234 5678",
        "USPS 9400 1000 0000 0000 0000 00",
        "Please update to version 2.14.3 (build 10.15.7.1234).",
        "Server 192.168.100.200 and 10.0.0.1 are down.",
        # years, ranges, percentages, short codes
        "I was a customer 2019-2024 and 2020 - 2023.",
        "Conversion fell by 45.5% (99.99% uptime).",
        "Your verification code is 12345.",
        "PIN 4821, postcode 10115, room 1234",
        # account ids in URLs
        "See https://shop.example.com/accounts/1234567890123/orders?page=2",
        "https://example.com/u/5551234567/profile and /orders/4111111111111111",
        # addresses
        "The venue is at 1016-1098 North Center Court Street.",
        "Alderwood Apartments at 1435 163rd Avenue #23",
        "the event is at 4812 1144 Sonoma Avenue",
        # national numbers too short or too ambiguous to tell from other numbers
        "extension 4567 or 555-1234",
    ],
)
def test_non_pii_numbers_survive(text: str) -> None:
    assert redact(text) == (text, Counter())


def test_counts_per_kind_and_typed_placeholders() -> None:
    text = (
        "Hi, I'm jane.doe@example.com (or jd@work.example.org). Call me on +44 20 7946 0958 "
        "or (555) 123-4567. I paid with 4111 1111 1111 1111 for order #123456789 on "
        "2024-03-15, please refund to DE89 3704 0044 0532 0130 00."
    )
    result, counts = redact(text)
    assert result == (
        "Hi, I'm [EMAIL] (or [EMAIL]). Call me on [PHONE] or [PHONE]. I paid with [CARD] for "
        "order #123456789 on 2024-03-15, please refund to [IBAN]."
    )
    assert counts == Counter(email=2, phone=2, card=1, iban=1)
    assert set(counts) == {"email", "phone", "card", "iban"}
    assert (EMAIL, PHONE, CARD, IBAN) == ("[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]")


def test_nothing_found_returns_the_text_and_an_empty_counter() -> None:
    text = "Thanks, that fixed it! Order 4829103 arrived on 15/03/2024."
    result, counts = redact(text)
    assert result == text
    assert counts == Counter()
    assert not counts


def test_check_digit_helpers() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    assert luhn_valid("４１１１１１１１１１１１１１１１")  # fullwidth digits
    assert iban_valid("GB82WEST12345698765432")
    assert iban_valid("gb82west12345698765432")
    assert not iban_valid("GB82WEST12345698765433")
    assert not iban_valid("GB82WEST1234569876543")  # wrong length for GB
    assert not iban_valid("ZZ82WEST12345698765432")


def test_pathological_inputs_stay_fast() -> None:
    """Every message is redacted on import, so no input may make the patterns backtrack."""
    inputs = [
        "1 " * 20_000 + "/2",
        "1-" * 20_000,
        "(1) " * 10_000,
        "a@" * 20_000,
        "a." * 20_000 + "@",
        "x" * 40_000 + "@" + "y." * 10_000,
        "DE89" * 10_000,
        "+1 " * 20_000,
        "4111 " * 10_000 + "x1",
    ]
    started = time.perf_counter()
    for text in inputs:
        redact(text)
    assert time.perf_counter() - started < 5


# --- properties ---------------------------------------------------------------------------------

FRAGMENTS = [
    "jane.doe+x@example.com",
    "<a@b.co>",
    "+44 20 7946 0958",
    "(555) 123-4567",
    "555.123.4567",
    "030 12345678",
    "ext. 12",
    "4111 1111 1111 1111",
    "4111111111111111",
    "3782 822463 10005",
    "123",
    "DE89 3704 0044 0532 0130 00",
    "nl91abna0417164300",
    "#123456789",
    "ORD-2024-000123",
    "2024-03-15",
    "15/03/2024",
    "14:30",
    "$1,234.56",
    "192.168.1.1",
    "[EMAIL]",
    "[PHONE]",
    "@",
    ".",
    ",",
    "-",
    " ",
    "\n",
    "x",
    "tel:",
]
pii_like_text = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="0123456789 .-+()@:/,#xa", max_size=8)),
    max_size=12,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), pii_like_text))
@example("4111111111111111 555 123 4567")
@example("a@b.cc.a@d.ee")
@example("DE89370400440532013000-555-123-4567")
@example("+44 20 7946 0958+44 20 7946 0958jane.doe+x@example.com")
def test_redact_is_idempotent_and_never_raises(text: str) -> None:
    once, counts = redact(text)
    twice, counts_again = redact(once)
    assert twice == once
    assert counts_again == Counter()
    assert all(value > 0 for value in counts.values())
    assert set(counts) <= {"email", "phone", "card", "iban"}


@given(st.text().map(lambda text: "".join(c for c in text if not c.isdigit() and c != "@")))
def test_text_without_digits_or_at_sign_is_unchanged(text: str) -> None:
    assert redact(text) == (text, Counter())


# --- whole conversations ------------------------------------------------------------------------


def make_record(*texts: str) -> ConversationRecord:
    started = datetime(2026, 9, 4, 16, 46, tzinfo=UTC)
    return ConversationRecord(
        source="shop",
        external_id="c-1",
        channel="chat",
        agent=AgentRef("ag-1", "Ana Lima", "Tier 1 Chat", None),
        started_at=started,
        ended_at=started.replace(hour=17),
        csat=4,
        tags=("billing",),
        language="en",
        status="closed",
        metadata={"queue": "billing", "customer_email": "kept@example.com"},
        messages=tuple(
            MessageRecord(
                "customer" if index % 2 == 0 else "agent",
                text,
                started.replace(minute=47 + index),
                None if index % 2 == 0 else "ag-1",
            )
            for index, text in enumerate(texts)
        ),
    )


def test_redact_record_sums_counts_across_messages_and_keeps_other_fields() -> None:
    record = make_record(
        "I'm jane@example.com, card 4111 1111 1111 1111",
        "Thanks! Which order is it?",
        "Order #123456789, call me on +1-202-555-0143 or mail jd@example.org",
        "Refund sent to DE89 3704 0044 0532 0130 00.",
    )
    result, counts = redact_record(record)
    assert counts == {"email": 2, "card": 1, "phone": 1, "iban": 1}
    assert type(counts) is dict
    assert [message.text for message in result.messages] == [
        "I'm [EMAIL], card [CARD]",
        "Thanks! Which order is it?",
        "Order #123456789, call me on [PHONE] or mail [EMAIL]",
        "Refund sent to [IBAN].",
    ]
    # Only message texts change: speakers, times, authors and all conversation fields stay.
    assert result.messages[1] is record.messages[1]
    for before, after in zip(record.messages, result.messages, strict=True):
        assert replace(after, text=before.text) == before
    assert replace(result, messages=record.messages) == record
    assert result.metadata == record.metadata  # metadata is not message text: left alone
    assert record.messages[0].text.startswith("I'm jane@")  # the input is not mutated


def test_redact_record_without_pii_returns_the_same_record() -> None:
    record = make_record("Where is order 4829103?", "It arrives on 2024-03-15.")
    result, counts = redact_record(record)
    assert result is record
    assert counts == {}
