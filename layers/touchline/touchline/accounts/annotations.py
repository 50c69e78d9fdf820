"""Annotations (seed 001 `notes`): dated notes with tags on a site's timeline.

Items in the config table: the note at `SITE#<site_id>` / `ANNOTATION#<id>` (so a site's notes
are one Query, which the query function may already run), and a pointer `ANNOTATION#<id>` /
`ANNOTATION` → site id, so `PATCH`/`DELETE /api/v1/annotations/{id}` find the site to authorise
against without the caller naming it. A site has few notes (at most `MAX_PER_SITE`): listing
reads them all and filters by date in Python.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import orjson

from touchline.accounts.permissions import Permission
from touchline.errors import RequestError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from touchline.accounts.service import Accounts, Caller

MAX_PER_SITE = 2000
MAX_TAGS = 10
P = Permission


@dataclass(frozen=True, slots=True)
class Annotation:
    annotation_id: str
    site_id: str
    note_date: date
    content: str
    tags: tuple[str, ...] = ()
    created_by: str = ""
    created_at: str = ""
    updated_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.annotation_id,
            "site_id": self.site_id,
            "date": self.note_date.isoformat(),
            "content": self.content,
            "tags": list(self.tags),
            "created_by": self.created_by,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Trimmed, lower-cased, deduplicated in order (`Launch` and `launch ` are one tag)."""
    seen: dict[str, None] = {}
    for tag in tags:
        value = tag.strip().lower()
        if value:
            seen.setdefault(value, None)
    return tuple(seen)


class AnnotationStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def all(self, site_id: str) -> list[Annotation]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :sk)",
            "ExpressionAttributeValues": {":pk": {"S": f"SITE#{site_id}"}, ":sk": {"S": "ANNOTATION#"}},
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        found = [_from_item(site_id, item) for item in items]
        return sorted(found, key=lambda a: (a.note_date, a.created_at, a.annotation_id))

    def between(
        self, site_id: str, since: date | None = None, until: date | None = None, tag: str | None = None
    ) -> list[Annotation]:
        return [
            a
            for a in self.all(site_id)
            if (since is None or a.note_date >= since)
            and (until is None or a.note_date <= until)
            and (tag is None or tag.strip().lower() in a.tags)
        ]

    def site_of(self, annotation_id: str) -> str | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"ANNOTATION#{annotation_id}"}, "sk": {"S": "ANNOTATION"}},
        ).get("Item")
        return item["site_id"]["S"] if item else None

    def get(self, site_id: str, annotation_id: str) -> Annotation | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"ANNOTATION#{annotation_id}"}},
        ).get("Item")
        return _from_item(site_id, item) if item else None

    def put(self, annotation: Annotation) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"ANNOTATION#{annotation.annotation_id}"},
                "sk": {"S": "ANNOTATION"},
                "site_id": {"S": annotation.site_id},
            },
        )
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SITE#{annotation.site_id}"},
                "sk": {"S": f"ANNOTATION#{annotation.annotation_id}"},
                "note_date": {"S": annotation.note_date.isoformat()},
                "content": {"S": annotation.content},
                "tags": {"S": orjson.dumps(list(annotation.tags)).decode()},
                "created_by": {"S": annotation.created_by},
                "created_at": {"S": annotation.created_at},
                "updated_at": {"S": annotation.updated_at},
            },
        )

    def delete(self, site_id: str, annotation_id: str) -> None:
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"ANNOTATION#{annotation_id}"}},
        )
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"ANNOTATION#{annotation_id}"}, "sk": {"S": "ANNOTATION"}},
        )

    def delete_site(self, site_id: str) -> None:
        for annotation in self.all(site_id):
            self.delete(site_id, annotation.annotation_id)


