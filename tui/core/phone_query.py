"""A phone number as a dispatcher types it in the queue search, made a lookup.

Dispatchers type a number the way they read or hear it: `139 1234 5678`, `139-1234-5678`,
`(010) 6123 4567`, `１３９．１２３４`, `电话：5678`, `尾号5678`, or copy it as the app shows it
masked (`139****5678`, `****5678`), or in the international form (`+86 139 1234 5678`).
`phone_lookup` gives the digits to send to the server's audited lookup, which matches a whole
number digit for digit (`api_client.domain.personal_data.lookup_digits` decides what a lookup
is): a masked number gives the digits after its stars (the hidden ones are not known), an
international Chinese number its domestic form (`13912345678`, `01061234567`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from api_client.domain.personal_data import all_digits, lookup_digits

__all__ = ["phone_lookup"]

#: Words a number may be typed after: `电话：`, `手机 `, `尾号`, `tel:`, `phone `.
_LABEL: Final = re.compile(
    r"^(?:电话号码|电话|手机号码|手机号|手机|来电号码|来电|号码|尾号|tel|phone|mobile)\s*[:：]?\s*",
    re.IGNORECASE,
)
#: A number: digits with spaces, dashes, dots, brackets, slashes or a leading `+` between them.
_NUMBER: Final = re.compile(r"\+?[\d\s\-‐‑‒–—―−.·()/]*\d")
#: A masked number as the app shows it: digits, then stars, then the last digits.
_MASKED: Final = re.compile(r"\d*\*+(\d+)")
#: China's country code written the international way (`+86`, `0086`).
_CHINA: Final = re.compile(r"^(?:\+\s*|00)86")


def phone_lookup(text: str) -> str | None:
    """The digits to look a caller up by, when `text` is a phone number (or its last 4 to 6
    digits, or a masked number) as typed; None when it is anything else."""
    typed = unicodedata.normalize("NFKC", text).strip()
    typed = _LABEL.sub("", typed, count=1)
    masked = _MASKED.fullmatch(typed.replace(" ", ""))
    if masked is not None:
        return lookup_digits(masked.group(1))
    if not _NUMBER.fullmatch(typed):
        return None
    international = _CHINA.match(typed)
    if international is None:
        return lookup_digits(all_digits(typed))
    digits = all_digits(typed[international.end() :])
    mobile = len(digits) == 11 and digits.startswith("1")
    return lookup_digits(digits if mobile or digits.startswith("0") else "0" + digits)
