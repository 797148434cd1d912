"""Staff accounts (officers, leaders, moderators, admins): sign-in, scopes, administration, review."""
