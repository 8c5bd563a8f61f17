"""Interoperability tests against a third-party, certified OpenID provider."""
