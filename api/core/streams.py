"""Streamed answers that start only once their work has: an answer's status goes out with its first
bytes, so a stream whose query fails before its first row must fail before it is a stream, as a
normal error answer in the one shape, rather than a 200 cut off after a header line."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def started(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`chunks` with its first chunk already produced (here, in the caller's try, where an error is
    still an error answer); the producer makes its first chunk only once its query has answered."""
    first = await anext(chunks, None)

    async def rest() -> AsyncIterator[bytes]:
        if first is not None:
            yield first
        async for chunk in chunks:
            yield chunk

    return rest()
