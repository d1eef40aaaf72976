"""Accounts, roles, log-in and the partner scope every feature goes through."""
