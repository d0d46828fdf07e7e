"""The installation's keys: the audit chain's HMAC key, and the Ed25519 key that signs
bundles and backups."""
