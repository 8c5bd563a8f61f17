"""Peers: the same page built the way the common OAuth client documentation shows."""
