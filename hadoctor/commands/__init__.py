"""Command glue: one module per command, ``hadoctor/commands/<command>.py``.

Each module holds a frozen ``Options`` dataclass (what the command line gave) and
``run(options) -> int``: it reads the inputs, calls the domain modules, hands the result to a
reporter and returns the exit code. ``hadoctor.cli`` only declares the typer options and calls
``run``; the domain modules below never print or exit. A command module imports nothing heavy at
module level, so importing it costs nothing at start-up.
"""
