"""DPoP (RFC 9449): one proof's checks and this server's policy of switches, nonces and replays."""
