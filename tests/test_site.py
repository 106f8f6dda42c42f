"""`sdesk export html`: customer portals, the desk dashboard and the announcements as a static site.

The clock is pinned at Monday 2026-11-23 10:00 in Brussels (conftest.NOW). Every
expectation below is worked out by hand from the example rules.yaml: the office
calendar is open mon-fri 09:00-12:00 and 13:00-17:00 (7 hours a day), the
standard plan gives P2 4h / 2 business days and P3 1 business day / 5 business
days, and a "business day" target is due at the same time on a later working day.

Most tests read one shared desk (the ``scenario`` fixture, built once through the
CLI with events at different moments and exported once); tests that change a
desk work on a copy of it or on a desk of their own.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import string
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from sdesk.calendar.durations import hours_minutes
from sdesk.cli import main
from sdesk.errors import SdeskError
from sdesk.formats import yamlio
from sdesk.policy import rules as policy
from sdesk.storage.store import Desk
from sdesk.tickets.model import Change, Event
from sdesk.website import charts, dashboard, keptpages, pages, portal, publish
from sdesk.website.phrases import PHRASES
from tests import test_sla
from tests.conftest import AGENT, NOW, REPO, TICKET_DEFAULTS, example_rules_text, ok

NOW_AT = datetime.fromisoformat(NOW)
MANIFEST = ".sdesk-site"
DESK_EMAIL = "servicedesk@caresolutions.example"

BRIGHTWAVE = {
    "--customer": "brightwave",
    "--requester": "olivia.hughes@brightwave.example",
    "--site": "5001",
    "--title": "Care dossier does not open",
    "--description": "The care dossier of resident 12 does not open.",
}
VANDIJK = {
    "--customer": "vandijk",
    "--requester": "m.devries@vandijk.example",
    "--product": "fleet-telemetry",
    "--site": "3001",
    "--title": "Vrachtwagen 17 stuurt geen positie door",
    "--description": "Sinds vanochtend komt er geen GPS-positie van vrachtwagen 17 binnen.",
}
FOD = {
    "--customer": "fod-digitaal",
    "--requester": "pieter.janssens@fod-dt.example",
    "--product": "web-platform",
    "--site": "4711",
    "--title": "Publieksportaal geeft foutmelding 500",
    "--description": "Het publieksportaal geeft een foutmelding 500 bij het inloggen.",
}
LES_TILLEULS = {  # a Walloon care home: French
    "--customer": "les-tilleuls",
    "--requester": "sophie.lambert@lestilleuls.example",
    "--site": "6101",
    "--title": "Le plan de soins ne s'imprime plus",
    "--description": "L'impression du plan de soins reste bloquée.",
}
ST_JOSEF = {  # a care home in Eupen: German
    "--customer": "st-josef",
    "--requester": "anna.schmitz@stjosef-eupen.example",
    "--site": "7101",
    "--title": "Pflegedossier öffnet nicht",
    "--description": "Das Pflegedossier von Bewohner 12 öffnet nicht mehr.",
}
SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_COMMENT = '"><img src=x onerror=alert(1)>'
# What the desk writes for itself in the scenario: never on a portal page.
INTERNAL_NOTE = "Geheime interne notitie: klant is lastig"
LATER_NOTE = "Tweede interne notitie"
TIME_NOTE = "Debugsessie met de logbestanden"
BILLABLE_NOTE = "Extra werk: index handmatig gecontroleerd"
PRIORITY_REASON = "Directie belde boos"
OVERRIDE_REASON = "Jan is nog geen referentiepersoon; Els gaf akkoord"
SWEEP_WORDS = ("Response target", "missed", "Herinnering 1")  # the breach's and the reminder's own text
SECRETS = (INTERNAL_NOTE, LATER_NOTE, TIME_NOTE, BILLABLE_NOTE, PRIORITY_REASON, OVERRIDE_REASON, *SWEEP_WORDS, AGENT)


# --- helpers -------------------------------------------------------------------------------


def at(moment: str) -> dict[str, str | None]:
    """SDESK_NOW for a wall-clock moment in Brussels; November is winter time (+01:00)."""
    return {"SDESK_NOW": moment if "+" in moment else f"{moment}:00+01:00"}


def refused(result: Result) -> str:
    """Exit 1 and exactly one line on stderr, `Error: …`; returns that line."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return str(lines[0])


def new(run: Callable[..., Result], when: str, base: dict[str, str] | None = None, *extra: str, **options: str) -> str:
    """Open a ticket at ``when`` through the CLI; returns its number."""
    values = dict(TICKET_DEFAULTS)
    values.update(base or {})
    values.update({f"--{key.replace('_', '-')}": value for key, value in options.items()})
    args = ["new", "--format", "json", *[part for pair in values.items() for part in pair], *extra]
    ticket: dict[str, Any] = json.loads(ok(run(*args, env=at(when))))
    return str(ticket["id"])


