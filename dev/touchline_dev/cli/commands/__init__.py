"""One module per command group; each exposes `register(commands, common)`.

`common` is a parent parser carrying `--data-dir`; add it to every subcommand that touches
local state. A command's `run(args) -> int` is set with `set_defaults(run=...)`.
"""
