"""The desk's announcements page: every current announcement and those of the last months. Pure.

Unlike a portal, this page is the desk's: it names the customers each
announcement concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sdesk.policy.rules import Rules
from sdesk.service.announcements import Announcement, concerned_customers
from sdesk.website.phrases import phrases
from sdesk.website.portal import PublicAnnouncement, public_announcement

ARCHIVE_DAYS = 90


@dataclass(frozen=True)
class Notice:
    announcement: PublicAnnouncement
    concerns: str


def notices(announcements: Iterable[Announcement], rules: Rules, now: datetime) -> list[Notice]:
    """Current announcements first (soonest first), then the past ones, latest first."""
    words = phrases(rules.language)
    found = []
    for announcement in announcements:
        shown = public_announcement(announcement, rules, rules.language, now)
        if not shown.current and now - announcement.start > timedelta(days=ARCHIVE_DAYS):
            continue
        found.append((announcement.start, Notice(shown, _concerns(announcement, rules, words))))
    current = sorted((item for item in found if item[1].announcement.current), key=lambda item: item[0])
    past = sorted((item for item in found if not item[1].announcement.current), key=lambda item: item[0], reverse=True)
    return [notice for _, notice in current + past]


def _concerns(announcement: Announcement, rules: Rules, words: dict[str, str]) -> str:
    if announcement.customers:
        return ", ".join(rules.customers[key].name if key in rules.customers else key for key in announcement.customers)
    if announcement.service is None:
        return words["all_customers"]
    product = rules.products.get(announcement.service)
    names = ", ".join(rules.customers[key].name for key in concerned_customers(announcement, rules))
    service = product.name if product is not None else announcement.service
    return f"{words['all_customers_of'].format(service=service)} ({names})" if names else service
