"""What the sweep tells a waiting customer, in the customer's language. Pure.

The texts go into the ticket's history (and from there into the reminder and
closing mails and the portal), so they depend on nothing but the ticket and
rules.yaml: two clones that sweep the same ticket write the very same words.
"""

from __future__ import annotations

REMINDER = {
    "en": "Reminder {number}: we have been waiting for your reaction since {since} ({days} working days).",
    "nl": "Herinnering {number}: we wachten sinds {since} op uw reactie ({days} werkdagen).",
    "fr": "Rappel {number} : nous attendons votre réaction depuis le {since} ({days} jours ouvrables).",
    "de": "Erinnerung {number}: Wir warten seit {since} auf Ihre Rückmeldung ({days} Arbeitstage).",
}
CLOSES = {
    "en": "Without a reaction the ticket closes on {closes}.",
    "nl": "Zonder reactie sluiten we het ticket op {closes}.",
    "fr": "Sans réaction, le ticket sera clôturé le {closes}.",
    "de": "Ohne Rückmeldung schließen wir das Ticket am {closes}.",
}
AUTO_CLOSED = {
    "en": "Closed without a reaction in {days} working days (we had been waiting for your reaction since {since}). "
    "A new ticket can always be opened.",
    "nl": "Afgesloten zonder reactie binnen {days} werkdagen (we wachtten sinds {since} op uw reactie). "
    "U kunt altijd een nieuw ticket aanmaken.",
    "fr": "Clôturé sans réaction en {days} jours ouvrables (nous attendions votre réaction depuis le {since}). "
    "Vous pouvez toujours ouvrir un nouveau ticket.",
    "de": "Ohne Rückmeldung innerhalb von {days} Arbeitstagen geschlossen "
    "(wir warteten seit {since} auf Ihre Rückmeldung). Sie können jederzeit ein neues Ticket eröffnen.",
}


def reminder(language: str, number: int, since: str, days: int, closes: str | None) -> str:
    """The reminder's text, with the day the ticket will close when the sweep closes tickets."""
    text = REMINDER.get(language, REMINDER["en"]).format(number=number, since=since, days=days)
    if closes is None:
        return text
    return f"{text} {CLOSES.get(language, CLOSES['en']).format(closes=closes)}"


def auto_closed(language: str, days: int, since: str) -> str:
    """The resolution (and history text) of a ticket the sweep closed."""
    return AUTO_CLOSED.get(language, AUTO_CLOSED["en"]).format(days=days, since=since)
