"""Rule 2: minors are not discoverable; suspicious adults are hidden from minors."""

from __future__ import annotations

import enum
from dataclasses import replace

from fulcrum.safety.core import DAY, facts
from fulcrum.safety.decisions import Action, Decision, RuleId
from fulcrum.safety.messaging import MessageChecks
from fulcrum.safety.store import AccountRecord


class Surface(enum.StrEnum):
    SEARCH = "search"
    SUGGESTIONS = "suggestions"
    CONTACT_LIST = "contact_list"  # appearing in someone else's visible contact list


class DiscoveryRules(MessageChecks):
    # ---- rule 2: discovery -------------------------------------------------------------------
    def discoverable(
        self, viewer: str, target: str, now: float, surface: Surface = Surface.SEARCH
    ) -> bool:
        """May ``viewer`` find ``target`` in search, suggestions or a visible contact list?"""
        return self.explain_discoverable(viewer, target, now, surface) is None

    def explain_discoverable(
        self, viewer: str, target: str, now: float, surface: Surface = Surface.SEARCH
    ) -> Decision | None:
        """None when ``target`` may be shown to ``viewer``; else the HIDE decision (counted)."""
        if viewer == target:
            return None
        v_rec, t_rec = self.store.account(viewer), self.store.account(target)
        decision: Decision | None = None
        if self.store.is_blocked(target, viewer) or self.store.is_blocked(viewer, target):
            text = f"hidden by rule {RuleId.BLOCKED.value}: '{viewer}' and '{target}' have a block"
            decision = Decision(Action.HIDE, RuleId.BLOCKED, text, now, target)
        elif self.connected(viewer, target, v_rec):
            return None
        elif self.is_minor(t_rec, now):
            if self._suggested_via_mutuals(viewer, v_rec, target, now, surface):
                return None
            rule = RuleId.NOT_DISCOVERABLE
            decision = Decision(
                Action.HIDE, rule, f"hidden by rule {rule.value}: minor '{target}' is not shown in "
                f"{surface.value} to '{viewer}', who is not a connection", now, target,
                evidence=facts(surface=surface.value, connected=False),
            )  # fmt: skip
        elif self.is_minor(v_rec, now) and self.criteria(target, now):
            decision = self.suspicious_block(target, viewer, now, target)
            decision = replace(
                decision,
                action=Action.HIDE,
                rule_id=RuleId.SUSPICIOUS_HIDE,
                explanation=decision.explanation.replace(
                    f"refused by rule {RuleId.SUSPICIOUS_BLOCK.value}",
                    f"hidden by rule {RuleId.SUSPICIOUS_HIDE.value}",
                ),
            )
        if decision is not None:
            self.store.count_decision(int(now // DAY), decision.rule_id, decision.action)
        return decision

    def _suggested_via_mutuals(
        self, viewer: str, v_rec: AccountRecord | None, target: str, now: float, surface: Surface
    ) -> bool:
        return (
            surface is Surface.SUGGESTIONS
            and self.policy.discovery.minors_suggested_to_minors_with_mutual_contacts
            and self.is_minor(v_rec, now)
            and bool(set(self.store.contacts(viewer)) & set(self.store.contacts(target)))
        )

    def contact_list_visible(self, viewer: str, owner: str, now: float) -> bool:
        """A minor's contact list is visible to nobody but the minor."""
        return viewer == owner or not self.is_minor(self.store.account(owner), now)
