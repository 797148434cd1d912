"""The staff web console: its cookie session (sign in, refresh, sign out) and serving the built pages."""