def act(run: Callable[..., Result], when: str, *args: str) -> str:
    return ok(run(*args, env=at(when)))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its relative path, with its bytes."""
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class Page(HTMLParser):
    """What a reader sees of a page: its text, links, table rows and list items."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.links: list[str] = []  # href of <a>
        self.other_hrefs: list[str] = []  # href of anything else (<link>)
        self.sources: list[str] = []
        self.rows: list[list[str]] = []
        self.items: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._item: list[str] | None = None
        self._skip = 0
        self._text: list[str] = []
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join("".join(self._text).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "html":
            self.lang = found.get("lang")
        if "href" in found:
            (self.links if tag == "a" else self.other_hrefs).append(found["href"] or "")
        if "src" in found:
            self.sources.append(found["src"] or "")
        if tag == "style":
            self._skip += 1
        if tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "li":
            self._item = []
        elif tag == "p" and self._item is not None:
            self._item.append(" | ")
        self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._skip -= 1
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None
        elif tag == "li" and self._item is not None:
            self.items.append(" ".join("".join(self._item).split()))
            self._item = None
        self._text.append(" ")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self._text.append(data)
        for collecting in (self._cell, self._item):
            if collecting is not None:
                collecting.append(data)


def page(path: Path) -> Page:
    return Page(read(path))


def history(path: Path) -> list[str]:
    """The items of a ticket page's history list, '<what> · <when> · <who> | <text>'."""
    html = read(path)
    section = html[html.index('<ol class="history">') :]
    return Page(section[: section.index("</ol>") + 5]).items


def next_step(path: Path) -> str:
    text = page(path).text
    found = re.search(r"(?:Volgende stap|Next step): (.*?) (?:Status )", text)
    assert found, text
    return found.group(1)


# --- the shared scenario -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario:
    root: Path  # the working directory the exports ran in
    desk: Path
    site: Path  # the whole site, exported at NOW
    zonnebloem: Path  # `--customer zonnebloem`
    brightwave: Path  # `--customer brightwave`
    ids: dict[str, str]
    message: str  # what the whole-site export printed

    def portal(self, customer: str) -> Path:
        return self.site / "customers" / customer

    def ticket_page(self, name: str, customer: str = "zonnebloem") -> Path:
        return self.portal(customer) / f"{self.ids[name]}.html"


def build_scenario(run: Callable[..., Result]) -> dict[str, str]:
    """A week of a desk, in the order it happened. Returns the ticket numbers by name."""
    ids: dict[str, str] = {}
    # Closed in early October: 52 days and 1 hour before NOW (summer time then, +02:00).
    ids["old"] = new(run, "2026-10-01T09:00:00+02:00", title="Export van het zorgdossier mislukt")
    act(run, "2026-10-02T10:00:00+02:00", "close", ids["old"], "--resolution", "Exportscript aangepast")
    # Closed a week ago, with a billable time entry afterwards.
    ids["closed"] = new(run, "2026-11-16T09:00", title="Zoekfunctie geeft geen resultaten")
    act(run, "2026-11-16T11:00", "comment", ids["closed"], "We herbouwen de zoekindex.")
    act(run, "2026-11-16T15:00", "close", ids["closed"], "--resolution", "Zoekindex opnieuw opgebouwd")
    act(run, "2026-11-16T15:30", "log", ids["closed"], "45m", "--billable", "--note", BILLABLE_NOTE)
    # Closed and reopened.
    ids["reopened"] = new(run, "2026-11-17T09:00", title="Zorgplan laadt traag")
    act(run, "2026-11-18T10:00", "close", ids["reopened"], "--resolution", "Cache geleegd")
    # Three tickets of Wednesday: one waits for the customer, one gets no answer in time, one is Brightwave's.
    ids["waiting"] = new(run, "2026-11-18T10:00", title="Bewonersfoto ontbreekt")
    ids["late"] = new(run, "2026-11-18T10:00", title="Afdrukvoorbeeld blijft leeg")
    ids["script"] = new(run, "2026-11-18T10:00", BRIGHTWAVE, title=SCRIPT_TITLE)
    act(
        run, "2026-11-18T10:30", "update", ids["waiting"], "--status", "waiting-for-customer", "--note", "Welke versie?"
    )
    act(run, "2026-11-19T09:00", "reopen", ids["reopened"], "--reason", "Het probleem is terug sinds vanochtend")
    act(run, "2026-11-19T14:00", "comment", ids["script"], IMG_COMMENT, "--from-customer")
    # Friday: a ticket opened on override for someone who is no reference person, and one of Van Dijk.
    ids["rich"] = new(
        run,
        "2026-11-20T09:00",
        None,
        "--override",
        OVERRIDE_REASON,
        requester="jan.nieuw@zonnebloem.example",
        contact_name="Jan Nieuw",
        contact_phone="+32 50 44 12 99",
    )
    ids["truck"] = new(run, "2026-11-20T09:00", VANDIJK)
    act(run, "2026-11-20T09:30", "comment", ids["rich"], INTERNAL_NOTE, "--internal")
    # The sweep: a reminder for the waiting ticket, breaches for the two unanswered ones.
    act(run, "2026-11-20T11:00", "sweep")
    act(run, "2026-11-20T11:30", "comment", ids["late"], "Sorry voor het wachten, we bekijken het nu.")
    act(run, "2026-11-20T11:45", "comment", ids["rich"], "We kijken ernaar.")
    act(run, "2026-11-20T12:00", "log", ids["rich"], "1h30m", "--note", TIME_NOTE)
    act(run, "2026-11-20T13:10", "priority", ids["rich"], "P2", "--reason", PRIORITY_REASON)
    act(
        run,
        "2026-11-20T14:00",
        "update",
        ids["rich"],
        "--status",
        "waiting-for-customer",
        "--note",
        "Kunt u een schermafdruk sturen?",
    )
    # Monday morning.
    ids["bright"] = new(run, "2026-11-23T09:00", BRIGHTWAVE)
    ids["bright_waiting"] = new(run, "2026-11-23T09:05", BRIGHTWAVE, title="Login page shows an error")
    act(run, "2026-11-23T09:15", "comment", ids["rich"], "Hier is de schermafdruk.", "--from-customer")
    act(
        run,
        "2026-11-23T09:20",
        "update",
        ids["bright_waiting"],
        "--status",
        "waiting-for-customer",
        "--note",
        "Which browser do you use?",
    )
    ids["fresh"] = new(run, "2026-11-23T09:30", title="Medicatielijst niet zichtbaar")
    act(run, "2026-11-23T09:40", "comment", ids["rich"], LATER_NOTE, "--internal")
    outage = ["--kind", "outage", "--title", "Zorgdossier traag op campus Brugge", "--start", "2026-11-23T08:30"]
    act(run, NOW, "announce", "new", *outage, "--customers", "zonnebloem")
    maintenance = ["--kind", "maintenance", "--title", "Care Dossier upgrade window"]
    act(run, NOW, "announce", "new", *maintenance, "--start", "2026-11-28T22:00", "--end", "2026-11-28T23:59")
    return ids


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("scenario")
    desk = root / "desk"
    (desk / "tickets").mkdir(parents=True)
    (desk / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("SDESK_DIR", "SDESK_USER", "SDESK_NOW", "GIT_DIR", "EDITOR", "VISUAL"):
            patch.delenv(name, raising=False)
        (root / "home").mkdir()
        patch.setenv("HOME", str(root / "home"))
        patch.setenv("GIT_CONFIG_NOSYSTEM", "1")
        patch.setenv("SDESK_USER", AGENT)
        patch.setenv("SDESK_NOW", NOW)
        patch.setenv("SDESK_DIR", str(desk))
        patch.chdir(root)
        runner = CliRunner()

        def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
            return runner.invoke(main, list(args), env=env, catch_exceptions=False)

        ids = build_scenario(run)
        message = ok(run("export", "html", "site"))
        ok(run("export", "html", "zonnebloem-only", "--customer", "zonnebloem"))
        ok(run("export", "html", "brightwave-only", "--customer", "brightwave"))
    return Scenario(root, desk, root / "site", root / "zonnebloem-only", root / "brightwave-only", ids, message.strip())


@pytest.fixture
def copied(scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the scenario's desk (rules, tickets, announcements), selected through SDESK_DIR."""
    root = tmp_path / "copy"
    shutil.copytree(scenario.desk, root, ignore=shutil.ignore_patterns(".sdesk", "outbox"))
    monkeypatch.setenv("SDESK_DIR", str(root))
    return root


@functools.cache
def RULES_AS_SHIPPED() -> policy.Rules:  # noqa: N802 - a constant, made once when first asked for
    return policy.parse(yamlio.load((REPO / "rules.yaml").read_text(encoding="utf-8"), REPO / "rules.yaml"))


def pages_of(scenario: Scenario) -> list[str]:
    """The 19 pages the scenario's site must have, worked out from the tickets above."""
    ids = scenario.ids
    listed = {
        "zonnebloem": ["rich", "waiting", "late", "reopened", "fresh", "closed"],
        "brightwave": ["bright", "bright_waiting", "script"],
        "vandijk": ["truck"],
        "fod-digitaal": [],
        "les-tilleuls": [],
        "st-josef": [],
    }
    names = ["index.html", "dashboard.html", "announcements.html"]
    for customer, tickets in listed.items():
        names.append(f"customers/{customer}/index.html")
        names += [f"customers/{customer}/{ids[name]}.html" for name in tickets]
    return sorted(names)


# --- layout and manifest ---------------------------------------------------------------------


def test_the_whole_site_has_the_desk_pages_a_portal_per_customer_and_a_page_per_listed_ticket(scenario):
    expected = pages_of(scenario)
    assert len(expected) == 19
    assert sorted(tree(scenario.site)) == sorted([*expected, MANIFEST])
    assert read(scenario.site / MANIFEST) == "".join(f"{name}\n" for name in expected)
    assert scenario.message == "Exported the site to site: 19 pages, 19 written, 0 unchanged, 0 removed."


def test_the_home_page_links_every_portal_with_its_counts(scenario):
    home = page(scenario.site / "index.html")
    assert home.lang == "nl"
    assert "Care Solutions Service Desk" in home.text
    assert set(home.links) == {
        "dashboard.html",
        "announcements.html",
        "customers/brightwave/index.html",
        "customers/fod-digitaal/index.html",
        "customers/les-tilleuls/index.html",
        "customers/st-josef/index.html",
        "customers/vandijk/index.html",
        "customers/zonnebloem/index.html",
    }
    assert home.rows == [
        ["Klant", "Open", "Gesloten in de laatste 30 dagen"],
        ["Brightwave Ltd", "3", "0"],
        ["FOD Digitale Transformatie", "0", "0"],
        ["Maison de repos Les Tilleuls", "0", "0"],
        ["Seniorenzentrum St. Josef", "0", "0"],
        ["Van Dijk Logistiek B.V.", "1", "0"],
        ["WZC De Zonnebloem", "5", "1"],
    ]


@pytest.mark.parametrize("customer", ["zonnebloem", "brightwave"])
def test_a_customer_export_is_that_customers_folder_of_the_whole_site_byte_for_byte(scenario, customer):
    alone = tree(getattr(scenario, customer))
    folder = tree(scenario.portal(customer))
    assert MANIFEST in alone
    manifest = alone.pop(MANIFEST).decode("utf-8")
    assert alone == folder
    assert manifest == "".join(f"{name}\n" for name in sorted(folder))


def test_clocks_kept_in_the_index_export_what_a_fresh_index_exports_at_another_moment_and_after_a_rules_edit(
    scenario, copied, monkeypatch
):
    monkeypatch.setattr("sdesk.storage.index.RECENT_NS", 0)  # the index trusts the files just copied
    runner = CliRunner()

    def exported(folder: str, fresh: bool) -> dict[str, bytes]:
        if fresh:
            shutil.rmtree(copied / ".sdesk" / "cache", ignore_errors=True)
        ok(runner.invoke(main, ["export", "html", str(copied.parent / folder)], catch_exceptions=False))
        return tree(copied.parent / folder)

    exported("warm-up", fresh=False)  # the open tickets' clock facts are kept now
    monkeypatch.setenv("SDESK_NOW", "2026-11-26T16:30:00+01:00")
    kept, worked_out = exported("kept", fresh=False), exported("fresh", fresh=True)
    assert kept == worked_out and kept != tree(scenario.site)
    rules = copied / "rules.yaml"
    rules.write_text(rules.read_text().replace("mon-fri: [09:00-12:00, 13:00-17:00]", "mon-fri: [08:00-18:00]"))
    exported("warm-up-2", fresh=False)
    assert exported("kept-2", fresh=False) == exported("fresh-2", fresh=True) != worked_out


def test_a_site_exported_again_into_its_folder_is_what_a_fresh_export_writes_whatever_changed_meanwhile(
    scenario, copied, monkeypatch
):
    """The pages kept from the last export are reused only while they read the same: across clocks turning
    overdue, a new year, a ticket's change, a desk template, a rules edit and a page edited in the folder."""
    monkeypatch.setattr("sdesk.storage.index.RECENT_NS", 0)  # the index trusts the files just copied
    monkeypatch.setattr("sdesk.website.publish.RECENT_NS", -(10**18))  # and the export the pages it just wrote
    rendered: list[str] = []
    render = pages.Templates.render
    monkeypatch.setattr(
        pages.Templates, "render", lambda self, name, values: rendered.append(name) or render(self, name, values)
    )
    runner, site = CliRunner(), copied.parent / "site"

    def ticket_pages() -> int:
        return sum(1 for name in tree(site) if name.startswith("customers/") and not name.endswith("/index.html"))

    def export_both(moment: str) -> int:
        """Exports into the site's folder and into a new one; says how many ticket pages were rendered."""
        monkeypatch.setenv("SDESK_NOW", moment)
        rendered.clear()
        ok(runner.invoke(main, ["export", "html", str(site)], catch_exceptions=False))
        again = rendered.count("ticket.html")
        fresh = copied.parent / f"fresh-{moment}"
        ok(runner.invoke(main, ["export", "html", str(fresh)], catch_exceptions=False))
        assert tree(site) == tree(fresh), moment
        return again

    assert export_both(NOW) == ticket_pages() == 10
    assert export_both(NOW) == 0  # nothing changed: no ticket page rendered again
    listing = runner.invoke(main, ["sla", "--within", "400h", "--format", "json"], catch_exceptions=False)
    assert listing.exit_code == 1  # some clocks are overdue already
    clocks = json.loads(listing.stdout)
    dues = sorted({clock["due"] for clock in clocks if clock["state"] == "running"})
    assert len(dues) >= 3
    for due in dues[:3]:  # a clock turns overdue: its ticket's page alone is made again
        assert export_both(due) == 0, due  # at the due moment itself it is on time
        just_after = (datetime.fromisoformat(due) + timedelta(seconds=1)).isoformat()
        assert 0 < export_both(just_after) < ticket_pages(), due
    assert export_both("2027-01-02T10:00:00+01:00") == ticket_pages()  # a new year: every date says its year
    act_at = "2027-01-02T10:05"
    ok(
        runner.invoke(
            main, ["comment", scenario.ids["rich"], "Nog even geduld."], env=at(act_at), catch_exceptions=False
        )
    )
    assert export_both("2027-01-02T10:10:00+01:00") == 1
    write_template(
        copied, "ticket.html", '{% extends "base.html" %}{% block main %}<h1>{{ ticket.title }}</h1>{% endblock %}'
    )
    assert export_both("2027-01-02T10:11:00+01:00") == ticket_pages()
    rules = copied / "rules.yaml"
    rules.write_text(rules.read_text().replace("mon-fri: [09:00-12:00, 13:00-17:00]", "mon-fri: [08:00-18:00]"))
    assert export_both("2027-01-02T10:12:00+01:00") == ticket_pages()
    edited = site / "customers" / "zonnebloem" / f"{scenario.ids['rich']}.html"
    edited.write_text("defaced", encoding="utf-8")
    assert export_both("2027-01-02T10:12:00+01:00") == 1
    assert "defaced" not in edited.read_text(encoding="utf-8")


def test_a_partial_or_a_linked_override_edited_since_the_last_export_is_seen(desk, run, new_ticket, monkeypatch):
    monkeypatch.setattr("sdesk.website.publish.RECENT_NS", -(10**18))  # the pages just written are trusted
    ticket = new_ticket()["id"]
    shared = desk / "shared.html"
    shared.write_text('{% extends "base.html" %}{% block main %}{% include "parts/extra.html" %}{% endblock %}\n')
    (desk / "templates" / "html" / "parts").mkdir(parents=True)
    folder = write_template(desk, "parts/extra.html", "<p>Notice one</p>\n").parent.parent
    (folder / "ticket.html").symlink_to(Path("..", "..", "shared.html"))
    ok(run("export", "html", "site"))
    ok(run("export", "html", "site"))
    (folder / "parts" / "extra.html").write_text("<p>Notice two</p>\n")
    ok(run("export", "html", "site"))
    assert "Notice two" in read(Path("site", "customers", "zonnebloem", f"{ticket}.html"))
    shared.write_text('{% extends "base.html" %}{% block main %}<p>Linked three</p>{% endblock %}\n')
    ok(run("export", "html", "site"))
    assert "Linked three" in read(Path("site", "customers", "zonnebloem", f"{ticket}.html"))


def test_a_ticket_page_knows_whose_portal_it_is_but_not_the_other_tickets(desk, run, new_ticket):
    new_ticket()
    write_template(desk, "ticket.html", '{% extends "base.html" %}{% block main %}{{ portal.name }}{% endblock %}\n')
    ok(run("export", "html", "site"))
    write_template(
        desk, "ticket.html", '{% extends "base.html" %}{% block main %}{{ portal.open | length }}{% endblock %}\n'
    )
    error = refused(run("export", "html", "site"))
    assert error.startswith("Error: desk/templates/html/ticket.html:1: html template ticket.html: ") and "open" in error


def test_a_cache_of_kept_pages_that_cannot_be_trusted_or_written_changes_nothing_but_speed(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    ok(run("export", "html", "site"))
    expected = tree(Path("site"))
    (cache,) = (desk / ".sdesk" / "cache").glob("site-*.json")
    kept = json.loads(cache.read_text())
    kept[0][ticket][1] = "2026-01-01T00:00:00"  # a moment without its offset could not be compared with now
    cache.write_text(json.dumps(kept))
    ok(run("export", "html", "site"))
    assert tree(Path("site")) == expected
    cache.unlink()
    cache.mkdir()  # the cache cannot be written: the published site still stands, and the export says so
    ok(run("export", "html", "site"))
    assert tree(Path("site")) == expected


def test_a_kept_view_keeps_the_offsets_of_its_moments(tmp_path, scenario):
    rules, now = RULES_AS_SHIPPED(), datetime.fromisoformat(NOW)
    ticket = Desk(scenario.desk).read(scenario.ids["rich"])
    made = portal.public_ticket_and_span(ticket, rules, "nl", now)
    first = keptpages.KeptPages(tmp_path, tmp_path / "site", None, b"shared", now)
    first.view(ticket, "nl", lambda: made)
    first.save({})
    again = keptpages.KeptPages(tmp_path, tmp_path / "site", None, b"shared", now + timedelta(seconds=1))
    view = again.view(ticket, "nl", lambda: pytest.fail("made again"))
    assert view == made[0]
    assert [event.at.utcoffset() for event in view.history] == [event.at.utcoffset() for event in made[0].history]
    assert view.updated_at.isoformat() == made[0].updated_at.isoformat()


def test_out_as_a_link_loop_is_a_one_line_error(desk, run):
    Path("loop-a").symlink_to("loop-b")
    Path("loop-b").symlink_to("loop-a")
    assert refused(run("export", "html", "loop-a")).startswith("Error: ")


def test_the_customer_export_says_whose_portal_it_wrote(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    result = run("export", "html", "portal", "--customer", "zonnebloem")
    assert (
        ok(result)
        == "Exported the portal of WZC De Zonnebloem to portal: 2 pages, 2 written, 0 unchanged, 0 removed.\n"
    )
    assert result.stderr == "Open portal/index.html in a browser.\n"
    assert sorted(tree(Path("portal"))) == [MANIFEST, f"{ticket}.html", "index.html"]


# --- what a portal lists -------------------------------------------------------------------


def test_a_portal_lists_open_and_recently_closed_tickets_of_its_customer_only(scenario):
    ids = scenario.ids
    zonnebloem = page(scenario.portal("zonnebloem") / "index.html")
    open_ids = {ids[name] for name in ("rich", "waiting", "late", "reopened", "fresh")}
    assert set(zonnebloem.links) == {f"{number}.html" for number in (*open_ids, ids["closed"])}
    assert "Openstaande tickets (5)" in zonnebloem.text
    closed_row = next(row for row in zonnebloem.rows if row[0] == ids["closed"])
    assert closed_row == [
        ids["closed"],
        "Zoekfunctie geeft geen resultaten",
        "maandag 16 november om 15:00",
        "Zoekindex opnieuw opgebouwd",
    ]
    assert ids["old"] not in read(scenario.portal("zonnebloem") / "index.html")
    assert not (scenario.portal("zonnebloem") / f"{ids['old']}.html").exists()


def test_other_customers_tickets_never_appear_on_a_portal(scenario):
    ids = scenario.ids
    foreign = {
        "zonnebloem": [ids["bright"], ids["script"], ids["truck"], "Login page shows an error", "Vrachtwagen 17"],
        "brightwave": [ids["rich"], ids["closed"], ids["truck"], "Zorgdossier opent niet", "Vrachtwagen 17"],
        "vandijk": [ids["rich"], ids["bright"], "Zorgdossier opent niet", "Care dossier does not", "alert(1)"],
        "fod-digitaal": [ids["rich"], ids["bright"], ids["truck"], "Zorgdossier opent", "Care dossier does", "Vracht"],
    }
    for customer, never in foreign.items():
        for path in scenario.portal(customer).iterdir():
            html = read(path)
            for text in never:
                assert text not in html, (path, text)
    assert "U hebt geen openstaande tickets." in page(scenario.portal("fod-digitaal") / "index.html").text


def test_portal_pages_only_link_to_pages_of_their_own_folder(scenario):
    for folder in sorted((scenario.site / "customers").iterdir()):
        names = {path.name for path in folder.iterdir()}
        for path in folder.iterdir():
            shown = page(path)
            if path.name != "index.html":
                assert shown.links == ["index.html"], path  # a ticket page: back to the list
            for link in shown.links:
                assert "/" not in link and ".." not in link, (path, link)
                assert link in names, (path, link)
                assert link == "index.html" or re.fullmatch(r"[0-9A-Z]{6}-[0-9A-Z]{5}\.html", link), link
            # the only other reference is the favicon, inline, so the browser asks for nothing else
            assert shown.other_hrefs == ["data:,"], path
            assert shown.sources == [], path


@pytest.mark.parametrize(("days", "listed"), [(52, False), (53, True)])
def test_recent_decides_how_long_a_closed_ticket_stays(scenario, run, monkeypatch, days, listed):
    # "old" was closed on Friday 2 October 10:00 (+02:00): 52 days and 1 hour before NOW.
    monkeypatch.setenv("SDESK_DIR", str(scenario.desk))
    ok(run("export", "html", "recent", "--customer", "zonnebloem", "--recent", str(days)))
    index = page(Path("recent/index.html"))
    assert f"Gesloten in de laatste {days} dagen" in index.text
    old = scenario.ids["old"]
    assert Path(f"recent/{old}.html").exists() is listed
    assert (f"{old}.html" in index.links) is listed
    if listed:
        row = next(row for row in index.rows if row[0] == old)
        assert row[2:] == ["vrijdag 2 oktober om 10:00", "Exportscript aangepast"]


def test_recent_must_be_at_least_one_day(desk, run):
    result = run("export", "html", "site", "--recent", "0")
    assert result.exit_code == 2
    assert "--recent" in result.stderr
    assert not Path("site").exists()


# --- a ticket's public history ------------------------------------------------------------------


def test_the_public_history_leaves_out_what_the_desk_wrote_for_itself(scenario):
    path = scenario.ticket_page("rich")
    assert history(path) == [
        "Ticket geregistreerd · vrijdag 20 november om 09:00 · Business Service Desk",
        "Bericht · vrijdag 20 november om 11:45 · Business Service Desk | We kijken ernaar.",
        "Status: Wacht op reactie klant · vrijdag 20 november om 14:00 · Business Service Desk"
        " | Kunt u een schermafdruk sturen?",
        "Bericht · maandag 23 november om 09:15 · Jan Nieuw | Hier is de schermafdruk.",
    ]
    html = read(path)
    for secret in SECRETS:
        assert secret not in html, secret
    assert not re.search(r"\b1:30\b|\b1h ?30m\b", page(path).text)  # nor the time entry's length


def test_the_ticket_page_facts_and_its_last_public_update(scenario):
    shown = page(scenario.ticket_page("rich"))
    facts = shown.text
    for expected in (
        "Status In behandeling",
        "Prioriteit P2",
        "Soort Storing",
        "Product Care Dossier",
        "Site Campus Brugge (2101)",
        "Aangevraagd door Jan Nieuw",
        "Geopend vrijdag 20 november om 09:00",
        # the internal note of 09:40 is no news to the customer
        "Laatst bijgewerkt maandag 23 november om 09:15",
    ):
        assert expected in facts, expected
    # P2 since 13:10: 4h to answer (met at 11:45) and 2 business days to solve, paused while waiting
    # from Friday 14:00 to Monday 09:15: 4h used on Friday, 10h left = Mon 2h45m + 4h, Tue 3h + 15m.
    assert shown.items[:2] == [
        "Beantwoord vrijdag 20 november om 11:45",
        "Oplossing uiterlijk dinsdag 24 november om 13:15",
    ]
    assert (
        next_step(scenario.ticket_page("rich")) == "We werken eraan; oplossing uiterlijk dinsdag 24 november om 13:15."
    )
    assert shown.links == ["index.html"]


def test_closing_and_reopening_show_the_resolution_and_the_reason(scenario):
    path = scenario.ticket_page("reopened")
    assert history(path) == [
        "Ticket geregistreerd · dinsdag 17 november om 09:00 · Business Service Desk",
        "Gesloten · woensdag 18 november om 10:00 · Business Service Desk | Cache geleegd",
        "Heropend · donderdag 19 november om 09:00 · Business Service Desk | Het probleem is terug sinds vanochtend",
    ]
    # The resolution clock starts again at the reopening: 5 business days from Thursday 09:00.
    assert next_step(path) == "We werken eraan; oplossing uiterlijk donderdag 26 november om 09:00."
    assert "<h2>Oplossing</h2>" not in read(path)  # the old resolution went with the reopening


def test_a_recently_closed_ticket_says_when_it_closed_and_how(scenario):
    path = scenario.ticket_page("closed")
    assert history(path) == [
        "Ticket geregistreerd · maandag 16 november om 09:00 · Business Service Desk",
        "Bericht · maandag 16 november om 11:00 · Business Service Desk | We herbouwen de zoekindex.",
        "Gesloten · maandag 16 november om 15:00 · Business Service Desk | Zoekindex opnieuw opgebouwd",
    ]
    assert next_step(path) == (
        "Gesloten op maandag 16 november om 15:00. "
        "Toch niet opgelost? Antwoord op onze laatste mail en we heropenen het."
    )
    text = page(path).text
    assert "Laatst bijgewerkt maandag 16 november om 15:00" in text  # not 15:30, the time entry
    assert "Gesloten maandag 16 november om 15:00" in text
    assert "Oplossing Zoekindex opnieuw opgebouwd" in text
    assert "Servicetermijnen" not in text
    assert "0:45" not in text and BILLABLE_NOTE not in text


def test_a_reminder_shows_as_its_phrase_and_a_breach_not_at_all(scenario):
    waiting = scenario.ticket_page("waiting")
    assert history(waiting) == [
        "Ticket geregistreerd · woensdag 18 november om 10:00 · Business Service Desk",
        "Status: Wacht op reactie klant · woensdag 18 november om 10:30 · Business Service Desk | Welke versie?",
        "Herinnering: we wachten op uw reactie · vrijdag 20 november om 10:30 · Business Service Desk",
    ]
    assert next_step(waiting) == "Aan u (Wacht op reactie klant): graag een reactie op ons laatste bericht."
    assert page(waiting).items[:2] == [
        "Beantwoord woensdag 18 november om 10:30",
        "Oplossing: de klok staat stil zolang het ticket wacht op reactie klant is",
    ]
    late = scenario.ticket_page("late")
    assert history(late) == [
        "Ticket geregistreerd · woensdag 18 november om 10:00 · Business Service Desk",
        "Bericht · vrijdag 20 november om 11:30 · Business Service Desk | Sorry voor het wachten, we bekijken het nu.",
    ]
    ticket = Desk(scenario.desk).read(scenario.ids["late"])
    assert [event.kind for event in ticket.history] == ["created", "breach", "comment"]  # the sweep did record it
    for path in (waiting, late):
        for secret in SECRETS:
            assert secret not in read(path), (path, secret)


def test_a_ticket_the_sweep_closed_and_a_resolved_outage(desk, run):
    ticket = new(run, "2026-11-02T09:00")
    act(run, "2026-11-02T10:00", "update", ticket, "--status", "waiting-for-customer", "--note", "Graag meer info.")
    for day in ("04", "06", "09"):  # reminders after 2 and 4 working days, closed after 5: dated when due
        act(run, f"2026-11-{day}T11:00", "sweep")
    start = ["--kind", "outage", "--title", "Zorgdossier onbereikbaar", "--start", "2026-11-05T08:00"]
    outage = act(run, "2026-11-05T09:00", "announce", "new", *start, "--customers", "zonnebloem").split()[1].rstrip(":")
    act(run, "2026-11-05T12:00", "announce", "resolve", outage, "--note", "Databankserver herstart.")
    ok(run("export", "html", "site", "--customer", "zonnebloem"))
    items = history(Path(f"site/{ticket}.html"))
    assert items[:4] == [
        "Ticket geregistreerd · maandag 2 november om 09:00 · Business Service Desk",
        "Status: Wacht op reactie klant · maandag 2 november om 10:00 · Business Service Desk | Graag meer info.",
        "Herinnering: we wachten op uw reactie · woensdag 4 november om 10:00 · Business Service Desk",
        "Herinnering: we wachten op uw reactie · vrijdag 6 november om 10:00 · Business Service Desk",
    ]
    assert items[4].startswith("Gesloten: geen reactie · maandag 9 november om 10:00 · Business Service Desk")
    assert len(items) == 5
    assert next_step(Path(f"site/{ticket}.html")).startswith("Gesloten op maandag 9 november om 10:00.")
    assert "Herinnering 2" not in read(Path(f"site/{ticket}.html"))
    index = page(Path("site/index.html")).text
    assert "Eerdere meldingen Storing: Zorgdossier onbereikbaar" in index
    assert "Opgelost donderdag 5 november om 12:00 Databankserver herstart." in index  # when, then how
    # resolved 17 days and 22 hours before NOW
    ok(run("export", "html", "shorter", "--customer", "zonnebloem", "--recent", "17"))
    assert "Zorgdossier onbereikbaar" not in read(Path("shorter/index.html"))


def test_no_agent_address_on_any_portal_page(scenario):
    for path in sorted((scenario.site / "customers").rglob("*.html")):
        addresses = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", read(path)))
        assert addresses <= {DESK_EMAIL}, (path, addresses)


# --- language and words ------------------------------------------------------------------


def test_a_portal_speaks_its_customers_language(scenario):
    ids = scenario.ids
    bright = page(scenario.portal("brightwave") / "index.html")
    assert bright.lang == "en"
    assert "Open tickets (3)" in bright.text
    assert ["Number", "Title", "Status", "Priority", "Next step"] in bright.rows
    steps = {row[0]: row[4] for row in bright.rows if row[0] in ids.values()}
    assert steps == {
        ids["bright"]: "We answer by Tuesday 24 November at 09:00.",
        ids["bright_waiting"]: "Your turn (Waiting for customer): please reply to our last message.",
        ids["script"]: "Our answer is late: it was due Thursday 19 November at 10:00.",
    }
    zonnebloem = page(scenario.portal("zonnebloem") / "index.html")
    assert zonnebloem.lang == "nl"
    assert ["Nummer", "Titel", "Status", "Prioriteit", "Volgende stap"] in zonnebloem.rows
    fresh = next(row for row in zonnebloem.rows if row[0] == ids["fresh"])
    assert fresh[2:] == ["Open", "P3", "U krijgt een antwoord uiterlijk dinsdag 24 november om 09:30."]


def placeholders(phrase: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(phrase) if name}


@pytest.mark.parametrize("language", policy.LANGUAGES)
def test_every_phrase_is_said_in_every_language_with_what_the_english_one_is_given(language):
    words = PHRASES[language]
    assert words.keys() == PHRASES["en"].keys()
    assert words["lang"] == language  # the pages' <html lang>
    for key, english in PHRASES["en"].items():
        given = placeholders(english) | ({"label"} if "status" in placeholders(english) else set())
        assert placeholders(words[key]) <= given and words[key].strip(), (key, words[key])


def test_a_portal_says_what_falls_outside_the_contract_in_the_customers_language_else_in_english(desk, run):
    rules = read(desk / "rules.yaml")
    speaks = "    name: Brightwave Ltd\n    language: "
    (desk / "rules.yaml").write_text(rules.replace(f"{speaks}en", f"{speaks}fr"), encoding="utf-8")
    both = {"title": "Back-up van de labelprinter terugzetten", "category": "hardware"}  # hardware and backup
    bright = new(run, "2026-11-23T09:00", BRIGHTWAVE, "--accept-costs", **both)
    ours = new(run, "2026-11-23T09:05", None, "--accept-costs", **both)
    ok(run("export", "html", "site"))
    french = page(Path(f"site/customers/brightwave/{bright}.html"))
    assert french.lang == "fr" and "Hors contrat" in french.text
    assert (
        "Le matériel n'est pas couvert par le contrat. Nous établissons un diagnostic, vous informons et "
        "contactons au besoin le fournisseur ; la suite du travail peut être facturée."
    ) in french.items
    assert "Backups are not part of the contract; restoring one is billed separately." in french.items  # no French
    dutch = page(Path(f"site/customers/zonnebloem/{ours}.html"))
    assert "Buiten het contract" in dutch.text
    assert "Back-ups vallen niet onder het contract; een back-up herstellen wordt apart aangerekend." in dutch.items
    assert not [item for item in dutch.items if "Hardware falls" in item or "Backups are" in item]


def test_an_english_ticket_page(scenario):
    path = scenario.ticket_page("bright", "brightwave")
    shown = page(path)
    assert shown.lang == "en"
    assert next_step(path) == "We answer by Tuesday 24 November at 09:00."
    for expected in ("Status Open", "Type Incident", "Site London office (5001)", "Requested by Olivia Hughes"):
        assert expected in shown.text, expected
    assert shown.items == [
        "Answer due Tuesday 24 November at 09:00",
        "Solution due Monday 30 November at 09:00",  # 5 business days
        "Ticket registered · Monday 23 November at 09:00 · Business Service Desk",
    ]


def test_a_french_customers_portal_and_ticket_page_are_in_french(desk, run):
    ticket = new(run, "2026-11-23T09:00", LES_TILLEULS)  # P3: an answer within one business day
    ok(run("export", "html", "site"))
    index = page(Path("site/customers/les-tilleuls/index.html"))
    assert index.lang == "fr"
    assert "Vos tickets chez Care Solutions Service Desk" in index.text and "Tickets ouverts (1)" in index.text
    assert ["Numéro", "Titre", "Statut", "Priorité", "Prochaine étape"] in index.rows
    assert [
        ticket,
        "Le plan de soins ne s'imprime plus",
        "Ouvert",
        "P3",
        "Nous vous répondrons au plus tard le mardi 24 novembre à 09:00.",
    ] in index.rows
    shown = page(Path(f"site/customers/les-tilleuls/{ticket}.html"))
    assert shown.lang == "fr"
    for expected in ("Statut Ouvert", "Type Incident", "Site Namur (6101)", "Demandé par Sophie Lambert"):
        assert expected in shown.text, expected
    assert shown.items == [
        "Réponse au plus tard le mardi 24 novembre à 09:00",
        "Solution au plus tard le lundi 30 novembre à 09:00",  # 5 business days
        "Ticket enregistré · lundi 23 novembre à 09:00 · Business Service Desk",
    ]


def test_a_german_ticket_page_keeps_the_capitals_of_the_status_that_pauses_its_clocks(desk, run):
    ticket = new(run, "2026-11-23T09:00", ST_JOSEF)
    act(run, "2026-11-23T09:30", "update", ticket, "--status", "on-hold", "--note", "Wir warten auf den Lieferanten.")
    ok(run("export", "html", "site"))
    shown = page(Path(f"site/customers/st-josef/{ticket}.html"))
    assert shown.lang == "de"
    assert "Nächster Schritt: Zurückgestellt: Wir sagen Ihnen Bescheid, sobald die Arbeit weitergeht." in shown.text
    assert shown.items == [
        "Beantwortet am Montag, 23. November um 09:30",  # the status change with a note answered
        "Lösung: Die Frist ruht, solange das Ticket den Status „Zurückgestellt“ hat",
        "Ticket erfasst · Montag, 23. November um 09:00 · Business Service Desk",
        "Status: Zurückgestellt · Montag, 23. November um 09:30 · Business Service Desk | "
        "Wir warten auf den Lieferanten.",
    ]


def test_sla_clocks_in_dutch_words(scenario):
    assert page(scenario.ticket_page("fresh")).items[:2] == [
        "Antwoord uiterlijk dinsdag 24 november om 09:30",
        "Oplossing uiterlijk maandag 30 november om 09:30",
    ]
    assert page(scenario.ticket_page("script", "brightwave")).items[:2] == [
        "Answer was due Thursday 19 November at 10:00",
        "Solution due Wednesday 25 November at 10:00",
    ]


def test_a_date_of_another_year_keeps_its_year(desk, run):
    ticket = new(run, "2025-12-30T10:00")
    act(run, "2025-12-30T11:00", "comment", ticket, "We bekijken het.")
    ok(run("export", "html", "site"))
    assert history(Path(f"site/customers/zonnebloem/{ticket}.html")) == [
        "Ticket geregistreerd · dinsdag 30 december 2025 om 10:00 · Business Service Desk",
        "Bericht · dinsdag 30 december 2025 om 11:00 · Business Service Desk | We bekijken het.",
    ]


def test_a_portal_shows_its_own_announcements_only(scenario):
    zonnebloem = page(scenario.portal("zonnebloem") / "index.html").text
    assert "Storing: Zorgdossier traag op campus Brugge" in zonnebloem
    assert "Sinds maandag 23 november om 08:30 · Bezig" in zonnebloem
    # the maintenance concerns all customers
    assert "Gepland onderhoud: Care Dossier upgrade window" in zonnebloem
    bright = page(scenario.portal("brightwave") / "index.html").text
    assert "Planned maintenance: Care Dossier upgrade window" in bright
    assert "Saturday 28 November at 22:00 until Saturday 28 November at 23:59 · Planned" in bright
    assert "Zorgdossier traag" not in bright
    desk_page = page(scenario.site / "announcements.html").text
    assert "Storing: Zorgdossier traag op campus Brugge" in desk_page
    assert "Betreft: WZC De Zonnebloem" in desk_page
    assert "Betreft: Alle klanten" in desk_page


# --- escaping -------------------------------------------------------------------------------


def test_markup_in_a_title_or_a_comment_is_text_on_every_page(scenario):
    escaped_title = "&lt;script&gt;alert(1)&lt;/script&gt;"
    escaped_comment = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
    script = scenario.ticket_page("script", "brightwave")
    shown_on = {
        scenario.portal("brightwave") / "index.html",
        script,
        scenario.site / "dashboard.html",  # its answer is overdue
    }
    for path in shown_on:
        assert escaped_title in read(path), path
    assert escaped_comment in read(script)
    assert history(script)[1] == f"Message · Thursday 19 November at 14:00 · Olivia Hughes | {IMG_COMMENT}"
    for name, content in tree(scenario.site).items():
        text = content.decode("utf-8")
        assert SCRIPT_TITLE not in text and IMG_COMMENT not in text, name
        assert "<img" not in text and "<script" not in text.lower(), name


def test_a_customer_name_with_markup_is_escaped(desk, run):
    rules = read(desk / "rules.yaml")
    assert rules.count("name: FOD Digitale Transformatie") == 1
    (desk / "rules.yaml").write_text(
        rules.replace("name: FOD Digitale Transformatie", "name: 'FOD <i>Digitaal</i> & \"Partners\"'"),
        encoding="utf-8",
    )
    # managed services raise P3 to P2: 2h to answer, due 11:00, 1h left at NOW: on the dashboard
    ticket = new(run, "2026-11-23T09:00", FOD)
    act(run, "2026-11-23T09:30", "log", ticket, "30m", "--note", "Logbestanden bekeken")
    outage = ["--kind", "outage", "--title", "Portaal traag", "--start", NOW, "--customers", "fod-digitaal"]
    act(run, NOW, "announce", "new", *outage)
    ok(run("export", "html", "site"))
    escaped = "FOD &lt;i&gt;Digitaal&lt;/i&gt; &amp; &#34;Partners&#34;"
    for name in ("index.html", "dashboard.html", "announcements.html", "customers/fod-digitaal/index.html"):
        html = read(Path("site") / name)
        assert escaped in html, name
    for name, content in tree(Path("site")).items():
        assert b"<i>Digitaal" not in content, name
    dashboard_page = page(Path("site/dashboard.html"))
    assert ['FOD <i>Digitaal</i> & "Partners"', "0:30", "0:00", "0:30"] in dashboard_page.rows


# --- determinism and re-exports -----------------------------------------------------------


def test_the_same_desk_at_the_same_moment_gives_the_same_bytes(scenario, copied, run):
    # another copy of the desk, in another folder: not a byte depends on where the desk is
    first = run("export", "html", "again")
    assert ok(first) == "Exported the site to again: 19 pages, 19 written, 0 unchanged, 0 removed.\n"
    assert tree(Path("again")) == tree(scenario.site)
    second = run("export", "html", "again")
    assert ok(second) == "Exported the site to again: 19 pages, 0 written, 19 unchanged, 0 removed.\n"
    assert tree(Path("again")) == tree(scenario.site)


def test_a_ticket_that_moves_to_another_customer_leaves_the_old_portal(scenario, copied, run):
    ok(run("export", "html", "site"))
    Path("site/CNAME").write_text("help.caresolutions.example\n", encoding="utf-8")
    Path("site/customers/brightwave/notes.txt").write_text("our own notes\n", encoding="utf-8")
    moved = scenario.ids["bright"]
    act(
        run,
        NOW,
        "update",
        moved,
        "--customer",
        "zonnebloem",
        "--requester",
        "els.vermeulen@zonnebloem.example",
        "--site",
        "2101",
    )
    result = run("export", "html", "site")
    # written: the home page, both portals' index and the ticket's new page; the dashboard is the same
    assert ok(result) == "Exported the site to site: 19 pages, 4 written, 15 unchanged, 1 removed.\n"
    site = Path("site")
    assert not (site / f"customers/brightwave/{moved}.html").exists()
    assert (site / f"customers/zonnebloem/{moved}.html").is_file()
    assert moved not in read(site / "customers/brightwave/index.html")
    assert f"{moved}.html" in page(site / "customers/zonnebloem/index.html").links
    assert read(site / "CNAME") == "help.caresolutions.example\n"
    assert read(site / "customers/brightwave/notes.txt") == "our own notes\n"
    listed = read(site / MANIFEST).splitlines()
    assert listed == sorted(listed)
    assert f"customers/zonnebloem/{moved}.html" in listed and f"customers/brightwave/{moved}.html" not in listed
    assert "CNAME" not in listed
    assert sorted(tree(site)) == sorted([*listed, MANIFEST, "CNAME", "customers/brightwave/notes.txt"])


def test_a_customer_export_over_a_whole_site_removes_only_the_pages_it_wrote(scenario, copied, run):
    ok(run("export", "html", "site"))
    Path("site/CNAME").write_text("help.caresolutions.example\n", encoding="utf-8")
    result = run("export", "html", "site", "--customer", "vandijk")
    # the home page is replaced by the portal; the other 18 pages go, the empty folders with them
    assert (
        ok(result)
        == "Exported the portal of Van Dijk Logistiek B.V. to site: 2 pages, 2 written, 0 unchanged, 18 removed.\n"
    )
    assert sorted(tree(Path("site"))) == sorted([MANIFEST, "CNAME", "index.html", f"{scenario.ids['truck']}.html"])
    assert not Path("site/customers").exists()


# --- safety -------------------------------------------------------------------------------


def test_a_folder_with_other_files_and_no_manifest_is_refused_untouched(desk, run, new_ticket):
    new_ticket()
    mine = Path("mine")
    (mine / "photos").mkdir(parents=True)
    (mine / "index.html").write_text("<p>my own home page</p>\n", encoding="utf-8")
    (mine / "photos" / "team.jpg").write_bytes(b"\xff\xd8\xff")
    before = tree(mine)
    error = refused(run("export", "html", "mine"))
    assert error == "Error: mine is not empty and holds no earlier export: choose a new or empty folder"
    assert tree(mine) == before


def test_an_empty_folder_is_fine(desk, run):
    Path("empty").mkdir()
    assert ok(run("export", "html", "empty")).endswith("9 pages, 9 written, 0 unchanged, 0 removed.\n")


def test_out_being_a_file_is_refused(desk, run):
    Path("site.html").write_text("mine\n", encoding="utf-8")
    assert refused(run("export", "html", "site.html")) == "Error: site.html is a file, not a folder"
    assert read(Path("site.html")) == "mine\n"


def test_out_below_a_file_is_refused_without_a_traceback(desk, run):
    Path("notes.txt").write_text("mine\n", encoding="utf-8")
    error = refused(run("export", "html", "notes.txt/site"))
    assert "notes.txt" in error
    assert read(Path("notes.txt")) == "mine\n"


def test_an_unknown_customer_is_refused_before_anything_is_written(desk, run):
    error = refused(run("export", "html", "portal", "--customer", "nobody"))
    assert error == (
        "Error: unknown customer 'nobody' (customers in rules.yaml: "
        "brightwave, fod-digitaal, les-tilleuls, st-josef, vandijk, zonnebloem)"
    )
    assert not Path("portal").exists()


@pytest.mark.parametrize("escape", ["../victim.html", "customers/../../victim.html", "ABSOLUTE"])
def test_a_manifest_pointing_outside_the_folder_is_refused(desk, run, tmp_path, escape):
    victim = tmp_path / "victim.html"
    victim.write_text("not sdesk's\n", encoding="utf-8")
    line = str(victim) if escape == "ABSOLUTE" else escape
    ok(run("export", "html", "site"))
    manifest = Path("site") / MANIFEST
    assert len(read(manifest).splitlines()) == 9  # an empty desk: 3 desk pages and 6 portals
    manifest.write_text(read(manifest) + f"{line}\n", encoding="utf-8")
    before = tree(Path("site"))
    error = refused(run("export", "html", "site"))
    assert error == f"Error: site/{MANIFEST}:10: not a page of the site: {line!r}"
    assert read(victim) == "not sdesk's\n"
    assert tree(Path("site")) == before


@pytest.mark.parametrize(
    "line", [".git/config", "CNAME", "customers/zonnebloem/old/x.html", "./index.html", "customers//index.html"]
)
def test_a_manifest_line_naming_no_page_of_the_site_is_refused_and_touches_nothing(desk, run, line):
    ok(run("export", "html", "site"))
    Path("site/.git").mkdir()
    Path("site/.git/config").write_text("[core]\n", encoding="utf-8")
    Path("site/CNAME").write_text("desk.example\n", encoding="utf-8")
    manifest = Path("site") / MANIFEST
    manifest.write_text(read(manifest) + f"{line}\n", encoding="utf-8")
    before = tree(Path("site"))
    error = refused(run("export", "html", "site"))
    assert error == f"Error: site/{MANIFEST}:10: not a page of the site: {line!r}"
    assert tree(Path("site")) == before


def test_a_link_inside_the_folder_never_lets_export_delete_outside_it(desk, run, tmp_path):
    """A listed page behind a symbolic link was deleted wherever the link led, then every export crashed."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "index.html").write_text("not sdesk's\n", encoding="utf-8")
    ok(run("export", "html", "site"))
    link = Path("site/customers/gone")
    link.symlink_to(elsewhere)
    manifest = Path("site") / MANIFEST
    manifest.write_text(read(manifest) + "customers/gone/index.html\n", encoding="utf-8")
    for _ in range(2):  # this run and every later one: the same line, never a traceback
        assert refused(run("export", "html", "site")) == (
            "Error: site/customers/gone is a symbolic link: "
            "an export writes and removes only in real folders below site"
        )
    assert read(elsewhere / "index.html") == "not sdesk's\n"
    link.unlink()
    assert ok(run("export", "html", "site")).endswith("9 pages, 0 written, 9 unchanged, 1 removed.\n")
    assert "gone" not in read(manifest)


def test_a_portal_folder_that_is_a_link_is_refused_before_anything_is_written(desk, run, new_ticket, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    ok(run("export", "html", "site"))
    folder = Path("site/customers/zonnebloem")
    shutil.rmtree(folder)
    folder.symlink_to(elsewhere)
    new_ticket()
    manifest = read(Path("site") / MANIFEST)
    assert refused(run("export", "html", "site")) == (
        "Error: site/customers/zonnebloem is a symbolic link: "
        "an export writes and removes only in real folders below site"
    )
    assert list(elsewhere.iterdir()) == []
    assert read(Path("site") / MANIFEST) == manifest


def test_a_page_that_is_a_link_is_replaced_and_what_it_points_to_left_alone(desk, run, tmp_path):
    ok(run("export", "html", "site"))
    dashboard_page, home = Path("site/dashboard.html"), Path("site/index.html")
    same, mine = tmp_path / "same.html", tmp_path / "mine.html"
    page_bytes = dashboard_page.read_bytes()
    same.write_bytes(page_bytes)  # the very bytes of the page: still a link, never compared through it
    mine.write_text("mine\n", encoding="utf-8")
    for page, target in ((dashboard_page, same), (home, mine)):
        page.unlink()
        page.symlink_to(target)
    old = Path("site/customers/zonnebloem/2Q0000-00000.html")  # a page that is no longer part of the site
    old.symlink_to(mine)
    manifest = Path("site") / MANIFEST
    manifest.write_text(read(manifest) + f"{old.relative_to('site').as_posix()}\n", encoding="utf-8")
    assert ok(run("export", "html", "site")).endswith("9 pages, 2 written, 7 unchanged, 1 removed.\n")
    assert not dashboard_page.is_symlink() and dashboard_page.read_bytes() == page_bytes
    assert not home.is_symlink() and "mine" not in read(home)
    assert not old.is_symlink() and not old.exists()
    assert same.read_bytes() == page_bytes and read(mine) == "mine\n"


def test_out_itself_may_be_a_link_the_user_chose(desk, run, tmp_path):
    published = tmp_path / "srv-portal"
    published.mkdir()
    Path("portal").symlink_to(published)
    assert ok(run("export", "html", "portal")).endswith("9 pages, 9 written, 0 unchanged, 0 removed.\n")
    assert (published / "index.html").is_file() and (published / MANIFEST).is_file()
    assert ok(run("export", "html", "portal")).endswith("9 pages, 0 written, 9 unchanged, 0 removed.\n")


@pytest.mark.parametrize("kind", ["link", "folder", "fifo", "huge", "not UTF-8", "NUL"])
def test_a_list_of_pages_sdesk_cannot_trust_is_a_one_line_error_on_every_run(desk, run, tmp_path, kind):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret\n", encoding="utf-8")
    ok(run("export", "html", "site"))
    manifest = Path("site") / MANIFEST
    pages = read(manifest)
    if kind in ("link", "folder", "fifo"):
        manifest.unlink()
        {"link": lambda: manifest.symlink_to(secret), "folder": manifest.mkdir, "fifo": lambda: os.mkfifo(manifest)}[
            kind
        ]()
    elif kind == "huge":
        with manifest.open("ab") as handle:
            handle.truncate(publish.MAX_MANIFEST_BYTES + 1)  # sparse: nothing to write, a lot to read
    else:
        manifest.write_bytes(pages.encode("utf-8") + (b"\xff\n" if kind == "not UTF-8" else b"index.html\0x\n"))
    expected = {
        "link": f"Error: site/{MANIFEST} is a symbolic link, not the plain file an export keeps its list of pages in",
        "folder": f"Error: site/{MANIFEST} is a folder, not the plain file an export keeps its list of pages in",
        "fifo": f"Error: site/{MANIFEST} is a FIFO, not the plain file an export keeps its list of pages in",
        "huge": f"Error: site/{MANIFEST} is larger than any list of pages sdesk writes "
        f"({publish.MAX_MANIFEST_BYTES:,} bytes)",
        "not UTF-8": f"Error: site/{MANIFEST}:10: not UTF-8 text",
        "NUL": f"Error: site/{MANIFEST}:10: not a page of the site: 'index.html\\x00x'",
    }[kind]
    for _ in range(2):
        assert refused(run("export", "html", "site")) == expected
    assert read(secret) == "top secret\n"
    assert read(Path("site/index.html")).startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("where", ["a page", "a listed page", "a folder"])
def test_what_stands_where_the_site_needs_a_page_or_a_folder_is_a_one_line_error(desk, run, where):
    ok(run("export", "html", "site"))
    if where == "a page":
        Path("site/dashboard.html").unlink()
        Path("site/dashboard.html/mine").mkdir(parents=True)
        expected = "Error: site/dashboard.html is a folder where the site has a page"
    elif where == "a listed page":
        Path("site/customers/old/index.html").mkdir(parents=True)
        manifest = Path("site") / MANIFEST
        manifest.write_text(read(manifest) + "customers/old/index.html\n", encoding="utf-8")
        expected = "Error: site/customers/old/index.html is a folder where the site has a page"
    else:
        shutil.rmtree("site/customers/vandijk")
        Path("site/customers/vandijk").write_text("mine\n", encoding="utf-8")
        expected = "Error: site/customers/vandijk is a file, not a folder"
    before = tree(Path("site"))
    for _ in range(2):
        assert refused(run("export", "html", "site")) == expected
    assert tree(Path("site")) == before


# --- templates ---------------------------------------------------------------------------


def write_template(desk: Path, name: str, text: str) -> Path:
    folder = desk / "templates" / "html"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


PORTAL_OVERRIDE = (
    '{% extends "base.html" %}\n{% block main %}\n<h1>Portaal van {{ portal.name }}</h1>\n'
    "<p>{{ portal.open | length }} open</p>\n{% endblock %}\n"
)


def test_a_desk_template_replaces_the_packages(desk, run, new_ticket):
    ticket = new_ticket()["id"]
    footer = "{% block footer %}<p>{{ portal.desk_email }}</p>{% endblock %}\n"
    write_template(desk, "portal.html", PORTAL_OVERRIDE + footer)
    write_template(
        desk, "ticket.html", "<!DOCTYPE html>\n<title>{{ ticket.id }}</title>\n<p>{{ ticket.next_step }}</p>\n"
    )
    ok(run("export", "html", "site"))
    index = page(Path("site/customers/zonnebloem/index.html"))
    assert index.lang == "nl"  # base.html is still the package's
    assert "Portaal van WZC De Zonnebloem 1 open" in index.text
    assert index.text.endswith(DESK_EMAIL)
    assert "Openstaande tickets" not in index.text
    # created at NOW, P3: one business day to answer
    assert read(Path(f"site/customers/zonnebloem/{ticket}.html")) == (
        f"<!DOCTYPE html>\n<title>{ticket}</title>\n"
        "<p>U krijgt een antwoord uiterlijk dinsdag 24 november om 10:00.</p>\n"
    )
    assert "Portaal van Brightwave Ltd 0 open" in page(Path("site/customers/brightwave/index.html")).text
    assert "Dashboard" in page(Path("site/dashboard.html")).text  # the other pages are the package's
    assert ok(run("check")) == ""


def test_a_portal_template_may_override_only_the_main_block(desk, run, new_ticket):
    new_ticket()
    write_template(desk, "portal.html", PORTAL_OVERRIDE)
    ok(run("export", "html", "site"))
    assert "Portaal van WZC De Zonnebloem 1 open" in page(Path("site/customers/zonnebloem/index.html")).text


def test_a_template_syntax_error_is_located_by_export_and_by_check(desk, run, new_ticket):
    new_ticket()
    write_template(
        desk,
        "portal.html",
        '{% extends "base.html" %}\n{% block main %}\n<h1>{{ portal.name }}</h1>\n{% if %}\n{% endblock %}\n',
    )
    error = refused(run("export", "html", "site"))
    assert error.startswith("Error: desk/templates/html/portal.html:4: html template: ")
    assert not Path("site").exists()
    result = run("check")
    assert refused(result) == "Error: 1 ticket file checked, 1 problem"
    assert result.stdout.startswith("desk/templates/html/portal.html:4: html template: ")


def test_a_syntax_error_in_an_overridden_base_names_the_base(desk, run):
    write_template(desk, "base.html", "<!DOCTYPE html>\n<html>\n{% for page in %}\n</html>\n")
    error = refused(run("export", "html", "site"))
    assert error.startswith("Error: desk/templates/html/base.html:3: html template")
    assert not Path("site").exists()
    assert run("check").stdout.startswith("desk/templates/html/base.html:3: html template: ")


def test_an_undefined_variable_is_located_without_a_traceback(desk, run, new_ticket):
    new_ticket()
    write_template(
        desk,
        "ticket.html",
        '{% extends "base.html" %}\n{% block main %}\n<h1>{{ ticket.title }}</h1>\n\n'
        "<p>{{ ticket.agent_notes }}</p>\n{% endblock %}\n",
    )
    error = refused(run("export", "html", "site"))
    assert error.startswith("Error: desk/templates/html/ticket.html:5: html template ticket.html: ")
    assert "agent_notes" in error
    assert not Path("site").exists()


def test_check_reports_a_template_sdesk_never_uses(desk, run):
    write_template(desk, "nonsense.html", "<p>hello</p>\n")
    result = run("check")
    assert refused(result) == "Error: 0 ticket files checked, 1 problem"
    assert result.stdout == (
        "desk/templates/html/nonsense.html: html template sdesk never uses: "
        "the names are <base|charts|home|dashboard|announcements|portal|ticket>.html\n"
    )


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture
def busy_desk(desk: Path, run: Callable[..., Result]) -> dict[str, str]:
    """A desk whose dashboard figures are worked out by hand in the tests below."""
    ids = {}
    # October: opened and closed on the same morning (week 43); time on 24 and 25 October.
    ids["october"] = new(run, "2026-10-22T09:00:00+02:00", title="Rapport oktober")
    act(run, "2026-10-22T12:00:00+02:00", "close", ids["october"], "--resolution", "Rapport hersteld")
    act(run, "2026-10-26T10:00", "log", ids["october"], "1h", "--on", "2026-10-24", "--covered", "--note", "x")
    act(run, "2026-10-26T10:00", "log", ids["october"], "15m", "--on", "2026-10-25", "--covered", "--note", "y")
    # Brightwave, P4 (individual, low), 13 days old, waiting for the customer since an hour after opening.
    ids["waiting"] = new(run, "2026-11-10T10:00", BRIGHTWAVE, impact="individual", urgency="low")
    act(run, "2026-11-10T11:00", "update", ids["waiting"], "--status", "waiting-for-customer", "--note", "?")
    act(run, "2026-11-20T10:00", "log", ids["waiting"], "45m", "--billable", "--note", "z")
    # Closed the day it opened, within its clocks (week 47).
    ids["closed"] = new(run, "2026-11-17T09:00", title="Snel opgelost")
    act(run, "2026-11-17T15:00", "close", ids["closed"], "--resolution", "Opgelost")
    # P3, no answer: due Thursday 19 November 10:00, overdue (week 47).
    ids["overdue"] = new(run, "2026-11-18T10:00", title="Niemand antwoordt")
    # Monday: a P3 with 6h left to answer and a P2 (4h) due at 14:00, 3h left.
    ids["fine"] = new(run, "2026-11-23T09:00", title="Nog tijd genoeg")
    act(run, "2026-11-23T09:00", "log", ids["fine"], "1h30m", "--note", "w")
    ids["soon"] = new(
        run,
        "2026-11-23T09:00",
        None,
        "--assignee",
        "anna@caresolutions.example",
        title="Medicatie toedienen lukt niet",
        impact="department",
        urgency="high",
    )
    return ids


def test_the_dashboard_figures(busy_desk, run):
    ok(run("export", "html", "site"))
    board = page(Path("site/dashboard.html"))
    assert board.lang == "nl"
    figures = board.text[board.text.index("In één oogopslag") : board.text.index("Over tijd of bijna")]
    assert (
        figures.split()
        == (
            "In één oogopslag 4 Open tickets 1 Klokken over tijd 1 Klokken die binnen 4u 00m aflopen "
            "1 Wacht op de klant 4 Geopend in de laatste 7 dagen 1 Gesloten in de laatste 7 dagen"
        ).split()
    )
    rows = board.rows
    backlog = rows[rows.index(["Status", "P1", "P2", "P3", "P4", "Totaal"]) :][:8]
    assert backlog == [
        ["Status", "P1", "P2", "P3", "P4", "Totaal"],
        ["Open", "0", "1", "2", "0", "3"],
        ["In behandeling", "0", "0", "0", "0", "0"],
        ["Wacht op reactie klant", "0", "0", "0", "1", "1"],
        ["In de wacht", "0", "0", "0", "0", "0"],
        ["Ingepland", "0", "0", "0", "0", "0"],
        ["Wacht op akkoord", "0", "0", "0", "0", "0"],
        ["Totaal", "0", "1", "2", "1", "4"],
    ]


def test_the_dashboard_lists_clocks_overdue_or_due_within_four_hours(busy_desk, run):
    ok(run("export", "html", "site"))
    board = page(Path("site/dashboard.html"))
    overdue, soon = busy_desk["overdue"], busy_desk["soon"]
    # overdue since Thursday 10:00: Thu 2h + 4h, Fri 7h, Mon 1h = 14h of open time late
    assert [row for row in board.rows if row and row[0].endswith(("10:00", "14:00"))] == [
        [
            "donderdag 19 november om 10:00",
            "-14u 00m",
            "antwoord (over tijd)",
            "P3",
            overdue,
            "Niemand antwoordt",
            "WZC De Zonnebloem",
            "niemand",
        ],
        [
            "maandag 23 november om 14:00",
            "3u 00m",
            "antwoord (loopt)",
            "P2",
            soon,
            "Medicatie toedienen lukt niet",
            "WZC De Zonnebloem",
            "anna@caresolutions.example",
        ],
    ]
    links = [link for link in board.links if link.startswith("customers/")]
    assert links == [f"customers/zonnebloem/{overdue}.html", f"customers/zonnebloem/{soon}.html"]
    assert all((Path("site") / link).is_file() for link in links)


def test_the_dashboard_compliance_ages_and_time(busy_desk, run):
    ok(run("export", "html", "site"))
    rows = page(Path("site/dashboard.html")).rows
    weeks = [row for row in rows if row and row[0].startswith("2026-W")]
    assert weeks == [
        ["2026-W41", "0", "– (0 beslist)", "– (0 beslist)"],
        ["2026-W42", "0", "– (0 beslist)", "– (0 beslist)"],
        ["2026-W43", "1", "100.0 (1 beslist)", "100.0 (1 beslist)"],
        ["2026-W44", "0", "– (0 beslist)", "– (0 beslist)"],
        ["2026-W45", "0", "– (0 beslist)", "– (0 beslist)"],
        ["2026-W46", "1", "100.0 (1 beslist)", "– (0 beslist)"],  # answered; the solution clock is paused
        ["2026-W47", "2", "50.0 (2 beslist)", "100.0 (1 beslist)"],  # one overdue answer, one closed in time
        ["2026-W48", "2", "– (0 beslist)", "– (0 beslist)"],  # both still running on time
    ]
    ages = rows[rows.index(["Leeftijd", "Tickets"]) + 1 :][:6]
    assert ages == [
        ["minder dan 1 dag", "2"],
        ["1 tot 3 dagen", "0"],
        ["3 tot 7 dagen", "1"],
        ["1 tot 2 weken", "1"],
        ["2 tot 4 weken", "0"],
        ["meer dan 4 weken", "0"],
    ]
    # the last 30 days are 25 October to 23 November: the hour of 24 October is out
    time = rows[rows.index(["Klant", "Gedekt", "Factureerbaar", "Totaal"]) + 1 :]
    assert time == [["WZC De Zonnebloem", "1:45", "0:00", "1:45"], ["Brightwave Ltd", "0:00", "0:45", "0:45"]]


def test_the_dashboard_charts_are_inline_svg(busy_desk, run):
    ok(run("export", "html", "site"))
    html = read(Path("site/dashboard.html"))
    svgs = re.findall(r"<svg\b[^>]*>\s*<title\b[^>]*>([^<]*)</title>", html)
    assert svgs == [
        "Werkvoorraad per status en prioriteit",
        "SLA-naleving per week (tickets geopend in die week)",
        "Leeftijd van de open tickets",
        "Geregistreerde tijd per klant, laatste 30 dagen",
    ]
    assert html.count("<svg") == 4 and html.count('role="img"') == 4
    assert "<title>Open: 3</title>" in html
    assert "<title>Wacht op reactie klant: 1</title>" in html
    # the "Open" row: P2 (1) and P3 (2) stacked, the P3 bar twice as wide
    widths = re.findall(r'<rect class="s(\d)" [^>]*width="([\d.]+)"[^>]*><title>Open, ', html)
    assert [series for series, _ in widths] == ["1", "2"]
    assert float(widths[1][1]) == pytest.approx(2 * float(widths[0][1]), abs=0.1)


def test_no_page_runs_a_script_or_fetches_anything(scenario):
    for name, content in tree(scenario.site).items():
        if not name.endswith(".html"):
            continue
        html = content.decode("utf-8")
        assert "<script" not in html.lower(), name
        assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.IGNORECASE), name
        assert "@import" not in html and "url(" not in html, name
        assert html.count("<svg") == html.count('role="img"'), name
    board = read(scenario.site / "dashboard.html")
    assert board.count('role="img"') == 4


def test_the_dashboard_is_the_teams_and_shows_an_at_risk_ticket_of_any_customer(scenario):
    board = page(scenario.site / "dashboard.html")
    ids = scenario.ids
    # Van Dijk's 24x7 P3 answer was due Friday 14:00 and Brightwave's Thursday 10:00: both overdue.
    linked = {link for link in board.links if link.startswith("customers/")}
    assert linked == {f"customers/brightwave/{ids['script']}.html", f"customers/vandijk/{ids['truck']}.html"}


# --- the pure modules ----------------------------------------------------------------------


def test_portal_build_ignores_other_customers_tickets(scenario):
    desk = Desk(scenario.desk)
    tickets = [desk.read(number) for number in desk.ticket_ids()]
    assert len(tickets) == 11
    ids = scenario.ids
    built = portal.build("brightwave", tickets, desk.announcements(), desk.rules, NOW_AT)
    assert (built.customer, built.name, built.language, built.recent_days) == ("brightwave", "Brightwave Ltd", "en", 30)
    assert {ticket.id for ticket in built.open} == {ids["bright"], ids["bright_waiting"], ids["script"]}
    assert built.recently_closed == ()
    assert [notice.title for notice in built.announcements] == ["Care Dossier upgrade window"]
    zonnebloem = portal.build("zonnebloem", tickets, desk.announcements(), desk.rules, NOW_AT, recent_days=60)
    assert {ticket.id for ticket in zonnebloem.recently_closed} == {ids["closed"], ids["old"]}
    assert ids["truck"] not in {ticket.id for ticket in (*zonnebloem.open, *zonnebloem.recently_closed)}


@settings(max_examples=100, deadline=None)
@given(
    history=test_sla.histories(),
    pause=st.booleans(),
    look_back=st.integers(min_value=0, max_value=3 * 24 * 60),
    offsets=st.lists(st.integers(min_value=-20 * 24 * 60, max_value=20 * 24 * 60), min_size=1, max_size=5),
)
def test_a_tickets_view_reads_the_same_at_every_moment_of_its_span(history, pause, look_back, offsets):
    """What lets an export keep a ticket's page: inside its span the view is the same, at its edges too; also
    when looked at before some of its events (a clone whose clock is behind)."""
    rules = RULES_AS_SHIPPED()
    ticket, last = test_sla.build(rules, history, pause)
    now = max(last - timedelta(minutes=look_back), ticket.created)
    view, span = portal.public_ticket_and_span(ticket, rules, "nl", now)
    assert span.holds(now)
    moments = [now + timedelta(minutes=minutes) for minutes in offsets]
    for moment in [*moments, span.until, span.after + timedelta(microseconds=1)]:
        if span.holds(moment) and moment.year > 2000:
            assert portal.public_ticket(ticket, rules, "nl", moment) == view, moment


def test_public_ticket_holds_nothing_the_customer_may_not_read(scenario):
    desk = Desk(scenario.desk)
    ticket = desk.read(scenario.ids["rich"])
    merged = Event(
        at=datetime.fromisoformat("2026-11-23T09:50:00+01:00"),
        by="sdesk-merge",
        kind="merged",
        changes=(Change("assignee", None, "bram@caresolutions.example"),),
        visibility="internal",
        text="Changed in two clones at once: kept assignee 'bram@caresolutions.example'",
    )
    ticket = msgspec.structs.replace(ticket, history=[*ticket.history, merged])
    shown = portal.public_ticket(ticket, desk.rules, "nl", NOW_AT)
    assert [(event.what, event.author, event.text) for event in shown.history] == [
        ("Ticket geregistreerd", "Business Service Desk", None),
        ("Bericht", "Business Service Desk", "We kijken ernaar."),
        ("Status: Wacht op reactie klant", "Business Service Desk", "Kunt u een schermafdruk sturen?"),
        ("Bericht", "Jan Nieuw", "Hier is de schermafdruk."),
    ]
    assert shown.requester == "Jan Nieuw"
    assert shown.last_update == "maandag 23 november om 09:15"
    assert shown.updated_at == datetime.fromisoformat("2026-11-23T09:15:00+01:00")
    everything = repr(shown)
    for secret in (*SECRETS, "bram@", "two clones"):
        assert secret not in everything, secret


def test_the_collector_counts_the_dashboard(busy_desk, desk):
    opened = Desk(desk)
    collector = dashboard.Collector(opened.rules, NOW_AT)
    for number in opened.ticket_ids():
        collector.add(opened.read(number))
    board = collector.dashboard()
    assert [(figure.value, figure.alert) for figure in board.figures] == [
        (4, False),
        (1, True),
        (1, True),
        (1, False),
        (4, False),
        (1, False),
    ]
    assert board.priorities == ("P1", "P2", "P3", "P4")
    assert board.backlog[0] == ("Open", (0, 1, 2, 0), 3)
    assert board.backlog[2] == ("Wacht op reactie klant", (0, 0, 0, 1), 1)
    assert board.backlog_totals == (0, 1, 2, 1)
    assert [(clock.id, clock.clock, clock.late, clock.left) for clock in board.at_risk] == [
        (busy_desk["overdue"], "antwoord", True, "-14u 00m"),
        (busy_desk["soon"], "antwoord", False, "3u 00m"),
    ]
    assert [(week.label, week.tickets, week.response, week.resolution) for week in board.weeks][2:] == [
        ("2026-W43", 1, 100.0, 100.0),
        ("2026-W44", 0, None, None),
        ("2026-W45", 0, None, None),
        ("2026-W46", 1, 100.0, None),
        ("2026-W47", 2, 50.0, 100.0),
        ("2026-W48", 2, None, None),
    ]
    assert [count for _, count in board.ages] == [2, 0, 1, 1, 0, 0]
    assert board.time == (
        dashboard.CustomerTime("zonnebloem", "WZC De Zonnebloem", 105, 0),
        dashboard.CustomerTime("brightwave", "Brightwave Ltd", 0, 45),
    )


def test_the_dashboard_lists_the_clocks_due_first_and_counts_the_rest(busy_desk, desk, monkeypatch):
    monkeypatch.setattr(dashboard, "AT_RISK_LISTED", 1)
    opened = Desk(desk)
    collector = dashboard.Collector(opened.rules, NOW_AT)
    for number in opened.ticket_ids():
        collector.add(opened.read(number))
    board = collector.dashboard()
    assert [(clock.id, clock.late) for clock in board.at_risk] == [(busy_desk["overdue"], True)]
    assert board.at_risk_unlisted == 1
    assert [figure.value for figure in board.figures][1:3] == [1, 1]  # overdue, and due within 4 hours: all counted
    html = pages.desk_pages(board, [], [], pages.Templates(desk), 30)["dashboard.html"]
    assert "En nog 1, die later aflopen: sdesk sla toont ze allemaal." in html


def test_bars_are_as_wide_as_their_values_on_a_whole_scale():
    chart = charts.bars(["a", "bb"], [("P1", [1, 0]), ("P2", [1, 4])])
    # labels of at most 2 characters: 2 * 7 + 8 = 22 wide; the plot is 640 - 22 - 48 = 570 wide, 0 to 4
    assert chart.label_width == 22
    assert [(tick.at, tick.text) for tick in chart.ticks] == [
        (22, "0"),
        (164.5, "1"),
        (307, "2"),
        (449.5, "3"),
        (592, "4"),
    ]
    first, second = chart.rows
    assert [(s.x, s.width, s.series, s.title) for s in first.segments] == [
        (22, 142.5, 0, "P1: 1"),
        (164.5, 142.5, 1, "P2: 1"),
    ]
    assert [(s.x, s.width, s.series) for s in second.segments] == [(22, 570, 1)]  # a zero value draws nothing
    assert (first.total, second.total) == ("2", "4")
    assert chart.height == 2 * 28 + 24


@pytest.mark.parametrize(
    ("highest", "texts"), [(3, ["0", "1", "2", "3"]), (1, ["0", "1"]), (0, ["0", "1"]), (7, ["0", "2", "4", "6", "8"])]
)
def test_a_count_scale_has_whole_ticks(highest, texts):
    chart = charts.bars(["x"], [("n", [highest])])
    assert [tick.text for tick in chart.ticks] == texts


def test_a_scale_of_a_few_minutes_labels_each_tick_with_its_own_value():
    # 10 minutes in hours, as the dashboard's time chart gets it: the scale steps by whole hours, shown as h:mm
    chart = charts.bars(
        ["WZC De Zonnebloem"],
        [("Gedekt", [10 / 60]), ("Factureerbaar", [0])],
        shown=lambda hours: hours_minutes(round(hours * 60)),
    )
    texts = [tick.text for tick in chart.ticks]
    assert len(set(texts)) == len(texts), texts


def test_a_missing_value_breaks_a_line_in_two():
    chart = charts.lines(["W1", "W2", "W3", "W4"], [("Antwoord", [10, None, 50, 70]), ("Oplossing", [None] * 4)])
    # x from 40 to 624 in 3 steps; y from 212 (0 %) to 12 (100 %)
    answer, solution = chart.lines
    assert answer.pieces == ("40.0,192.0", "429.3,112.0 624.0,72.0")
    assert [(dot.x, dot.y, dot.title) for dot in answer.dots] == [
        (40.0, 192.0, "Antwoord, W1: 10"),
        (429.3, 112.0, "Antwoord, W3: 50"),
        (624.0, 72.0, "Antwoord, W4: 70"),
    ]
    assert solution.pieces == () and solution.dots == ()
    assert [tick.text for tick in chart.y_ticks] == ["0", "25", "50", "75", "100"]


def counted(published: publish.Published) -> tuple[int, int, int]:
    return published.written, published.unchanged, published.removed


def test_publish_writes_keeps_and_removes(tmp_path):
    out = tmp_path / "out"
    assert counted(publish.publish(out, {"index.html": "A", "customers/x/2Q3XN5-V4T3T.html": "B"})) == (2, 0, 0)
    assert read(out / MANIFEST) == "customers/x/2Q3XN5-V4T3T.html\nindex.html\n"
    assert counted(publish.publish(out, {"index.html": "A", "customers/x/2Q3XN5-V4T3T.html": "B"})) == (0, 2, 0)
    (out / "CNAME").write_text("mine", encoding="utf-8")
    assert counted(publish.publish(out, {"index.html": "A2"})) == (1, 0, 1)
    assert tree(out) == {"index.html": b"A2", "CNAME": b"mine", MANIFEST: b"index.html\n"}
    assert not (out / "customers").exists()


def test_a_kept_page_is_rendered_only_when_its_file_is_no_longer_what_was_written(tmp_path):
    out, page = tmp_path / "out", "customers/x/2Q3XN5-V4T3T.html"
    publish.publish(out, {"index.html": "A", page: "B"})
    info = (out / page).stat()
    signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    rendered = []

    def render() -> str:
        rendered.append(page)
        return "B"

    published = publish.publish(out, {"index.html": "A", page: publish.LazyPage(render, signature)})
    assert counted(published) == (0, 2, 0) and rendered == []
    (out / page).write_text("tampered", encoding="utf-8")
    published = publish.publish(out, {"index.html": "A", page: publish.LazyPage(render, signature)})
    assert counted(published) == (1, 1, 0) and rendered == [page]
    assert read(out / page) == "B"
    assert published.signatures[page] is None  # written just now: compared again next time, not trusted


def test_publish_refuses_a_folder_it_did_not_make(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(SdeskError, match="is not empty and holds no earlier export"):
        publish.publish(out, {"index.html": "A"})
    assert tree(out) == {"keep.txt": b"keep"}


def test_publish_writes_utf8(tmp_path):
    publish.publish(tmp_path / "out", {"index.html": "In één oogopslag"})
    assert (tmp_path / "out" / "index.html").read_bytes() == "In één oogopslag".encode()


def test_publish_writes_nothing_but_pages_inside_the_folder(tmp_path):
    with pytest.raises(SdeskError, match=r"not a page of the site: '\.\./x\.html'"):
        publish.publish(tmp_path / "out", {"index.html": "A", "../x.html": "B"})
    assert not (tmp_path / "out").exists() and not (tmp_path / "x.html").exists()


# --- the real command ------------------------------------------------------------------------


def sdesk_command() -> list[str]:
    installed = Path(sys.executable).parent / "sdesk"
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "sdesk"]


def test_the_installed_command_exports_the_same_portal(scenario, tmp_path):
    env = {**os.environ, "SDESK_DIR": str(scenario.desk), "SDESK_NOW": NOW, "SDESK_USER": AGENT}
    done = subprocess.run(
        [*sdesk_command(), "export", "html", "portal", "--customer", "brightwave"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout == "Exported the portal of Brightwave Ltd to portal: 4 pages, 4 written, 0 unchanged, 0 removed.\n"
    )
    assert tree(tmp_path / "portal") == tree(scenario.brightwave)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n", encoding="utf-8")
    again = subprocess.run(
        [*sdesk_command(), "export", "html", "mine"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1
    assert again.stdout == ""
    assert again.stderr == "Error: mine is not empty and holds no earlier export: choose a new or empty folder\n"
    assert read(tmp_path / "mine" / "notes.txt") == "mine\n"


def test_a_ticket_file_that_does_not_read_stops_the_export_and_keeps_the_published_site(desk, run):
    first = new(run, "2026-11-20T09:00")
    second = new(run, "2026-11-20T10:00")
    ok(run("export", "html", "site"))
    before = {path: path.read_bytes() for path in Path("site").rglob("*") if path.is_file()}
    broken = desk / "tickets" / f"{second}.yaml"
    broken.write_text(broken.read_text(encoding="utf-8") + "history: [oops\n", encoding="utf-8")
    error = refused(run("export", "html", "site"))
    assert error.startswith(f"Error: desk/tickets/{second}.yaml:")
    assert error.endswith("; nothing exported (sdesk check lists them)")
    assert {path: path.read_bytes() for path in Path("site").rglob("*") if path.is_file()} == before
    assert Path(f"site/customers/zonnebloem/{first}.html").is_file()


def test_the_commands_default_window_is_the_portals():
    from sdesk.cli import export

    assert export.RECENT_DAYS == portal.RECENT_DAYS  # kept apart so `--help` need not import the site
