"""Uploads and media over HTTP, and the media worker steps; the rules live in the `media` capability."""
