"""Moderation: what of residents' text the public may read.

- `mask(text)`: personal data (phones, e-mails, ID numbers, plates, bank accounts) replaced by labels,
  with the spans found; `find_personal(text)` the spans alone.
- `screen_text(*texts)`: abusive language, which holds a text for a moderator.
- `fold(text)`: the accent-free fold that screening and search share.
"""

from moderation.mask import KINDS, LABELS, REDACTED, Masked, Span, mask, redact
from moderation.mask import find as find_personal
from moderation.screen import ABUSIVE, FLAGGED, Screening, screen_text
from moderation.text import fold

__all__ = [
    "ABUSIVE",
    "FLAGGED",
    "KINDS",
    "LABELS",
    "REDACTED",
    "Masked",
    "Screening",
    "Span",
    "find_personal",
    "fold",
    "mask",
    "redact",
    "screen_text",
]
