"""Callers' personal data as others may see it: the masked phone and name every answer carries,
the key that tells one caller from another without their number, and what a phone lookup is."""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Final

from api_client.domain.untrusted_text import one_line

#: A phone lookup gives the last 4 to 6 digits of a number, or a whole number of 7 digits or
#: more (at most 20).
LOOKUP_SUFFIX_DIGITS: Final = range(4, 7)
LOOKUP_FULL_DIGITS: Final = range(7, 21)
#: What a lookup may be typed with: digits (full-width too), spaces, `+` and `-`.
_LOOKUP_TEXT: Final = re.compile(r"[\d +\-]+")
#: How many hex digits of the HMAC a caller key keeps (64 bits).
CALLER_KEY_HEX: Final = 16


def all_digits(text: str) -> str:
    """Every decimal digit of `text`, in order, as ASCII (full-width and other scripts' too)."""
    return "".join(
        str(unicodedata.decimal(ch)) for ch in unicodedata.normalize("NFKC", text) if ch.isdecimal()
    )


def phone_digits(phone: str) -> str:
    """The digits of a phone number as it was typed (as ASCII), or "" when there are too few
    (under 5) to tell one caller from another."""
    digits = all_digits(phone)
    return digits if len(digits) >= 5 else ""


def mask_phone(phone: str) -> str:
    """`13812341234` → `138****1234`: the first three and last four characters stay; shorter
    numbers keep only their last two. A masked phone masks to itself."""
    phone = one_line(phone)
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def mask_name(name: str) -> str:
    """`王先生` → `王**`, `Li Wei` → `L*****`: the first character stays. A masked name masks to
    itself."""
    name = one_line(name).strip()
    return name[:1] + "*" * (len(name) - 1) if name else ""


def caller_key(phone: str, secret: bytes) -> str | None:
    """Who called, without their number: an HMAC-SHA256 of the phone's digits under the server's
    secret (truncated to `CALLER_KEY_HEX` hex digits); None when the phone has too few digits."""
    digits = phone_digits(phone)
    if not digits:
        return None
    return hmac.new(secret, digits.encode(), hashlib.sha256).hexdigest()[:CALLER_KEY_HEX]


def lookup_digits(query: str) -> str | None:
    """The digits of a phone lookup: a whole number (7 digits or more) or its last 4 to 6; None
    when `query` is not one (a letter, another sign, too few or too many digits)."""
    text = unicodedata.normalize("NFKC", query).strip()
    if not _LOOKUP_TEXT.fullmatch(text):
        return None
    digits = all_digits(text)
    if len(digits) in LOOKUP_SUFFIX_DIGITS or len(digits) in LOOKUP_FULL_DIGITS:
        return digits
    return None


def is_suffix_lookup(digits: str) -> bool:
    """Whether lookup `digits` are a number's last digits (else a whole number)."""
    return len(digits) in LOOKUP_SUFFIX_DIGITS


def mask_lookup(digits: str) -> str:
    """A lookup as it is shown and audited: `****1234` for last digits, a whole number masked
    like a phone."""
    return "****" + digits[-4:] if is_suffix_lookup(digits) else mask_phone(digits)


#: What counts as a digit in a phone-like run: any script's digits (full-width, superscript,
#: circled…) and the Chinese numerals a number is read out with.
_CHINESE_DIGITS: Final = frozenset("〇零一二三四五六七八九幺")
#: Seven digits or more, with up to three spaces or dashes between two digits ("0" stands for a
#: digit: the pattern runs over a copy of the text where every digit is "0").
_DIGIT_RUN: Final = re.compile(r"0(?:[\s\-\u2010-\u2015\u2212\ufe63\uff0d]{0,3}0){6,}")


def _is_run_digit(ch: str) -> bool:
    return ch.isdigit() or ch in _CHINESE_DIGITS


def mask_digit_runs(text: str) -> str:
    """`text` with every phone-like run of digits masked: 7 digits or more, spaces and dashes
    allowed between them. A run of 11 digits or more keeps its first three and last four
    (`139 1234 5678` → `139 **** 5678`), a shorter one its last two; separators stay."""
    shadow = "".join("0" if _is_run_digit(ch) else ch for ch in text)
    pieces: list[str] = []
    end = 0
    for match in _DIGIT_RUN.finditer(shadow):
        run = text[match.start() : match.end()]
        count = sum(1 for ch in run if _is_run_digit(ch))
        head, tail = (3, 4) if count >= 11 else (0, 2)
        seen = 0
        masked: list[str] = []
        for ch in run:
            if _is_run_digit(ch):
                masked.append(ch if seen < head or seen >= count - tail else "*")
                seen += 1
            else:
                masked.append(ch)
        pieces += [text[end : match.start()], "".join(masked)]
        end = match.end()
    pieces.append(text[end:])
    return "".join(pieces)


def mask_email(email: str) -> str:
    """`zhang.wei@example.com` → `z********@example.com`: the first character of the mailbox and
    the domain stay (enough to tell two addresses apart, not to write to one)."""
    email = one_line(email)
    mailbox, at, domain = email.rpartition("@")
    if not at:
        return "*" * len(email)
    return mailbox[:1] + "*" * max(len(mailbox) - 1, 0) + "@" + domain
