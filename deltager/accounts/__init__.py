"""Staff accounts: users, roles, sign-in with throttling, and the admin's user management."""
