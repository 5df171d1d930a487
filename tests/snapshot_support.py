"""What the snapshot tests share: a fixed time zone and a frozen clock, so every screen they take
is the same on every machine, and the app on a cached session with both.

    app = frozen_app(session, "zh")      # the `fixed_zone` fixture (conftest.py) sets the zone
"""

from __future__ import annotations

from typing import Literal

from app_support import SEED_NOW

from tui.core.i18n import Strings
from tui.core.queue.layout import Column
from tui.core.session import Session
from tui.ui.app import HotlineApp

#: China Standard Time as a POSIX TZ rule: the same on every machine, with or without tzdata.
TZ = "CST-8"
#: The app's frozen clock: ten minutes after the demo data's "now".
CLOCK = SEED_NOW.timestamp() + 600

Lang = Literal["zh", "en"]


def frozen_app(session: Session, lang: Lang, columns: tuple[Column, ...] | None = None) -> HotlineApp:
    """The app on `session`, never syncing nor announcing, its clock stopped at `CLOCK`."""
    return HotlineApp(
        session,
        strings=Strings(lang),
        clock=lambda: CLOCK,
        sync=False,
        announce_urgent=False,
        columns=columns,
    )
