"""Benchmarks that print figures for this machine (`python -m bench`); never timed tests."""
