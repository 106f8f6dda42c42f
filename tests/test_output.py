"""The table sdesk prints for people: aligned columns, a title column cut to the terminal."""

from sdesk.output import Column, table

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
