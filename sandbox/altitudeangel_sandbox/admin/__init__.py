"""The test-only admin API: clients, redirect URIs and fault injection, behind a shared secret."""
