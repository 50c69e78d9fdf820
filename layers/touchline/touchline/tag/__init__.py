"""The browser tag: its JavaScript (`touchline.js`, minified to `touchline.min.js`) and how the
collector serves it (`asset.py`). See docs/tag.md."""
