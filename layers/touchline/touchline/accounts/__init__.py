"""Accounts: organisations, the people in them and their roles, API keys, shared links, the audit
log and usage (docs/accounts.md). People sign in through Cognito; this package never sees a password."""
