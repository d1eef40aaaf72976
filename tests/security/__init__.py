"""Security tests: races, and requests that try to break the rules."""
