"""Short human tracking codes: PA-7KQ2-9XMD. No 0/O, 1/I/L: easy to read out over the phone."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code() -> str:
    pick = [secrets.choice(ALPHABET) for _ in range(8)]
    return f"PA-{''.join(pick[:4])}-{''.join(pick[4:])}"
