"""Signing in: the routes, the pending attempts, and what a callback must look like."""
