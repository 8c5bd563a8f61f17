"""The authorization server: its endpoints, grants, clients and the state each one owns."""
