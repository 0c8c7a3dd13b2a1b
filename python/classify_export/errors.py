"""The one exception type the exporter raises for user mistakes."""


class ExportError(Exception):
    """A problem with the user's input (model file, names, flags, registry).

    The command line prints its message and exits with status 2; library callers
    catch it like any other exception. Bugs in the exporter itself are not
    ExportErrors and keep their tracebacks.
    """
