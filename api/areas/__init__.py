"""Areas over HTTP (ward lookup, the area tree) and the `phananh areas` command."""
