"""Residents' app installs, staff sign-in, tokens and guards."""

from api.auth.tokens import Principal

__all__ = ["Principal"]
