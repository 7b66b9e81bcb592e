"""The single version string, read by hatchling and by `musicapi.__version__`."""

__version__ = "0.1.0.dev0"
