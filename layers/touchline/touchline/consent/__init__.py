"""Consent: what each person agreed to, per category, and the site setting that stores only
that (docs/consent.md)."""
