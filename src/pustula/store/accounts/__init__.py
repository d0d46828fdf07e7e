"""The people who sign in: users, passwords, roles and sessions."""
