"""What the sweep tells a waiting customer, in the customer's language. Pure.

The texts go into the ticket's history (and from there into the reminder and
closing mails and the portal), so they depend on nothing but the ticket and
rules.yaml: two clones that sweep the same ticket write the very same words.
"""

from __future__ import annotations

REMINDER = {
    "en": "Reminder {number}: we have been waiting for your reaction since {since} ({days}).",
    "nl": "Herinnering {number}: we wachten sinds {since} op uw reactie ({days}).",
    "fr": "Rappel {number}\u00a0: nous attendons votre réaction depuis le {since} ({days}).",
    "de": "Erinnerung {number}: Wir warten seit {since} auf Ihre Rückmeldung ({days}).",
}
CLOSES = {
    "en": "Without a reaction the ticket closes on {closes}.",
    "nl": "Zonder reactie sluiten we het ticket op {closes}.",
    "fr": "Sans réaction, le ticket sera clôturé le {closes}.",
    "de": "Ohne Rückmeldung schließen wir das Ticket am {closes}.",
}
# "1 working day", "5 working days"; German counts in the dative after "innerhalb von" (5 Arbeitstagen)
WORKING_DAYS = {
    "en": ("working day", "working days"),
    "nl": ("werkdag", "werkdagen"),
    "fr": ("jour ouvrable", "jours ouvrables"),
    "de": ("Arbeitstag", "Arbeitstage"),
}
WORKING_DAYS_DATIVE = {"de": ("Arbeitstag", "Arbeitstagen")}
AUTO_CLOSED = {
    "en": "Closed without a reaction in {days} (we had been waiting for your reaction since {since}). "
    "A new ticket can always be opened.",
    "nl": "Afgesloten zonder reactie binnen {days} (we wachtten sinds {since} op uw reactie). "
    "U kunt altijd een nieuw ticket aanmaken.",
    "fr": "Clôturé sans réaction en {days} (nous attendions votre réaction depuis le {since}). "
    "Vous pouvez toujours ouvrir un nouveau ticket.",
    "de": "Ohne Rückmeldung innerhalb von {days} geschlossen "
    "(wir warteten seit {since} auf Ihre Rückmeldung). Sie können jederzeit ein neues Ticket eröffnen.",
}


def reminder(language: str, number: int, since: str, days: int, closes: str | None) -> str:
    """The reminder's text, with the day the ticket will close when the sweep closes tickets."""
    text = REMINDER.get(language, REMINDER["en"]).format(number=number, since=since, days=_days(language, days))
    if closes is None:
        return text
    return f"{text} {CLOSES.get(language, CLOSES['en']).format(closes=closes)}"


def auto_closed(language: str, days: int, since: str) -> str:
    """The resolution (and history text) of a ticket the sweep closed."""
    counted = _days(language, days, WORKING_DAYS_DATIVE)
    return AUTO_CLOSED.get(language, AUTO_CLOSED["en"]).format(days=counted, since=since)


def _days(language: str, days: int, forms: dict[str, tuple[str, str]] | None = None) -> str:
    singular, plural = (forms or {}).get(language) or WORKING_DAYS.get(language, WORKING_DAYS["en"])
    return f"{days} {singular if days == 1 else plural}"
