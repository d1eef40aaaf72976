"""The landing page each role sees after logging in."""
