"""BlurHash encoding (https://blurha.sh), the compact placeholder the app paints while a photo loads.

Written here rather than taken as a dependency: it is forty lines over numpy, which we already have.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def _base83(value: int, length: int) -> str:
    return "".join(_CHARS[(value // 83 ** (length - i)) % 83] for i in range(1, length + 1))


def _to_linear(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    v = rgb / 255.0
    out: NDArray[np.float64] = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return out


def _to_srgb(v: float) -> int:
    v = min(max(v, 0.0), 1.0)
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_pow(v: float, exp: float) -> float:
    return math.copysign(abs(v) ** exp, v)


def encode(rgb: NDArray[np.uint8], x_components: int = 4, y_components: int = 3) -> str:
    """The BlurHash of an RGB image given as an (height, width, 3) array; keep it small (≤ 64 px)."""
    if not (1 <= x_components <= 9 and 1 <= y_components <= 9):
        raise ValueError("blurhash components must be between 1 and 9")
    height, width = rgb.shape[:2]
    linear = _to_linear(rgb[:, :, :3].astype(np.float64))
    xs = np.arange(width) * math.pi / width
    ys = np.arange(height) * math.pi / height
    factors: list[tuple[float, float, float]] = []
    for j in range(y_components):
        for i in range(x_components):
            basis = np.outer(np.cos(ys * j), np.cos(xs * i))  # (height, width)
            norm = 1.0 if i == j == 0 else 2.0
            f = np.tensordot(basis, linear, axes=([0, 1], [0, 1])) * norm / (width * height)
            factors.append((float(f[0]), float(f[1]), float(f[2])))
    dc, ac = factors[0], factors[1:]

    out = _base83((x_components - 1) + (y_components - 1) * 9, 1)
    if ac:
        actual_max = max(abs(c) for f in ac for c in f)
        quantised = max(0, min(82, math.floor(actual_max * 166 - 0.5)))
        max_value = (quantised + 1) / 166
        out += _base83(quantised, 1)
    else:
        max_value = 1.0
        out += _base83(0, 1)
    out += _base83((_to_srgb(dc[0]) << 16) + (_to_srgb(dc[1]) << 8) + _to_srgb(dc[2]), 4)
    for f in ac:
        q = [max(0, min(18, math.floor(_sign_pow(c / max_value, 0.5) * 9 + 9.5))) for c in f]
        out += _base83(q[0] * 19 * 19 + q[1] * 19 + q[2], 2)
    return out
