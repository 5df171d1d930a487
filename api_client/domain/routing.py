"""Which routing rule decides where a request goes."""

from __future__ import annotations

from collections.abc import Iterable

from api_client.models import ANY_COMMUNITY, RoutingRule


def rule_applies(rule: RoutingRule, category: str, community: str) -> bool:
    """Whether `rule` applies to a request of `category` in `community` ("" unknown)."""
    return rule.category == category and rule.community in (ANY_COMMUNITY, community)


def best_rule(rules: Iterable[RoutingRule], category: str, community: str) -> RoutingRule | None:
    """The rule that decides for a request of `category` in `community`: a rule naming the
    community beats a `*` rule (and with several of a kind, the smallest id wins)."""
    best: RoutingRule | None = None
    for rule in rules:
        if not rule_applies(rule, category, community):
            continue
        key = (rule.community == ANY_COMMUNITY, rule.id)
        if best is None or key < (best.community == ANY_COMMUNITY, best.id):
            best = rule
    return best
