"""Errors that are the user's to fix: the CLI prints them as one line, never as a traceback."""


class UserError(Exception):
    """A mistake in arguments or inputs (missing file, unreachable URL, bad option value)."""
