"""Every limit on what a client may send, in one place: the datetime windows, text lengths, page
and offset caps, idempotency keys and extensions; and the workflow's counts and the size of a
request's history. The wire models, the server's routes, its Open311 parsing and the state
machine read them here; `docs/api.md` (Bounds, Workflow rules) says them in words.

Limits hold for input only. A stored value outside them (written by an older version) is still
read and shown.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

# -- datetimes --------------------------------------------------------------------------------
#: No datetime a client sends is earlier than this.
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
#: A time something happened (intake `received_at`) is at most this far after now: clocks
#: disagree a little.
CLOCK_SKEW: Final = timedelta(days=1)
#: A due time (an extension's new due time), and a filter's bound (stats `since`/`until`, Open311
#: `start_date`/`end_date`: a period may end ahead, e.g. this year), is at most this far after now.
DUE_HORIZON: Final = timedelta(days=400)
#: An extension moves the due time at most this far past the current one; a longer one needs the
#: supervisor role. Twice the longest tier (15 days for complex requests): one more full round of
#: the hardest work, after which a supervisor looks at why it is not done.
MAX_EXTENSION: Final = timedelta(days=30)

# -- the workflow (`api_client.domain.lifecycle`) ------------------------------------------------
#: Extensions in one round of handling (from a dispatch or a reopen to the resolution), whoever
#: asks: a unit that needs a third has to say why it cannot resolve, return or be reopened.
MAX_EXTENSIONS: Final = 2
#: Callbacks that did not reach the citizen, since the request was resolved, before it may be
#: closed as unreachable (three attempts, as centres call back at different times of day).
MIN_UNREACHED_CALLBACKS: Final = 3

# -- a request's history (`Request.history`) ----------------------------------------------------
#: Steps a request keeps. Past it, the oldest note's step goes first (the note itself stays in
#: `Request.notes`), then the oldest step after the intake; `Request.history_dropped` counts them.
MAX_HISTORY: Final = 60
#: Characters of a step's text (a reason, a reply, a note); longer text is cut, ending in `…`.
#: The whole text stays in the audit trail (and a note's in `Request.notes`).
MAX_STEP_TEXT: Final = 1000

# -- text (characters) --------------------------------------------------------------------------
#: An id, a code, a unit or community id, a category code.
MAX_ID: Final = 64
#: A description, a note, a reason, a summary, a callback note.
MAX_TEXT: Final = 4000
#: A caller's name, a token's name.
MAX_NAME: Final = 200
#: A phone number as typed (digits, spaces, `+`, `-`).
MAX_PHONE: Final = 40
#: A street (街巷) or a compound's name.
MAX_STREET: Final = 200
#: An address: building, unit and flat fit many times over.
MAX_ADDRESS: Final = 500
#: Why a dispatcher reveals a caller's phone or looks a caller up.
MAX_REASON: Final = 500
#: How many co-units one dispatch names.
MAX_CO_UNITS: Final = 20
#: An id another system made (Open311 `address_id`, `device_id`, `account_id`).
MAX_EXTERNAL_ID: Final = 200
#: An e-mail address (RFC 5321's path limit).
MAX_EMAIL: Final = 254
#: A URL (Open311 `media_url`).
MAX_URL: Final = 2000
#: A number written as text (Open311 `lat`, `long`).
MAX_NUMBER_TEXT: Final = 40

# -- lists and pages ----------------------------------------------------------------------------
#: Change-feed pages: `limit` at most this.
MAX_CHANGES_LIMIT: Final = 1000
#: Page sizes of list endpoints (Open311 `page_size`).
MAX_PAGE_SIZE: Final = 1000
#: Page numbers (Open311 `page`): page × page size stays far inside a 64-bit offset.
MAX_PAGE: Final = 10_000
#: Seqs and versions are 64-bit integers in the database.
MAX_INT: Final = 2**63 - 1

# -- the raw request ----------------------------------------------------------------------------
#: Nesting of a JSON body (objects and arrays); the deepest body a client sends has 3 levels.
MAX_JSON_DEPTH: Final = 32
#: The query string, in bytes: Open311 may list 1000 request ids. (The server's HTTP parser
#: refuses a request whose head passes 16 KiB before the app sees it.)
MAX_QUERY_BYTES: Final = 12_288
#: An `Idempotency-Key`: 1..200 printable ASCII characters.
IDEMPOTENCY_KEY_MIN: Final = 1
IDEMPOTENCY_KEY_MAX: Final = 200

_IDEMPOTENCY_KEY = re.compile(rf"[\x20-\x7e]{{{IDEMPOTENCY_KEY_MIN},{IDEMPOTENCY_KEY_MAX}}}")
#: NUL and lone surrogates: no database or UTF-8 document can hold them.
_BAD_CHARACTER = re.compile("[\x00\ud800-\udfff]")


def received_window(now: datetime) -> tuple[datetime, datetime]:
    """The window of a time something happened, as of `now`."""
    return EARLIEST, now + CLOCK_SKEW


def due_window(now: datetime) -> tuple[datetime, datetime]:
    """The window of a due time, as of `now`."""
    return EARLIEST, now + DUE_HORIZON


def filter_window(now: datetime) -> tuple[datetime, datetime]:
    """The window of a filter's bound on when requests were received, as of `now`."""
    return EARLIEST, now + DUE_HORIZON


def in_window(value: datetime, window: tuple[datetime, datetime]) -> bool:
    """Whether aware `value` lies in `window`. A value whose UTC time is beyond the calendar (year
    1 at +08:00) cannot even be compared: it lies in no window."""
    try:
        return window[0] <= value <= window[1]
    except OverflowError:
        return False


def extension_within_limit(due_at: datetime, new_due_at: datetime) -> bool:
    """Whether moving the due time from `due_at` to `new_due_at` stays within `MAX_EXTENSION`."""
    return new_due_at - due_at <= MAX_EXTENSION


def has_bad_character(text: str) -> bool:
    """Whether `text` holds a NUL or a lone surrogate."""
    return _BAD_CHARACTER.search(text) is not None


def is_idempotency_key(text: str) -> bool:
    """Whether `text` is a well-formed idempotency key."""
    return _IDEMPOTENCY_KEY.fullmatch(text) is not None
