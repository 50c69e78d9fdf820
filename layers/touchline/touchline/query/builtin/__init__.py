"""The built-in vocabulary: importing this package registers every table, dimension and metric."""

from touchline.query.builtin import (  # noqa: F401
    annotations,
    attribution,
    carts,
    commerce,
    commerce_views,
    consent,
    datadriven,
    devices,
    money,
    objects,
    paths,
    tables,
    traffic,
    video,
)
