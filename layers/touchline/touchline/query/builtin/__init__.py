"""The built-in vocabulary: importing this package registers every table, dimension and metric."""

from touchline.query.builtin import attribution, commerce, datadriven, money, tables, traffic  # noqa: F401
