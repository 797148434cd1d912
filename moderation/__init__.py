"""Moderation: automatic screening of residents' text; moderators review what it holds back."""

from moderation.screen import REDACTED, Screening, fold, redact, screen_text

__all__ = ["REDACTED", "Screening", "fold", "redact", "screen_text"]
