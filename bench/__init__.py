"""Benchmarks of the client web app against a same-I/O baseline and the common pattern."""
