"""The package's version, on the lowest floor: files record it and the command line prints it."""

__version__ = "0.1.0"
