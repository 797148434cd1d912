"""Moderation: automatic screening of residents' text; moderators review what it holds back."""

from moderation.screen import Screening, fold, screen_text

__all__ = ["Screening", "fold", "screen_text"]
