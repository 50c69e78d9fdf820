"""The built-in vocabulary: importing this package registers every table, dimension and metric."""

from touchline.query.builtin import attribution, commerce, datadriven, money, paths, tables, traffic  # noqa: F401
