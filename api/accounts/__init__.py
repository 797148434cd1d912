"""Residents' app installs, staff sign-in, tokens and guards."""

from api.access.tokens import Principal

__all__ = ["Principal"]
