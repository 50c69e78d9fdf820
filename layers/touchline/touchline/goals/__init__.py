"""Goals as queries over events: page patterns, definitions, goal conversions.

See docs/goals-funnels.md."""
