"""The application: app factory, settings, database, the report lifecycle, controllers, CLI."""
