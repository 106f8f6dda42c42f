"""The table sdesk prints for people: aligned columns, a title column cut to the terminal."""

import pytest

from sdesk.output import Column, display_width, table, truncate

COLUMNS = (Column("id", "ID"), Column("state", "State"), Column("title", "Title", fill=True))


def test_a_table_aligns_its_columns_under_a_dashed_header_with_no_trailing_blanks(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rows = [{"id": "T-1", "state": "open", "title": "Printer"}, {"id": "T-22", "state": None, "title": ""}]
    assert table(rows, COLUMNS) == "ID    State  Title\n----  -----  -------\nT-1   open   Printer\nT-22\n"


def test_the_fill_column_is_cut_to_the_terminal_and_the_others_are_whole(monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    rows = [{"id": "T-1", "state": "waiting-for-customer", "title": "x" * 100}]
    lines = table(rows, COLUMNS).splitlines()
    assert max(len(line) for line in lines) == 49  # one column spare, as a terminal wants
    assert lines[2].startswith("T-1  waiting-for-customer  xxx") and lines[2].endswith("…")


def test_no_rows_print_nothing_and_cells_are_one_line():
    assert table([], COLUMNS) == ""
    printed = table([{"id": "T-1", "state": "open", "title": "two\nlines\there"}], COLUMNS)
    assert printed.splitlines()[2].endswith("two lines here")


# --- widths in terminal cells ------------------------------------------------------------------

WIDE = (Column("id", "ID"), Column("name", "Name", cut=True), Column("title", "Title", fill=True))


def test_wide_characters_take_two_cells_and_columns_align_in_cells(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    rows = [{"id": "T-1", "name": "株式会社", "title": "印刷できない 😟"}, {"id": "T-22", "name": "acme", "title": "x"}]
    assert table(rows, WIDE) == (
        "ID    Name      Title\n----  --------  ---------------\nT-1   株式会社  印刷できない 😟\nT-22  acme      x\n"
    )


@pytest.mark.parametrize(
    ("text", "room", "cut"),
    [
        ("Zorgdossier – fout bij aanmelden", 10, "Zorgdossi…"),
        ("Überweisung fehlgeschlagen", 10, "Überweisu…"),  # Latin letters beyond ASCII: one cell each
        ("日本語のタイトル", 7, "日本語…"),  # three wide characters and the "…"
        ("日本語", 4, "日…"),  # never half of 本
        ("ab👩\u200d👩\u200d👧cd", 4, "ab…"),  # a family emoji is one character of two cells, not three emoji
        ("ab👩\u200d👩\u200d👧cd", 5, "ab👩\u200d👩\u200d👧…"),
        ("cafe\u0301 noir", 5, "cafe\u0301…"),  # the accent stays with its letter
        ("🇧🇪🇳🇱🇫🇷", 5, "🇧🇪🇳🇱…"),  # flags are pairs of letters
        ("kort", 10, "kort"),
        ("日本", 1, "…"),
    ],
)
def test_a_cut_ends_at_a_cell_and_never_splits_a_character_as_the_reader_sees_it(text, room, cut):
    assert truncate(text, room) == cut
    assert display_width(cut) <= room


@pytest.mark.parametrize("columns", [32, 40, 52, 60, 80])
def test_every_line_fits_down_to_what_the_uncut_columns_need(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    rows = [
        {"id": f"2Q3XN5-V4T3{n}", "name": "株式会社テスト" * n, "title": "プリンターが印刷しません" * n} for n in (1, 2)
    ]
    lines = table(rows, WIDE).splitlines()
    assert len(lines) == 4 and all(display_width(line) < columns for line in lines)


def test_the_title_is_cut_first_then_the_text_columns_then_both_and_numbers_never(monkeypatch):
    rows = [{"id": "2Q3XN5-V4T3T", "name": "servicemanager", "title": "Labelprinter drukt geen polsbandjes"}]
    monkeypatch.setenv("COLUMNS", "50")
    assert table(rows, WIDE).splitlines()[2] == "2Q3XN5-V4T3T  servicemanager  Labelprinter drukt…"
    monkeypatch.setenv("COLUMNS", "40")  # the title is down to 16 cells: the name gives way
    assert table(rows, WIDE).splitlines()[2] == "2Q3XN5-V4T3T  servic…  Labelprinter dr…"
    assert table(rows, WIDE, least_fill=12).splitlines()[2] == "2Q3XN5-V4T3T  serviceman…  Labelprinte…"
    monkeypatch.setenv("COLUMNS", "33")  # the name is down to 6: the title gives way below 16, widest first
    assert table(rows, WIDE).splitlines()[2] == "2Q3XN5-V4T3T  servi…  Labelprin…"
    monkeypatch.setenv("COLUMNS", "20")  # a ticket number is never cut: a cut one would read as another
    assert table(rows, WIDE).splitlines()[2] == "2Q3XN5-V4T3T  servi…  Label…"


def test_optional_columns_make_way_for_the_title_in_the_order_named(monkeypatch):
    columns = (*WIDE[:2], Column("team", "Team", cut=True), WIDE[2])
    rows = [{"id": "2Q3XN5-V4T3T", "name": "zonnebloem", "team": "applications", "title": "Printer drukt niet af"}]
    for width, headers in ((80, ["ID", "Name", "Team", "Title"]), (50, ["ID", "Name", "Title"]), (40, ["ID", "Title"])):
        monkeypatch.setenv("COLUMNS", str(width))
        assert table(rows, columns, optional=("team", "name")).split("\n", 1)[0].split() == headers
