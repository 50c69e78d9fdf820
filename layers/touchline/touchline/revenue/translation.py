"""What a verified delivery becomes: rows for the queue, and whether the type was one we handle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from touchline.envelope import Row, envelope_json
from touchline.identity.rows import IdentityLinkRow


@dataclass
class Translation:
    """The rows one webhook delivery or API call produces (empty when the type is ignored)."""

    kind: str
    handled: bool = True
    rows: list[tuple[str, Row]] = field(default_factory=list)

    def add(self, table: str, row: Row) -> None:
        self.rows.append((table, row))

    def bodies(self) -> list[str]:
        return [envelope_json(table, row) for table, row in self.rows]

    def count(self, table: str) -> int:
        return sum(1 for name, _ in self.rows if name == table)

    def add_links(self, site_id: str, source: str, at: datetime, identifiers: list[tuple[str, str]]) -> None:
        """An identity edge between every two of the identifiers the payload carried."""
        present = sorted({(kind, value) for kind, value in identifiers if value})
        for i, first in enumerate(present):
            for second in present[i + 1 :]:
                if first[0] != second[0]:
                    self.add("identity_links", IdentityLinkRow.between(site_id, first, second, source, at))


def ignored(kind: str) -> Translation:
    return Translation(kind=kind, handled=False)
