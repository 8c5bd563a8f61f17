"""The resource API: the user profile, flight reports and map data, behind access tokens."""