def _from_item(site_id: str, item: dict[str, Any]) -> Annotation:
    return Annotation(
        annotation_id=item["sk"]["S"].removeprefix("ANNOTATION#"),
        site_id=site_id,
        note_date=date.fromisoformat(item["note_date"]["S"]),
        content=item["content"]["S"],
        tags=tuple(orjson.loads(item.get("tags", {}).get("S", "[]"))),
        created_by=item.get("created_by", {}).get("S", ""),
        created_at=item.get("created_at", {}).get("S", ""),
        updated_at=item.get("updated_at", {}).get("S", ""),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Annotations:
    """The annotation functions of the management API and the CLI: authorised and audited
    through `Accounts` like every site setting (`annotations:read` / `annotations:write`)."""

    accounts: Accounts
    store: AnnotationStore

    def list(
        self,
        caller: Caller,
        site_id: str,
        since: date | None = None,
        until: date | None = None,
        tag: str | None = None,
    ) -> list[Annotation]:
        site = self.accounts.site_for(caller, site_id, P.ANNOTATIONS_READ)
        return self.store.between(site.site_id, since, until, tag)

    def create(
        self, caller: Caller, site_id: str, note_date: date, content: str, tags: Iterable[str] = ()
    ) -> Annotation:
        site = self.accounts.site_for(caller, site_id, P.ANNOTATIONS_WRITE, "annotation.create")
        if len(self.store.all(site.site_id)) >= MAX_PER_SITE:
            raise RequestError(409, "limit_reached", f"a site keeps at most {MAX_PER_SITE} annotations")
        now = _now()
        annotation = Annotation(
            annotation_id=f"ann_{secrets.token_hex(8)}",
            site_id=site.site_id,
            note_date=note_date,
            content=content.strip(),
            tags=_checked_tags(tags),
            created_by=caller.principal.email or caller.principal.id,
            created_at=now,
            updated_at=now,
        )
        self.store.put(annotation)
        self.accounts.record(
            caller,
            "annotation.create",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("annotation", annotation.annotation_id),
            details={"date": note_date.isoformat(), "tags": list(annotation.tags)},
        )
        return annotation

    def update(
        self,
        caller: Caller,
        annotation_id: str,
        *,
        note_date: date | None = None,
        content: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> Annotation:
        site, current = self._find(caller, annotation_id, "annotation.update")
        changed = replace(
            current,
            note_date=note_date or current.note_date,
            content=content.strip() if content is not None else current.content,
            tags=_checked_tags(tags) if tags is not None else current.tags,
            updated_at=_now(),
        )
        self.store.put(changed)
        details: dict[str, Any] = {}
        if changed.note_date != current.note_date:
            details["date"] = changed.note_date.isoformat()
        if changed.tags != current.tags:
            details["tags"] = list(changed.tags)
        if changed.content != current.content:
            details["content"] = "changed"
        self.accounts.record(
            caller,
            "annotation.update",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("annotation", annotation_id),
            details=details,
        )
        return changed

    def delete(self, caller: Caller, annotation_id: str) -> None:
        site, _ = self._find(caller, annotation_id, "annotation.delete")
        self.store.delete(site.site_id, annotation_id)
        self.accounts.record(
            caller,
            "annotation.delete",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("annotation", annotation_id),
        )

    def _find(self, caller: Caller, annotation_id: str, action: str) -> tuple[Any, Annotation]:
        from touchline.accounts.service import not_found

        site_id = self.store.site_of(annotation_id) if _plausible(annotation_id) else None
        if site_id is None:
            raise not_found("annotation")
        site = self.accounts.site_for(caller, site_id, P.ANNOTATIONS_WRITE, action)
        found = self.store.get(site.site_id, annotation_id)
        if found is None:
            raise not_found("annotation")
        return site, found


def _checked_tags(tags: Iterable[str]) -> tuple[str, ...]:
    cleaned = clean_tags(tags)
    if len(cleaned) > MAX_TAGS:
        raise RequestError(400, "invalid_request", f"at most {MAX_TAGS} tags")
    return cleaned


def _plausible(value: str) -> bool:
    return 0 < len(value) <= 64 and value.replace("_", "").isalnum()
