"""Test helpers and fakes of outside services (never of our own code)."""
