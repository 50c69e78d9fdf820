"""The one exception CLI commands raise for problems the user can fix."""


class CliError(Exception):
    """Printed without a traceback; exit status 2."""
