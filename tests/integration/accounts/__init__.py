"""The accounts tests: a package, so the world fixture (conftest.py) is built once for them all."""
