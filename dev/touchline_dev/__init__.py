"""Operator and developer tools: the `touchline` CLI and the Docker-free local stack.

Never part of the Lambda layer (`layers/touchline/`): these import PyYAML, moto and chdb, which
the functions neither have nor need.
"""
