"""The one exception type for problems a user can fix; the CLI prints it as a single line."""


class MocapError(Exception):
    """A user-facing error. The message names the problem and how to fix it."""
