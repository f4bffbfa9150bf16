"""The command line: a thin layer over the library; errors map to exit codes in main.py only."""
