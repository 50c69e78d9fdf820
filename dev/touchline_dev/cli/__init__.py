"""The `touchline` command."""
