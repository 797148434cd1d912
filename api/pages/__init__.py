"""The public pages, rendered on the server for a cheap phone on a slow network: a report's page (the
link its QR code carries) and the wards' league table, with its JSON."""
