"""Callers' personal data as others may see it."""

from __future__ import annotations

import unicodedata

from api_client.domain.untrusted_text import one_line


def phone_digits(phone: str) -> str:
    """The digits of a phone number as it was typed (full-width digits as ASCII), or "" when
    there are too few (under 5) to tell one caller from another."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isdigit())
    return digits if len(digits) >= 5 else ""


def mask_phone(phone: str) -> str:
    """`13812341234` → `138****1234`: the first three and last four characters stay; shorter
    numbers keep only their last two."""
    phone = one_line(phone)
    if not phone:
        return ""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]
