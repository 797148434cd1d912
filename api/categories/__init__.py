"""The category catalogue as residents' apps see it."""
