"""The command line: thin Typer commands over :mod:`voiceminer.jobs`."""
