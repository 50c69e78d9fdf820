"""The accounts domain functions: what the management API and the CLI both call.

Every function takes the `Caller` (principal and request context), asks `authorize` first, does
one thing, and appends what it did to the audit log. Resources of another organisation answer
exactly as resources that do not exist (404), whatever ids a caller puts in a path or a body.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from touchline.accounts.audit import (
    AuditQuery,
    AuditSink,
    Outcome,
    RequestContext,
    audit_row,
    read_audit,
    sign_in_rows,
)
from touchline.accounts.directory import Invitation, UserDirectory
from touchline.accounts.orgs import AccountsError, Member, Organisation, OrgStore, normalize_email, now_text
from touchline.accounts.permissions import (
    Decision,
    Permission,
    Principal,
    Resource,
    Role,
    authorize,
    permissions_of,
)
from touchline.accounts.shared_links import (
    Session,
    SharedLink,
    SharedLinkError,
    SharedLinkStore,
    TooManyAttempts,
)
from touchline.accounts.usage import Usage, UsageRecords, usage_of
from touchline.auth.api_keys import DEFAULT_RATE_LIMIT, ApiKey, ApiKeyStore, InvalidKeyRequest
from touchline.config.attribution_settings import AttributionSettingsStore, ConversionGoal
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import InvalidDomain, Site, SiteExists, SiteStore
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.consent.policy import policy
from touchline.errors import RequestError
from touchline.funnels.model import Funnel
from touchline.funnels.store import FunnelStore
from touchline.warehouse.sql import Sql

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

    from touchline.accounts.annotations import AnnotationStore
    from touchline.outgoing_webhooks.subscriptions import SubscriptionStore

P = Permission
WebhookProvider = Literal["stripe", "shopify"]


@dataclass(frozen=True, slots=True)
class Caller:
    principal: Principal
    context: RequestContext = field(default_factory=RequestContext)


def not_found(what: str = "resource") -> RequestError:
    return RequestError(404, "not_found", f"no such {what}")


def site_error(exc: InvalidDomain | SiteExists) -> RequestError:
    """A refused domain as the API answers it: 409 when another site has it, else 400."""
    if isinstance(exc, SiteExists):
        return RequestError(409, "conflict", str(exc))
    return RequestError(400, "invalid_request", str(exc))


@dataclass
class Accounts:
    orgs: OrgStore
    sites: SiteStore
    settings: AttributionSettingsStore
    integrations: IntegrationStore
    syncs: SyncIntegrationStore
    links: SharedLinkStore
    directory: UserDirectory
    audit: AuditSink
    secrets: SecretsManagerClient | None = None
    warehouse: Callable[[], Sql] | None = None
    usage_records: UsageRecords | None = None
    api_base_url: str = ""
    api_keys: ApiKeyStore | None = None
    annotation_store: AnnotationStore | None = None
    webhook_store: SubscriptionStore | None = None
    funnels: FunnelStore | None = None

    # ------------------------------------------------------------------ authorization

    def require(
        self,
        caller: Caller,
        permission: Permission,
        org_id: str,
        site_id: str | None = None,
        action: str = "",
    ) -> None:
        """Allowed, or a 404 (outside what the caller may see) / 403 (role lacks it), audited."""
        decision = authorize(caller.principal, permission, Resource(org_id, site_id))
        if decision is Decision.ALLOWED:
            return
        if org_id:
            self._record(
                caller,
                action or f"{permission.value}.denied",
                org_id=org_id,
                site_id=site_id or "",
                outcome="denied",
                details={"permission": permission.value, "decision": decision.value},
            )
        if decision is Decision.NOT_FOUND:
            raise not_found("site" if site_id else "organisation")
        raise RequestError(403, "forbidden", f"your role does not allow {permission.value}")

    def site_for(self, caller: Caller, site_id: str, permission: Permission, action: str = "") -> Site:
        site = self.sites.by_id(site_id) if _plausible_id(site_id) else None
        if site is None:
            raise not_found("site")
        self.require(caller, permission, site.org_id, site.site_id, action)
        return site

    def org_for(self, caller: Caller, org_id: str, permission: Permission, action: str = "") -> Organisation:
        org = self.orgs.get(org_id)
        if org is None:
            raise not_found("organisation")
        self.require(caller, permission, org.org_id, None, action)
        return org

    def record(
        self,
        caller: Caller,
        action: str,
        *,
        org_id: str,
        site_id: str = "",
        target: tuple[str, str] = ("", ""),
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append a successful change to the audit log (for the domain modules beside this one:
        annotations, webhooks)."""
        self._record(caller, action, org_id=org_id, site_id=site_id, target=target, details=details)

    def _record(
        self,
        caller: Caller,
        action: str,
        *,
        org_id: str,
        site_id: str = "",
        outcome: Outcome = "success",
        target: tuple[str, str] = ("", ""),
        details: dict[str, Any] | None = None,
    ) -> None:
        self.audit.record(
            [
                audit_row(
                    caller.principal,
                    action,
                    org_id=org_id,
                    site_id=site_id,
                    outcome=outcome,
                    target=target,
                    details=details,
                    context=caller.context,
                )
            ]
        )

    # ------------------------------------------------------------------ who am I

    def me(self, caller: Caller) -> dict[str, Any]:
        principal = caller.principal
        orgs = []
        for org_id, membership in sorted(principal.memberships.items()):
            org = self.orgs.get(org_id)
            if org is None:
                continue
            orgs.append(
                {
                    **org_body(org),
                    "role": membership.role.value,
                    "site_ids": sorted(membership.site_ids) if membership.site_ids is not None else None,
                    "permissions": sorted(p.value for p in permissions_of(principal, org_id)),
                }
            )
        return {"user_id": principal.id, "email": principal.email, "organisations": orgs}

    # ------------------------------------------------------------------ organisations

    def create_org(
        self, caller: Caller, name: str, owner_email: str | None = None
    ) -> tuple[Organisation, Invitation | None]:
        """A new organisation. A person creating one becomes its owner; the operator names the
        owner by email, who is invited (created in Cognito) if new."""
        principal = caller.principal
        if principal.kind not in ("person", "operator"):
            raise RequestError(403, "forbidden", "only people and the operator create organisations")
        if principal.kind == "operator" and not owner_email:
            raise RequestError(
                400, "invalid_request", "an organisation needs an owner: give the owner's email"
            )
        try:
            org = self.orgs.create(name)
        except AccountsError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        invitation = None
        if principal.kind == "person":
            known = self.orgs.user(principal.id)
            email = principal.email or (known.email if known else "")
            self.orgs.put_member(
                Member(org.org_id, principal.id, email, Role.OWNER, None, now_text(), principal.label()),
                new=True,
            )
            owner_id = principal.id
        else:
            assert owner_email is not None
            invitation = self._invite(owner_email)
            self.orgs.put_member(
                Member(
                    org.org_id,
                    invitation.user_id,
                    invitation.email,
                    Role.OWNER,
                    None,
                    now_text(),
                    principal.label(),
                ),
                new=True,
            )
            owner_id = invitation.user_id
        self._record(
            caller,
            "org.create",
            org_id=org.org_id,
            target=("organisation", org.org_id),
            details={"name": org.name, "owner": owner_id},
        )
        return org, invitation

    def list_orgs(self, caller: Caller) -> list[Organisation]:
        principal = caller.principal
        if principal.kind == "operator":
            return self.orgs.all()
        ids = set(principal.memberships) if principal.kind == "person" else {principal.org_id}
        return [org for org_id in sorted(ids) if (org := self.orgs.get(org_id)) is not None]

    def get_org(self, caller: Caller, org_id: str) -> Organisation:
        return self.org_for(caller, org_id, P.ORG_READ)

    def update_org(
        self, caller: Caller, org_id: str, *, name: str | None = None, event_limit: int | bool | None = False
    ) -> Organisation:
        """`org:write` renames; the monthly event limit is `usage:write` (billing may set it)."""
        self.org_for(caller, org_id, P.ORG_READ)
        if name is not None:
            self.require(caller, P.ORG_WRITE, org_id, None, "org.update")
        if event_limit is not False:
            self.require(caller, P.USAGE_WRITE, org_id, None, "org.update")
        if event_limit is not False and event_limit is not None and int(event_limit) < 1:
            raise RequestError(400, "invalid_request", "event_limit must be at least 1 (or null for none)")
        try:
            self.orgs.update(org_id, name=name, event_limit=event_limit)
        except AccountsError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        changed: dict[str, Any] = {}
        if name is not None:
            changed["name"] = name.strip()
        if event_limit is not False:
            changed["event_limit"] = event_limit
        self._record(caller, "org.update", org_id=org_id, target=("organisation", org_id), details=changed)
        updated = self.orgs.get(org_id)
        assert updated is not None
        return updated

    # ------------------------------------------------------------------ sites

    def list_sites(self, caller: Caller, org_id: str | None = None) -> list[Site]:
        principal = caller.principal
        if principal.kind == "operator":
            sites = self.sites.list()
            return [s for s in sites if org_id is None or s.org_id == org_id]
        org_ids = (
            [org_id]
            if org_id
            else sorted(principal.memberships)
            if principal.kind == "person"
            else [principal.org_id]
        )
        visible = [
            site_id
            for org in org_ids
            for site_id in self.orgs.site_ids(org)
            if authorize(principal, P.SITES_READ, Resource(org, site_id)) is Decision.ALLOWED
        ]
        return sorted(self.sites.many(visible), key=lambda s: s.domain)

    def add_site(self, caller: Caller, org_id: str, domain: str, **changes: Any) -> Site:
        org = self.orgs.get(org_id) if org_id else None
        if org is None:
            raise not_found("organisation")
        self.require(caller, P.SITES_WRITE, org.org_id, None, "site.create")
        self._check_settings(changes)
        try:
            site = self.sites.add(domain, org_id=org.org_id)
        except (InvalidDomain, SiteExists) as exc:
            raise site_error(exc) from None
        self._apply_settings(site, changes)
        self._record(
            caller,
            "site.create",
            org_id=org.org_id,
            site_id=site.site_id,
            target=("site", site.site_id),
            details={"domain": site.domain, **_plain(changes)},
        )
        return self.sites.by_id(site.site_id) or site

    def get_site(self, caller: Caller, site_id: str) -> Site:
        return self.site_for(caller, site_id, P.SITES_READ)

    def update_site(self, caller: Caller, site_id: str, **changes: Any) -> Site:
        site = self.site_for(caller, site_id, P.SITES_WRITE, "site.update")
        self._check_settings(changes)
        target_org = changes.pop("org_id", None)
        if target_org and target_org != site.org_id:
            self.move_site(caller, site.site_id, target_org)
        if changes.get("domain"):
            try:
                self.sites.change_domain(site.site_id, changes.pop("domain"))
            except (InvalidDomain, SiteExists) as exc:
                raise site_error(exc) from None
        self._apply_settings(site, changes)
        self._record(
            caller,
            "site.update",
            org_id=target_org or site.org_id,
            site_id=site.site_id,
            target=("site", site.site_id),
            details=_plain(changes),
        )
        updated = self.sites.by_id(site.site_id)
        assert updated is not None
        return updated

    def move_site(self, caller: Caller, site_id: str, org_id: str) -> Site:
        """Into another organisation: `sites:delete` where it is, `sites:write` where it goes.
        Sites registered before organisations (no owner) move only by the operator."""
        site = self.sites.by_id(site_id) if _plausible_id(site_id) else None
        if site is None:
            raise not_found("site")
        self.require(caller, P.SITES_DELETE, site.org_id, site.site_id, "site.move")
        target = self.orgs.get(org_id) if org_id else None
        if target is None:
            raise not_found("organisation")
        self.require(caller, P.SITES_WRITE, target.org_id, None, "site.move")
        moved = self.sites.move(site.site_id, target.org_id)
        for org in {site.org_id, target.org_id} - {""}:
            self._record(
                caller,
                "site.move",
                org_id=org,
                site_id=site.site_id,
                target=("site", site.site_id),
                details={"from": site.org_id, "to": target.org_id},
            )
        return moved

    def delete_site(self, caller: Caller, site_id: str) -> Site:
        site = self.site_for(caller, site_id, P.SITES_DELETE, "site.delete")
        for sync in self.syncs.list(site.site_id):
            if self.secrets is not None:
                self.syncs.remove(site.site_id, sync.provider, self.secrets)
        for integration in self.integrations.list(site.site_id):
            self._delete_secret(integration.secret_name)
        if self.annotation_store is not None:
            self.annotation_store.delete_site(site.site_id)
        if self.webhook_store is not None:
            self.webhook_store.delete_site(site.site_id, self.secrets)
        self.sites.delete(site.site_id)
        self._record(
            caller,
            "site.delete",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("site", site.site_id),
            details={"domain": site.domain},
        )
        return site

    def site_settings(self, sites: list[Site]) -> dict[str, dict[str, Any]]:
        """The attribution windows and cart abandonment of each site, in one batch."""
        windows = self.settings.windows([site.site_id for site in sites])
        return {
            site_id: {"lookback_days": lookback, "half_life_days": half_life, "cart_abandon_hours": abandon}
            for site_id, (lookback, half_life, abandon) in windows.items()
        }

    def _apply_settings(self, site: Site, changes: dict[str, Any]) -> None:
        lookback, half_life = changes.get("lookback_days"), changes.get("half_life_days")
        if lookback is not None or half_life is not None:
            try:
                self.settings.set_windows(site.site_id, lookback, half_life)
            except ValueError as exc:
                raise RequestError(400, "invalid_request", str(exc)) from None
        if changes.get("cart_abandon_hours") is not None:
            try:
                self.settings.set_cart_abandon_hours(site.site_id, float(changes["cart_abandon_hours"]))
            except ValueError as exc:
                raise RequestError(400, "invalid_request", str(exc)) from None
        if changes.get("cookieless") is not None:
            self.sites.set_cookieless(site.site_id, bool(changes["cookieless"]))
        if changes.get("consent") is not None or changes.get("consent_categories"):
            current = (self.sites.by_id(site.site_id) or site).consent
            categories = {**current.categories(), **_given(changes.get("consent_categories"))}
            self.sites.set_consent(site.site_id, policy(changes.get("consent") or current.mode, categories))
        if changes.get("timezone") is not None:
            self.sites.set_timezone(site.site_id, changes["timezone"])

    @staticmethod
    def _check_settings(changes: dict[str, Any]) -> None:
        """Before anything is written: a bad time zone must not leave half a change behind."""
        try:
            policy(changes.get("consent"), _given(changes.get("consent_categories")))
        except ValueError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        if changes.get("timezone") is not None:
            from touchline.query.dates import zone

            try:
                zone(changes["timezone"])
            except ValueError as exc:
                raise RequestError(400, "invalid_request", str(exc)) from None

    # ------------------------------------------------------------------ goals

    def list_goals(self, caller: Caller, site_id: str) -> list[ConversionGoal]:
        site = self.site_for(caller, site_id, P.GOALS_READ)
        return list(self.settings.get(site.site_id).goals)

    def add_goal(
        self,
        caller: Caller,
        site_id: str,
        name: str,
        value: Decimal | None,
        currency: str,
        **definition: Any,
    ) -> ConversionGoal:
        """A goal (`definition`: track_method, event_name, page_pattern, properties, active; see
        touchline.goals.definition). One with the same name is replaced and keeps its id."""
        from touchline.goals.definition import make_goal

        site = self.site_for(caller, site_id, P.GOALS_WRITE, "goal.create")
        existing = next((g for g in self.settings.get(site.site_id).goals if g.name == name.strip()), None)
        try:
            goal = make_goal(
                name, value=value, currency=currency, goal_id=existing.id if existing else "", **definition
            )
        except ValueError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        self.settings.add_goal(site.site_id, goal)
        self._record(
            caller,
            "goal.create",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("goal", goal.name),
            details=_goal_details(goal),
        )
        return goal

    def update_goal(self, caller: Caller, site_id: str, name: str, changes: dict[str, Any]) -> ConversionGoal:
        """An edit (a rename keeps the id). Goals are queries over events: the next query, funnel
        or aggregation run sees the new definition over all of history."""
        from touchline.goals.definition import edited

        site = self.site_for(caller, site_id, P.GOALS_WRITE, "goal.update")
        goals = self.settings.get(site.site_id).goals
        goal = next((g for g in goals if g.name == name), None)
        if goal is None:
            raise not_found("goal")
        try:
            new = edited(goal, changes)
        except ValueError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        if new.name != goal.name and any(g.name == new.name for g in goals):
            raise RequestError(409, "conflict", f"the site already has a goal named {new.name!r}")
        self.settings.replace_goal(site.site_id, goal.name, new)
        if new.name != goal.name and self.funnels is not None:
            self._rename_goal_steps(site.site_id, goal.name, new.name)
        self._record(
            caller,
            "goal.update",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("goal", new.name),
            details={**_goal_details(new), "previous_name": goal.name},
        )
        return new

    def _rename_goal_steps(self, site_id: str, old: str, new: str) -> None:
        """Funnels name their goal steps: a renamed goal stays their step."""
        from dataclasses import replace

        from touchline.funnels.model import Step

        assert self.funnels is not None
        for funnel in self.funnels.list(site_id):
            if any(s.kind == "goal" and s.value == old for s in funnel.steps):
                steps = tuple(
                    Step("goal", new) if s.kind == "goal" and s.value == old else s for s in funnel.steps
                )
                self.funnels.put(replace(funnel, steps=steps))

    def remove_goal(self, caller: Caller, site_id: str, name: str) -> None:
        site = self.site_for(caller, site_id, P.GOALS_WRITE, "goal.delete")
        if all(goal.name != name for goal in self.settings.get(site.site_id).goals):
            raise not_found("goal")
        self.settings.remove_goal(site.site_id, name)
        self._record(caller, "goal.delete", org_id=site.org_id, site_id=site.site_id, target=("goal", name))

    # ------------------------------------------------------------------ funnels

    def _funnel_store(self) -> FunnelStore:
        if self.funnels is None:
            raise RequestError(503, "unavailable", "funnels are not configured")
        return self.funnels

    def create_funnel(
        self,
        caller: Caller,
        site_id: str,
        name: str,
        steps: list[Any],
        window_hours: float | None = None,
        strict: bool = False,
    ) -> Funnel:
        """A funnel whose goal steps name goals of the site (checked now; a goal removed later
        makes the funnel's figures a 400 naming the step)."""
        from touchline.funnels.model import make_funnel

        site = self.site_for(caller, site_id, P.GOALS_WRITE, "funnel.create")
        try:
            funnel = make_funnel(site.site_id, name, steps, window_hours, strict)
        except ValueError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        goals = {g.name for g in self.settings.get(site.site_id).goals if g.active}
        for number, step in enumerate(funnel.steps, 1):
            if step.kind == "goal" and step.value not in goals:
                raise RequestError(
                    400, "invalid_request", f"step {number}: {step.value!r} is not an active goal of the site"
                )
        store = self._funnel_store()
        if any(f.name == funnel.name for f in store.list(site.site_id)):
            raise RequestError(409, "conflict", f"the site already has a funnel named {funnel.name!r}")
        store.put(funnel)
        self._record(
            caller,
            "funnel.create",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("funnel", funnel.funnel_id),
            details={"name": funnel.name, "steps": [s.label() for s in funnel.steps]},
        )
        return funnel

    def list_funnels(self, caller: Caller, site_id: str) -> list[Funnel]:
        site = self.site_for(caller, site_id, P.GOALS_READ)
        return self._funnel_store().list(site.site_id)

    def find_funnel(self, caller: Caller, site_id: str, id_or_name: str) -> Funnel:
        site = self.site_for(caller, site_id, P.GOALS_READ)
        store = self._funnel_store()
        funnel = store.get(site.site_id, id_or_name) or next(
            (f for f in store.list(site.site_id) if f.name == id_or_name), None
        )
        if funnel is None:
            raise not_found("funnel")
        return funnel

    def delete_funnel(self, caller: Caller, site_id: str, funnel_id: str) -> None:
        site = self.site_for(caller, site_id, P.GOALS_WRITE, "funnel.delete")
        funnel = self.find_funnel(caller, site.site_id, funnel_id)
        self._funnel_store().delete(site.site_id, funnel.funnel_id)
        self._record(
            caller,
            "funnel.delete",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("funnel", funnel.funnel_id),
        )

    # ------------------------------------------------------------------ integrations

    def list_integrations(self, caller: Caller, site_id: str, base_url: str = "") -> list[dict[str, Any]]:
        site = self.site_for(caller, site_id, P.INTEGRATIONS_READ)
        found = [
            {
                "provider": i.provider,
                "kind": "webhook",
                "webhook_url": self.webhook_url(i.provider, site.site_id, base_url),
                "created_at": i.created_at,
            }
            for i in self.integrations.list(site.site_id)
        ]
        found += [
            {
                "provider": s.provider,
                "kind": "sync",
                "status": s.status,
                "message": s.message,
                "status_at": s.status_at,
            }
            for s in self.syncs.list(site.site_id)
        ]
        return found

    def add_webhook_integration(
        self, caller: Caller, site_id: str, provider: WebhookProvider, secret: str, base_url: str = ""
    ) -> dict[str, Any]:
        """Store the provider's signing secret (Secrets Manager) and say where to point it."""
        site = self.site_for(caller, site_id, P.INTEGRATIONS_WRITE, "integration.add")
        if self.secrets is None:
            raise RuntimeError("no Secrets Manager client configured")
        integration = self.integrations.add(site.site_id, provider, secret.strip(), self.secrets)
        self._record(
            caller,
            "integration.add",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("integration", provider),
            details={"kind": "webhook"},
        )
        return {
            "provider": provider,
            "kind": "webhook",
            "webhook_url": self.webhook_url(provider, site.site_id, base_url),
            "created_at": integration.created_at,
        }

    def remove_webhook_integration(self, caller: Caller, site_id: str, provider: str) -> None:
        site = self.site_for(caller, site_id, P.INTEGRATIONS_WRITE, "integration.remove")
        integration = self.integrations.get(site.site_id, provider)
        if integration is None:
            raise not_found("integration")
        self.integrations.remove(site.site_id, provider)
        self._delete_secret(integration.secret_name)
        self._record(
            caller,
            "integration.remove",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("integration", provider),
        )

    def webhook_url(self, provider: str, site_id: str, base_url: str = "") -> str:
        return f"{(base_url or self.api_base_url).rstrip('/')}/webhooks/{provider}/{site_id}"

    def _delete_secret(self, name: str) -> None:
        if self.secrets is not None:
            with contextlib.suppress(self.secrets.exceptions.ResourceNotFoundException):
                self.secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)

    # ------------------------------------------------------------------ members

    def list_members(self, caller: Caller, org_id: str) -> list[Member]:
        self.org_for(caller, org_id, P.MEMBERS_READ)
        return self.orgs.members(org_id)

    def invite_member(
        self, caller: Caller, org_id: str, email: str, role: Role, site_ids: Iterable[str] | None = None
    ) -> tuple[Member, Invitation]:
        self.org_for(caller, org_id, P.MEMBERS_WRITE, "member.invite")
        self._owner_rule(caller, org_id, role)
        sites = self._own_sites(org_id, site_ids)
        invitation = self._invite(email)
        member = Member(
            org_id, invitation.user_id, invitation.email, role, sites, now_text(), caller.principal.label()
        )
        try:
            self.orgs.put_member(member, new=True)
        except AccountsError as exc:
            raise RequestError(409, "conflict", str(exc)) from None
        self._record(
            caller,
            "member.invite",
            org_id=org_id,
            target=("member", member.user_id),
            details={
                "email": member.email,
                "role": role.value,
                "sites": sorted(sites) if sites is not None else None,
                "new_user": invitation.created,
            },
        )
        return member, invitation

    def update_member(
        self,
        caller: Caller,
        org_id: str,
        user_id: str,
        *,
        role: Role | None = None,
        site_ids: Iterable[str] | bool | None = False,
    ) -> Member:
        self.org_for(caller, org_id, P.MEMBERS_WRITE, "member.update")
        member = self.orgs.member(org_id, user_id)
        if member is None:
            raise not_found("member")
        if role is not None and role != member.role:
            self._owner_rule(caller, org_id, role, member)
        sites = member.site_ids if site_ids is False else self._own_sites(org_id, site_ids)  # type: ignore[arg-type]
        updated = Member(
            org_id,
            member.user_id,
            member.email,
            role or member.role,
            sites,
            member.created_at,
            member.invited_by,
        )
        self.orgs.put_member(updated, new=False)
        self._record(
            caller,
            "member.update",
            org_id=org_id,
            target=("member", user_id),
            details={
                "role": updated.role.value,
                "previous_role": member.role.value,
                "sites": sorted(sites) if sites is not None else None,
            },
        )
        return updated

    def remove_member(self, caller: Caller, org_id: str, user_id: str) -> None:
        self.org_for(caller, org_id, P.MEMBERS_WRITE, "member.remove")
        member = self.orgs.member(org_id, user_id)
        if member is None:
            raise not_found("member")
        if member.role is Role.OWNER:
            self._owner_rule(caller, org_id, Role.VIEWER, member)
        self.orgs.delete_member(org_id, user_id)
        self._record(
            caller,
            "member.remove",
            org_id=org_id,
            target=("member", user_id),
            details={"email": member.email, "role": member.role.value},
        )

    def _owner_rule(self, caller: Caller, org_id: str, new_role: Role, member: Member | None = None) -> None:
        """Only owners make or unmake owners, and an organisation always keeps one."""
        touches_owner = new_role is Role.OWNER or (member is not None and member.role is Role.OWNER)
        if not touches_owner:
            return
        principal = caller.principal
        if principal.kind != "operator":
            own = principal.memberships.get(org_id)
            if own is None or own.role is not Role.OWNER:
                raise RequestError(403, "forbidden", "only an owner can grant or take away the owner role")
        if member is not None and member.role is Role.OWNER and new_role is not Role.OWNER:
            owners = [m for m in self.orgs.members(org_id) if m.role is Role.OWNER]
            if len(owners) <= 1:
                raise RequestError(409, "last_owner", "an organisation must keep at least one owner")

    def _own_sites(self, org_id: str, site_ids: Iterable[str] | None) -> frozenset[str] | None:
        if site_ids is None:
            return None
        wanted = frozenset(site_ids)
        foreign = wanted - set(self.orgs.site_ids(org_id))
        if foreign:
            # The same answer as for sites that do not exist: nothing about other organisations.
            raise RequestError(404, "not_found", f"no such site in this organisation: {sorted(foreign)[0]}")
        return wanted

    def _invite(self, email: str) -> Invitation:
        try:
            email = normalize_email(email)
        except AccountsError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        known = self.orgs.user_by_email(email)
        if known is not None:
            return Invitation(known.user_id, known.email, created=False)
        invitation = self.directory.invite(email)
        self.orgs.save_user(invitation.user_id, email)
        return invitation

    # ------------------------------------------------------------------ API keys

    def _keys(self) -> ApiKeyStore:
        if self.api_keys is None:
            raise RuntimeError("no API key store configured")
        return self.api_keys

    def _org_keys(self, org_id: str) -> list[ApiKey]:
        """The organisation's keys: account-wide ones, and those of only its sites."""
        sites = set(self.orgs.site_ids(org_id))
        return [
            key
            for key in self._keys().list()
            if key.org_id == org_id or (key.org_id is None and key.site_ids and set(key.site_ids) <= sites)
        ]

    def list_api_keys(self, caller: Caller, org_id: str) -> list[ApiKey]:
        self.org_for(caller, org_id, P.API_KEYS_READ)
        return self._org_keys(org_id)

    def create_api_key(
        self,
        caller: Caller,
        org_id: str,
        *,
        name: str = "",
        scopes: Iterable[str] = ("stats:read",),
        site_ids: Iterable[str] | None = None,
        expires_days: int | None = None,
        rate_limit: int | None = None,
    ) -> tuple[str, ApiKey]:
        """A key for scripts: account-wide (every site of the organisation, now and later) or
        for some of its sites. Shown once; stored as a hash (touchline.auth.api_keys)."""
        self.org_for(caller, org_id, P.API_KEYS_WRITE, "api_key.create")
        sites = self._own_sites(org_id, site_ids)
        try:
            key, record = self._keys().create(
                sorted(sites) if sites is not None else [],
                sorted(set(scopes)),
                name=name,
                expires_days=expires_days,
                rate_limit=rate_limit or DEFAULT_RATE_LIMIT,
                owner=caller.principal.label(),
                org_id=org_id,
            )
        except InvalidKeyRequest as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        self._record(
            caller,
            "api_key.create",
            org_id=org_id,
            target=("api_key", record.key_id),
            details={"name": name, "scopes": list(record.scopes), "sites": list(record.site_ids) or None},
        )
        return key, record

    def revoke_api_key(self, caller: Caller, org_id: str, key_id: str) -> ApiKey:
        self.org_for(caller, org_id, P.API_KEYS_WRITE, "api_key.revoke")
        if all(key.key_id != key_id for key in self._org_keys(org_id)):
            raise not_found("API key")
        revoked = self._keys().revoke(key_id)
        if revoked is None:
            raise not_found("API key")
        self._record(caller, "api_key.revoke", org_id=org_id, target=("api_key", key_id))
        return revoked

    # ------------------------------------------------------------------ shared links

    def list_shared_links(self, caller: Caller, site_id: str) -> list[SharedLink]:
        site = self.site_for(caller, site_id, P.SHARED_LINKS_READ)
        return self.links.list(site.site_id)

    def create_shared_link(
        self, caller: Caller, site_id: str, name: str = "", password: str | None = None
    ) -> tuple[str, SharedLink]:
        site = self.site_for(caller, site_id, P.SHARED_LINKS_WRITE, "shared_link.create")
        try:
            token, link = self.links.create(
                site.site_id, site.org_id, name=name, password=password, created_by=caller.principal.label()
            )
        except ValueError as exc:
            raise RequestError(400, "invalid_request", str(exc)) from None
        self._record(
            caller,
            "shared_link.create",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("shared_link", link.link_id),
            details={"name": link.name, "password_protected": link.protected},
        )
        return token, link

    def revoke_shared_link(self, caller: Caller, site_id: str, link_id: str) -> SharedLink:
        site = self.site_for(caller, site_id, P.SHARED_LINKS_WRITE, "shared_link.revoke")
        link = self.links.revoke(site.site_id, link_id) if link_id.isalnum() else None
        if link is None:
            raise not_found("shared link")
        self._record(
            caller,
            "shared_link.revoke",
            org_id=site.org_id,
            site_id=site.site_id,
            target=("shared_link", link_id),
        )
        return link

    def open_shared_link(
        self, context: RequestContext, token: str, password: str | None
    ) -> tuple[Session, Site]:
        """Anyone with the link: a session token for `stats:read` on its site (audited both ways)."""
        try:
            session = self.links.open_session(token, password)
        except SharedLinkError as exc:
            site_id, link_id = _link_parts(token)
            link = self.links.get(site_id, link_id) if site_id else None
            if link is not None:
                anonymous = Principal(kind="shared_link", id=link.link_id)
                self.audit.record(
                    [
                        audit_row(
                            anonymous,
                            "shared_link.open",
                            org_id=link.org_id,
                            site_id=link.site_id,
                            outcome="denied",
                            target=("shared_link", link.link_id),
                            details={"reason": str(exc)},
                            context=context,
                        )
                    ]
                )
            if isinstance(exc, TooManyAttempts):
                raise RequestError(429, "too_many_attempts", str(exc)) from None
            raise RequestError(401, "unauthorized", "unknown link or wrong password") from None
        site = self.sites.by_id(session.link.site_id)
        if site is None:
            raise RequestError(401, "unauthorized", "unknown link or wrong password")
        anonymous = Principal(kind="shared_link", id=session.link.link_id)
        self.audit.record(
            [
                audit_row(
                    anonymous,
                    "shared_link.open",
                    org_id=site.org_id,
                    site_id=site.site_id,
                    target=("shared_link", session.link.link_id),
                    context=context,
                )
            ]
        )
        return session, site

    # ------------------------------------------------------------------ audit and usage

    def read_audit(self, caller: Caller, query: AuditQuery) -> list[dict[str, Any]]:
        self.org_for(caller, query.org_id, P.AUDIT_READ)
        if self.warehouse is None:
            raise RuntimeError("no warehouse configured")
        return read_audit(self.warehouse(), query)

    def usage(self, caller: Caller, org_id: str, month: date) -> Usage:
        org = self.org_for(caller, org_id, P.USAGE_READ)
        if self.warehouse is None:
            raise RuntimeError("no warehouse configured")
        return usage_of(self.warehouse(), org.org_id, self.orgs.site_ids(org.org_id), org.event_limit, month)

    def check_usage(self, month: date) -> list[Usage]:
        """The hourly check: every organisation with a limit, stored; those over it returned."""
        if self.warehouse is None or self.usage_records is None:
            raise RuntimeError("no warehouse configured")
        over = []
        for org in self.orgs.all():
            if org.event_limit is None:
                continue
            usage = usage_of(
                self.warehouse(), org.org_id, self.orgs.site_ids(org.org_id), org.event_limit, month
            )
            self.usage_records.save(usage)
            if usage.over_limit:
                over.append(usage)
        return over

    def usage_warning(self, org_id: str, month: str) -> str | None:
        """The stored figure's warning, for the `X-Touchline-Usage-Warning` header."""
        if self.usage_records is None:
            return None
        last = self.usage_records.last(org_id, month)
        return last.warning() if last else None

    # ------------------------------------------------------------------ sign-ins

    def record_sign_in(self, caller: Caller, session_id: str) -> None:
        """A person's first request with a new Cognito session: one row per organisation."""
        self.audit.record(sign_in_rows(caller.principal, session_id, caller.context))


def org_body(org: Organisation) -> dict[str, Any]:
    return {
        "org_id": org.org_id,
        "name": org.name,
        "created_at": org.created_at,
        "event_limit": org.event_limit,
    }


def _plausible_id(value: str) -> bool:
    return 0 < len(value) <= 64 and value.replace("_", "").replace("-", "").isalnum()


def _link_parts(token: str) -> tuple[str, str]:
    body = token.strip().removeprefix("tlsh_").split(".")
    if len(body) == 3 and all(part.isalnum() for part in body[:2]):
        return body[0], body[1]
    return "", ""


def _given(categories: Any) -> dict[str, Any]:
    """The purposes a change names categories for (the API's model leaves the others None)."""
    return {k: v for k, v in (categories or {}).items() if v is not None}


def _plain(changes: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, Decimal | datetime) else v) for k, v in changes.items() if v is not None
    }


def _goal_details(goal: ConversionGoal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "track_method": goal.track_method,
        "event_name": goal.event_name or None,
        "page_pattern": goal.page_pattern or None,
        "properties": dict(goal.properties) or None,
        "value": str(goal.value) if goal.value is not None else None,
        "currency": goal.currency,
        "active": goal.active,
    }
