"""The collector pipeline: parse a hit, resolve its site, enrich it, enqueue its envelope."""
