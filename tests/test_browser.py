"""The exported static site (`sdesk export html`) in a real headless Chromium.

The pages are opened from file:// the way a reader opens them: they must load
without console errors and without asking for anything but file:// and data:
URLs, draw their charts, keep hostile ticket text as text, keep each
customer's portal to that customer's tickets, and not come out blank.

Chromium is Debian's (/usr/bin/chromium, or $SDESK_CHROMIUM); without it, or
without the playwright package, the whole module is skipped. One browser
serves the module, each test gets a page of its own. Every request for
anything but file:// or data: is aborted before it leaves the machine, and
recorded, so a test never touches the network.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner

from sdesk.cli import main
from tests.chromium import Tab, launched, open_tab
from tests.conftest import AGENT, NOW, REPO, TICKET_DEFAULTS, example_rules_text

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CHARTS = ("chart-backlog", "chart-compliance", "chart-age", "chart-time")
BAR_CHARTS = ("chart-backlog", "chart-age", "chart-time")
PHONE = {"width": 390, "height": 844}
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ENV: dict[str, str | None] = {"SDESK_NOW": NOW, "SDESK_USER": AGENT, "SDESK_DIR": None}


# --- the browser -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as started:
        yield started


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    opened = open_tab(browser)
    yield opened
    opened.page.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Tab]:
    """A phone: 390×844 CSS pixels, honouring the pages' meta viewport."""
    opened = open_tab(browser, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
    yield opened
    opened.page.close()


# --- desks and their sites ----------------------------------------------------------------------------------------


def sdesk(desk: Path, *args: str) -> str:
    """Run the CLI on ``desk`` at the tests' moment, as the tests' agent; its standard output."""
    result = CliRunner().invoke(main, ["--desk", str(desk), *args], env=ENV, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def create(desk: Path, **options: str) -> str:
    """A new ticket (conftest's defaults, overridden by ``options``); its number."""
    values = {**TICKET_DEFAULTS, **{f"--{key.replace('_', '-')}": value for key, value in options.items()}}
    ticket: dict[str, Any] = json.loads(sdesk(desk, "new", "--format", "json", *[p for v in values.items() for p in v]))
    return str(ticket["id"])


@dataclass(frozen=True)
class Site:
    out: Path
    numbers: dict[str, set[str]]  # the ticket numbers of each customer, from `sdesk list --all`

    def pages(self) -> list[Path]:
        return sorted(self.out.rglob("*.html"))

    def portal(self, customer: str) -> Path:
        return self.out / "customers" / customer


def export(desk: Path, out: Path, *options: str) -> Site:
    sdesk(desk, "export", "html", str(out), *options)
    numbers: dict[str, set[str]] = {}
    for row in json.loads(sdesk(desk, "list", "--all", "--format", "json")):
        numbers.setdefault(row["customer"], set()).add(row["id"])
    return Site(out, numbers)


def new_desk(root: Path) -> Path:
    desk = root / "desk"
    (desk / "tickets").mkdir(parents=True)
    (desk / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    return desk


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The example desk of the repository, copied (sdesk keeps a cache in a desk), exported."""
    root = tmp_path_factory.mktemp("example")
    desk = root / "desk"
    desk.mkdir()
    (desk / "rules.yaml").write_text(example_rules_text(), encoding="utf-8")
    for folder in ("tickets", "announcements", "templates"):
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, desk / folder)
    return export(desk, root / "site")


@dataclass(frozen=True)
class Busy:
    site: Site
    script: str  # zonnebloem's ticket titled <script>alert(1)</script>
    img: str  # brightwave's ticket titled "><img src=x onerror=alert(1)>
    closed: str  # vandijk's, closed with a hostile resolution
    moved: str  # opened for vandijk, moved to fod-digitaal
    single: Path  # `export html --customer zonnebloem`


BRIGHTWAVE = {
    "customer": "brightwave",
    "requester": "olivia.hughes@brightwave.example",
    "product": "care-dossier",
    "site": "5001",
}
VANDIJK = {
    "customer": "vandijk",
    "requester": "j.bakker@vandijk.example",
    "product": "warehouse-network",
    "site": "3001",
}
FOD = {
    "customer": "fod-digitaal",
    "requester": "pieter.janssens@fod-dt.example",
    "product": "web-platform",
    "site": "4711",
}
CUSTOMER_NAME = "Brightwave <script>alert(6)</script> Ltd"


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Busy:
    """Tickets of every customer, hostile text in every field a reader sees, and notes that name other tickets."""
    root = tmp_path_factory.mktemp("busy")
    desk = new_desk(root)
    rules = desk / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "name: Brightwave Ltd" in text
    rules.write_text(text.replace("name: Brightwave Ltd", f"name: {CUSTOMER_NAME}"), encoding="utf-8")
    script = create(
        desk,
        title=SCRIPT,
        description=IMG,
        error_message="</p><svg onload=alert(1)>",
        url='https://x.example/?q="><script>alert(1)</script>',
    )
    img = create(desk, title=IMG, description="<iframe src=javascript:alert(1)></iframe>", **BRIGHTWAVE)
    closed = create(desk, title="Wifi valt weg in DC Tilburg", **VANDIJK)
    moved = create(desk, title="Wifi valt weg op het intranet", **VANDIJK)
    other = create(desk, title="Redacteur toevoegen", type="question", **FOD)
    sdesk(desk, "comment", script, '<script>alert("comment")</script><img src=x onerror=alert(2)>')
    sdesk(desk, "comment", script, "--internal", f"Same cause as {img}, {closed} and {other}")
    sdesk(desk, "comment", img, "--from-customer", "</li></ol><iframe src=javascript:alert(3)></iframe>")
    sdesk(desk, "log", script, "1h30m", "--note", "<b>bold</b>")
    sdesk(desk, "log", img, "45m", "--note", "<b>bold</b>")
    sdesk(desk, "close", closed, "--resolution", "<img src=x onerror=alert(5)> replaced the access point")
    customer, product, site, requester = FOD["customer"], FOD["product"], FOD["site"], FOD["requester"]
    moving = ("--customer", customer, "--product", product, "--site", site, "--requester", requester)
    sdesk(desk, "update", moved, *moving, "--accept-costs")  # Wi-Fi: the network is not in FOD's contract
    sdesk(desk, "announce", "new", "--kind", "outage", "--title", SCRIPT, "--start", "2026-11-23T08:00")
    single = root / "zonnebloem-only"
    sdesk(desk, "export", "html", str(single), "--customer", "zonnebloem")
    return Busy(export(desk, root / "site"), script, img, closed, moved, single)


# --- what the tests look for --------------------------------------------------------------------------------------

# Elements the pages never have, and any on* attribute: whatever hostile text turned into markup.
INJECTED = """() => {
    const found = [...document.querySelectorAll("script, img, iframe, object, embed, svg:not(.chart)")]
        .map(element => element.outerHTML);
    for (const element of document.querySelectorAll("*"))
        for (const attribute of element.attributes)
            if (attribute.name.startsWith("on")) found.push(`${element.tagName} ${attribute.name}`);
    return found;
}"""

# Structure every page shares: one h1, the language, the CSP, header cells in every table, links.
STRUCTURE = """() => ({
    h1: document.querySelectorAll("h1").length,
    lang: document.documentElement.lang,
    csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content,
    tables: [...document.querySelectorAll("table")].map(table => table.querySelectorAll("thead th").length),
    links: [...document.querySelectorAll("[href], [src]")].map(element => element.href || element.src),
})"""


def path_of(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def check_structure(tab: Tab, lang: str) -> list[str]:
    """What is wrong with the open page's structure, and any link that does not lead to a page of the site."""
    found = tab.js(STRUCTURE)
    wrong = []
    if found["h1"] != 1:
        wrong.append(f"{found['h1']} h1 elements")
    if found["lang"] != lang:
        wrong.append(f"lang={found['lang']!r}, expected {lang!r}")
    if found["csp"] != CSP:
        wrong.append(f"CSP {found['csp']!r}")
    if 0 in found["tables"]:
        wrong.append(f"a table without header cells: {found['tables']}")
    for link in found["links"]:
        if link == "data:,":  # the empty favicon
            continue
        if not link.startswith("file:") or not path_of(link).is_file():
            wrong.append(f"link to {link}")
    return wrong


def load_every_page(tab: Tab, out: Path, lang: Callable[[Path], str]) -> dict[str, list[str]]:
    """Open every page under ``out``: what the browser complained about, injected markup, broken structure."""
    complaints = {}
    for page in sorted(out.rglob("*.html")):
        tab.open(page)
        found = tab.problems() + tab.js(INJECTED) + check_structure(tab, lang(page))
        if found:
            complaints[str(page.relative_to(out))] = found
    return complaints


SPEAKS = {"brightwave": "en", "les-tilleuls": "fr", "st-josef": "de"}  # the others, and the desk, Dutch (rules.yaml)


def language(site: Site) -> Callable[[Path], str]:
    """The language a page is in: its customer's, else the desk's."""
    return lambda page: next(
        (language for customer, language in SPEAKS.items() if page.is_relative_to(site.portal(customer))), "nl"
    )


# --- loading: no errors, no requests, no scripts; one h1, the reader's language, links that lead somewhere --------


def test_every_page_of_the_example_site_loads_cleanly_and_is_well_formed(tab, example_site):
    pages = example_site.pages()
    assert len(pages) == 3 + 6 + sum(len(numbers) for numbers in example_site.numbers.values())
    assert load_every_page(tab, example_site.out, language(example_site)) == {}
    tab.open(example_site.out / "dashboard.html")
    assert tab.js("document.querySelectorAll('table').length") == 5  # at risk, backlog, compliance, age, time
    tab.open(example_site.portal("brightwave") / "index.html")
    assert tab.js("document.documentElement.lang") == "en"
    tab.open(example_site.portal("zonnebloem") / "index.html")
    assert tab.js("document.documentElement.lang") == "nl"
    tab.open(example_site.portal("les-tilleuls") / "index.html")
    assert tab.js("document.documentElement.lang") == "fr"
    tab.open(example_site.portal("st-josef") / "index.html")
    assert tab.js("document.documentElement.lang") == "de"


def test_every_page_of_a_hostile_site_loads_cleanly_runs_nothing_and_is_well_formed(tab, busy):
    assert load_every_page(tab, busy.site.out, language(busy.site)) == {}
    assert load_every_page(tab, busy.single, lambda page: "nl") == {}


# --- the checks themselves catch what they are for ----------------------------------------------------------------


def broken_copy(source: Path, target: Path, replace: dict[str, str]) -> Path:
    html = source.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in html, old
        html = html.replace(old, new)
    target.write_text(html, encoding="utf-8")
    return target


def test_an_unescaped_title_would_be_caught(tab, busy, tmp_path):
    """A ticket page as it would be if the title were not escaped: the CSP refuses it, and the tests notice."""
    page = busy.site.portal("zonnebloem") / f"{busy.script}.html"
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    tab.open(broken_copy(page, tmp_path / "script.html", {f"<h1>{busy.script}: {escaped}</h1>": f"<h1>{SCRIPT}</h1>"}))
    assert any("Content Security Policy" in error for error in tab.problems())
    assert tab.js(INJECTED) == [SCRIPT]
    assert tab.dialogs == []  # the CSP held

    page = busy.site.portal("brightwave") / f"{busy.img}.html"
    escaped = "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"
    tab.open(broken_copy(page, tmp_path / "img.html", {f"<h1>{busy.img}: {escaped}</h1>": f"<h1>{IMG}</h1>"}))
    assert tab.problems() != []
    assert "IMG onerror" in tab.js(INJECTED)


def test_console_errors_exceptions_dialogs_and_requests_would_be_caught(tab, tmp_path):
    """Without the CSP a script runs: each kind of trouble is recorded, and the outside request never leaves."""
    page = tmp_path / "trouble.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><title>t</title><h1>t</h1><img src="https://assets.example/logo.png">'
        "<script>console.error('broken'); alert('hi'); throw new Error('boom')</script>",
        encoding="utf-8",
    )
    tab.open(page)
    problems = tab.problems()
    assert any("broken" in problem for problem in problems)
    assert any("boom" in problem for problem in problems)
    assert "dialog alert: hi" in problems
    assert "request https://assets.example/logo.png" in problems


# --- hostile text stays text --------------------------------------------------------------------------------------


def test_hostile_titles_and_comments_are_literal_text(tab, busy):
    zonnebloem, brightwave = busy.site.portal("zonnebloem"), busy.site.portal("brightwave")
    tab.open(zonnebloem / f"{busy.script}.html")
    assert tab.page.inner_text("h1") == f"{busy.script}: {SCRIPT}"
    assert SCRIPT in tab.page.title()
    history = tab.page.inner_text("ol.history")
    assert '<script>alert("comment")</script><img src=x onerror=alert(2)>' in history
    body = tab.page.inner_text("main")
    assert IMG in body  # the description
    assert "</p><svg onload=alert(1)>" in body  # the error message
    assert 'https://x.example/?q="><script>alert(1)</script>' in body
    assert "Same cause as" not in body  # the internal note

    tab.open(brightwave / f"{busy.img}.html")
    assert tab.page.inner_text("h1") == f"{busy.img}: {IMG}"
    assert "</li></ol><iframe src=javascript:alert(3)></iframe>" in tab.page.inner_text("ol.history")

    tab.open(brightwave / "index.html")
    assert tab.page.inner_text("h1") == CUSTOMER_NAME
    assert IMG in tab.page.inner_text("table")
    assert SCRIPT in tab.page.inner_text("main")  # the announcement

    tab.open(zonnebloem / "index.html")
    assert SCRIPT in tab.page.inner_text("table")

    tab.open(busy.site.portal("vandijk") / f"{busy.closed}.html")
    assert "<img src=x onerror=alert(5)> replaced the access point" in tab.page.inner_text("main")

    tab.open(busy.site.out / "dashboard.html")
    assert CUSTOMER_NAME in tab.js("document.querySelector('#chart-time').textContent")
    assert CUSTOMER_NAME in tab.page.inner_text("section[aria-labelledby=time] table")

    tab.open(busy.site.out / "announcements.html")
    assert SCRIPT in tab.page.inner_text("main")
    assert tab.problems() == []
    assert tab.dialogs == []


# --- the charts ---------------------------------------------------------------------------------------------------

CHART_SHAPES = """id => {
    const svg = document.getElementById(id);
    const box = element => { const r = element.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; };
    const style = element => getComputedStyle(element);
    return {
        box: box(svg),
        rects: [...svg.querySelectorAll("rect")].map(rect => ({
            width: Number(rect.getAttribute("width")), box: box(rect), fill: style(rect).fill,
            visibility: style(rect).visibility,
        })),
        lines: [...svg.querySelectorAll("polyline")].map(line => ({
            points: line.points.length, box: box(line), stroke: style(line).stroke, fill: style(line).fill,
            width: style(line).strokeWidth,
        })),
        dots: [...svg.querySelectorAll("circle")].map(dot => ({box: box(dot), fill: style(dot).fill})),
        texts: [...svg.querySelectorAll("text")].map(text => ({text: text.textContent, box: box(text)})),
    };
}"""


def inside(inner: list[float], outer: list[float], slack: float = 1.0) -> bool:
    left, top, width, height = inner
    o_left, o_top, o_width, o_height = outer
    return (
        left >= o_left - slack
        and top >= o_top - slack
        and left + width <= o_left + o_width + slack
        and top + height <= o_top + o_height + slack
    )


def check_charts(tab: Tab) -> None:
    for chart in CHARTS:
        assert tab.page.locator(f"svg.chart#{chart}").is_visible(), chart
        shapes = tab.js(CHART_SHAPES, chart)
        width, height = shapes["box"][2:]
        assert width > 0 and height > 0, chart
        for text in shapes["texts"]:
            assert inside(text["box"], shapes["box"], slack=2), f"{chart}: label {text['text']!r} cut off"
        if chart in BAR_CHARTS:
            assert shapes["rects"], f"{chart} has no bars"
            for rect in shapes["rects"]:
                assert rect["width"] > 0, chart
                assert rect["box"][2] > 0 and rect["box"][3] > 0, f"{chart}: a bar without a box"
                assert inside(rect["box"], shapes["box"]), f"{chart}: a bar outside the chart"
                assert rect["fill"] not in ("none", "rgba(0, 0, 0, 0)") and rect["visibility"] == "visible", chart
            first = tab.page.locator(f"#{chart} rect").first.bounding_box()
            assert first is not None and first["width"] > 0 and first["height"] > 0
        else:
            assert shapes["lines"] and shapes["dots"], f"{chart} draws no line"
            for line in shapes["lines"]:
                assert line["stroke"] != "none" and line["fill"] == "none" and line["width"] != "0px", line
                assert inside(line["box"], shapes["box"]), chart
            for dot in shapes["dots"]:
                assert dot["box"][2] > 0 and dot["fill"] != "none", chart
                assert inside(dot["box"], shapes["box"]), chart


def test_the_dashboard_charts_render(tab, example_site, tmp_path):
    tab.open(example_site.out / "dashboard.html")
    check_charts(tab)
    assert tab.page.locator("#chart-compliance polyline").count() >= 2  # both series have a line

    # The check would notice bars of no width, and a line drawn without a stroke.
    html = (example_site.out / "dashboard.html").read_text(encoding="utf-8")
    flat = tmp_path / "flat.html"
    flat.write_text(
        re.sub(r'(<rect class="s\d+" x="[\d.]+" y="[\d.]+") width="[\d.]+"', r'\1 width="0"', html), encoding="utf-8"
    )
    tab.open(flat)
    with pytest.raises(AssertionError, match="chart-backlog"):
        check_charts(tab)
    tab.open(broken_copy(example_site.out / "dashboard.html", tmp_path / "bare.html", {".pair .s0 {": ".none {"}))
    with pytest.raises(AssertionError, match="stroke"):
        check_charts(tab)


def test_the_dashboard_charts_render_with_hostile_and_few_figures(tab, busy):
    tab.open(busy.site.out / "dashboard.html")
    check_charts(tab)


def test_the_legend_shows_the_colours_of_the_bars(tab, example_site):
    tab.open(example_site.out / "dashboard.html")
    for chart in ("chart-backlog", "chart-time"):
        pairs = tab.js(
            """id => {
                const figure = document.getElementById(id).closest("figure");
                return [...figure.querySelectorAll(".legend .swatch")].map((swatch, n) => {
                    const bar = figure.querySelector(`svg rect.s${n}`);
                    return [getComputedStyle(swatch).backgroundColor, bar && getComputedStyle(bar).fill];
                });
            }""",
            chart,
        )
        assert pairs, chart
        for swatch, bar in pairs:
            assert bar is None or swatch == bar, (chart, pairs)
        assert len({swatch for swatch, _ in pairs}) == len(pairs), f"{chart}: two series share a colour"


def chart_and_table(tab: Tab, chart: str, section: str) -> tuple[dict[str, str], dict[str, str]]:
    """A bar chart's total per row (as printed next to the bar) and the table's total per row."""
    return tab.js(
        """([chart, section]) => {
            const bars = {};
            for (const row of document.querySelectorAll(`#${chart} g`)) {
                const label = row.querySelector("title").textContent.replace(/: [0-9.:]+$/, "");  // "A: 3:15"
                bars[label] = [...row.querySelectorAll(":scope > text")].at(-1).textContent;
            }
            const table = {};
            for (const row of document.querySelectorAll(`section[aria-labelledby=${section}] tbody tr`))
                table[row.querySelector("th").textContent] = [...row.querySelectorAll("td")].at(-1).textContent;
            return [bars, table];
        }""",
        [chart, section],
    )


def test_the_bar_charts_show_the_figures_of_their_tables(tab, example_site):
    tab.open(example_site.out / "dashboard.html")
    for chart, section in (("chart-backlog", "backlog"), ("chart-age", "age")):
        bars, table = chart_and_table(tab, chart, section)
        assert bars and bars == table, chart


def test_the_time_chart_shows_the_hours_and_minutes_of_its_table(tab, example_site):
    tab.open(example_site.out / "dashboard.html")
    assert "(u:mm)" in tab.page.inner_text("section[aria-labelledby=time]")
    bars, table = chart_and_table(tab, "chart-time", "time")
    assert bars and bars == table


# --- each customer's portal is that customer's alone --------------------------------------------------------------

PORTAL_PAGE = """() => ({
    text: document.body.innerText,
    title: document.title,
    html: document.documentElement.outerHTML,
    links: [...document.querySelectorAll("[href], [src]")].map(element => element.href || element.src),
})"""


def leaks(tab: Tab, folder: Path, mine: set[str], others: set[str]) -> list[str]:
    """Every other customer's number on the portal's pages, and every link out of the portal's folder."""
    pages = sorted(folder.glob("*.html"))
    assert {page.stem for page in pages} - {"index"} <= mine, "a page for a ticket that is not the customer's"
    found = []
    for page in pages:
        tab.open(page)
        seen = tab.js(PORTAL_PAGE)
        for number in sorted(others):
            for where, text in (("text", seen["text"]), ("title", seen["title"]), ("html", seen["html"])):
                if number in text:
                    found.append(f"{page.name}: {number} in the {where}")
            found += [f"{page.name}: {number} in link {link}" for link in seen["links"] if number in link]
        for link in seen["links"]:
            if link != "data:," and (not link.startswith("file:") or path_of(link).parent != folder):
                found.append(f"{page.name}: link out of the portal to {link}")
        if page.name == "index.html" and not any(number in seen["text"] for number in mine):
            found.append("index.html lists none of the customer's own tickets")  # nothing shown, nothing proven
        found += tab.problems()
    return found


def check_portals(tab: Tab, site: Site) -> None:
    for customer, mine in sorted(site.numbers.items()):
        others = set().union(*(numbers for key, numbers in site.numbers.items() if key != customer))
        assert leaks(tab, site.portal(customer), mine, others) == [], customer


def test_a_portal_shows_none_of_another_customers_ticket_numbers(tab, example_site, tmp_path):
    assert len(example_site.numbers) == 6
    check_portals(tab, example_site)

    # The check would notice a number and a link of another customer's on a copy of a portal.
    portal = tmp_path / "brightwave"
    portal.mkdir()
    theirs = min(example_site.numbers["zonnebloem"])
    link = {"</main>": f'<a href="../z/{theirs}.html">see</a></main>'}
    broken_copy(example_site.portal("brightwave") / "index.html", portal / "index.html", link)
    others = set().union(*(ids for key, ids in example_site.numbers.items() if key != "brightwave"))
    found = leaks(tab, portal, example_site.numbers["brightwave"], others)
    assert f"index.html: {theirs} in link {(tmp_path / 'z' / theirs).as_uri()}.html" in found
    assert f"index.html: link out of the portal to {(tmp_path / 'z' / theirs).as_uri()}.html" in found
    broken_copy(portal / "index.html", portal / "index.html", {"see": theirs})
    assert f"index.html: {theirs} in the text" in leaks(tab, portal, example_site.numbers["brightwave"], others)


def test_a_portal_shows_no_numbers_from_internal_notes_nor_a_ticket_moved_away(tab, busy):
    numbers = busy.site.numbers
    assert busy.moved in numbers["fod-digitaal"] and busy.script in numbers["zonnebloem"]
    check_portals(tab, busy.site)
    assert (busy.site.portal("fod-digitaal") / f"{busy.moved}.html").is_file()
    others = set().union(*(ids for key, ids in numbers.items() if key != "zonnebloem"))
    assert leaks(tab, busy.single, numbers["zonnebloem"], others) == []
    assert sorted(page.name for page in busy.single.glob("*.html")) == sorted(
        ["index.html", *(f"{number}.html" for number in numbers["zonnebloem"])]
    )


def test_a_ticket_moved_to_another_customer_leaves_the_old_portal_on_re_export(tab, desk, run, new_ticket, tmp_path):
    moved = new_ticket(title="Wifi valt weg in DC Tilburg", **VANDIJK)["id"]
    stays = new_ticket(title="Wifi valt weg in DC Venlo", **{**VANDIJK, "site": "3002"})["id"]
    out = tmp_path / "site"
    assert export(desk, out).numbers["vandijk"] == {moved, stays}
    assert (out / "customers" / "vandijk" / f"{moved}.html").is_file()
    options = [part for key, value in FOD.items() for part in (f"--{key}", value)]
    assert run("update", moved, *options, "--accept-costs").exit_code == 0  # Wi-Fi: not in FOD's contract
    site = export(desk, out)
    assert site.numbers == {"vandijk": {stays}, "fod-digitaal": {moved}}
    assert leaks(tab, site.portal("vandijk"), {stays}, {moved}) == []
    assert leaks(tab, site.portal("fod-digitaal"), {moved}, {stays}) == []


# --- not blank ----------------------------------------------------------------------------------------------------


def pixels(png: bytes) -> Counter[bytes]:
    """How many pixels of each colour (RGB) a non-interlaced 8-bit RGB or RGBA PNG has; standard library only."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, data, header = 8, [], None
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position : position + 8])
        body = png[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data.append(body)
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    size = 3 if colour_type == 2 else 4
    stride = width * size
    raw = zlib.decompress(b"".join(data))
    previous, counts = bytearray(stride), Counter[bytes]()
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(size, stride):
                line[i] = (line[i] + line[i - size]) & 255
        elif kind == 2:  # Up
            line = bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
        elif kind == 3:  # Average
            for i in range(stride):
                line[i] = (line[i] + ((line[i - size] if i >= size else 0) + previous[i]) // 2) & 255
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - size] if i >= size else 0
                b, c = previous[i], previous[i - size] if i >= size else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        counts.update(bytes(line[i : i + 3]) for i in range(0, stride, size))
        previous = line
    return counts


def blank(png: bytes) -> bool:
    """Next to nothing drawn: a handful of colours, or all but 1% of the pixels the background's."""
    counts = pixels(png)
    background = counts.most_common(1)[0][1]
    return len(counts) < 16 or background > 0.99 * sum(counts.values())


def hex_colour(css: str) -> bytes:
    return bytes(int(part) for part in re.findall(r"\d+", css)[:3])


def test_screenshots_of_the_dashboard_and_a_portal_page_are_not_blank(browser, example_site, tmp_path):
    tab = open_tab(browser, viewport={"width": 640, "height": 480})
    try:
        tab.open(example_site.out / "dashboard.html")
        assert not blank(tab.page.screenshot(path=tmp_path / "dashboard.png"))
        chart = tab.page.locator("#chart-backlog")
        drawn = pixels(chart.screenshot(path=tmp_path / "chart-backlog.png"))
        fills = tab.js("[...document.querySelectorAll('#chart-backlog rect')].map(r => getComputedStyle(r).fill)")
        for fill in set(fills):
            assert drawn[hex_colour(fill)] > 50, f"no bar of colour {fill} on the screen"
        tab.open(example_site.portal("brightwave") / "index.html")
        assert not blank(tab.page.screenshot(path=tmp_path / "portal.png"))
        assert tab.problems() == []

        # The check does tell a blank page: an empty one, and the dashboard with nothing shown.
        tab.page.goto("about:blank")
        assert blank(tab.page.screenshot())
        empty = tmp_path / "empty.html"
        empty.write_text('<!DOCTYPE html><html lang="en"><title>empty</title></html>', encoding="utf-8")
        tab.open(empty)
        assert blank(tab.page.screenshot())
        hidden = broken_copy(
            example_site.out / "dashboard.html",
            tmp_path / "hidden.html",
            {"</style>": "body { visibility: hidden }</style>"},
        )
        tab.open(hidden)
        assert blank(tab.page.screenshot())
    finally:
        tab.page.close()


# --- on a phone ---------------------------------------------------------------------------------------------------

# On a mobile Chromium a page wider than the screen widens the layout viewport (window.innerWidth) with it,
# so the body's width is held against the phone's own width too.
WIDTHS = "[document.documentElement.scrollWidth, window.innerWidth]"


def sideways(tab: Tab) -> int | None:
    """How wide the open page is when it is wider than the phone (it scrolls sideways), else None."""
    scroll_width, inner_width = tab.js(WIDTHS)
    return scroll_width if max(scroll_width, inner_width) > PHONE["width"] else None


def test_on_a_phone_no_page_of_the_example_site_scrolls_sideways(phone, example_site):
    wide = {}
    for page in example_site.pages():
        phone.open(page)
        if sideways(phone):
            wide[str(page.relative_to(example_site.out))] = sideways(phone)
    assert wide == {}


def test_on_a_phone_a_ticket_page_stacks_its_facts(phone, example_site):
    phone.open(next(page for page in example_site.pages() if page.parent.name == "brightwave" and page.stem != "index"))
    assert phone.js("getComputedStyle(document.querySelector('dl.facts')).gridTemplateColumns").count("px") == 1
    assert phone.page.locator("h1").bounding_box()["width"] <= PHONE["width"]


def test_on_a_phone_a_ticket_with_a_url_in_its_title_does_not_scroll_sideways(phone, desk, new_ticket, tmp_path):
    title = "Export fails: https://portal.brightwave.example/reports/monthly/2026-11/care-report.pdf"
    number = new_ticket(title=title, **BRIGHTWAVE)["id"]
    site = export(desk, tmp_path / "site")
    phone.open(site.portal("brightwave") / f"{number}.html")
    assert title in phone.page.inner_text("h1")
    assert sideways(phone) is None
