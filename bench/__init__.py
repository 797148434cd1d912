"""Benchmarks: run them with `uv run python -m bench.<name>`; they print figures and ratios."""
