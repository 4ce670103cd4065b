"""The one reader of whole numbers from a request (app/pagination.py): what it takes, what it refuses, its bounds."""
import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import pagination
from app.models import Tag
from app.pagination import MAX_PAGE, bounded_int, page_number, page_of, split_page, url_int


@pytest.mark.parametrize("text,expected", [
    ("7", 7), (" 7 ", 7), ("-3", -3), ("007", 7), ("365", 365),
    ("366", None), ("-99999999999999999999999", None), ("99999999999999999999999", None), ("9" * 10_000, None),
    ("", None), (None, None), ("1.5", None), ("1e3", None), ("0x10", None), ("+7", None), ("1_000", None),
    ("NaN", None), ("Infinity", None), ("\u0661\u0662\u0663", None), ("\uff11\uff12\uff13", None), ("\u00b9\u00b2\u00b3", None),
    ("12\x00", None), ("\U0001f522", None),
])
def test_only_ascii_whole_numbers_within_bounds_are_read(text, expected):
    assert bounded_int(text, low=-365, high=365) == expected


def test_out_of_range_is_the_default_or_the_nearer_bound():
    assert bounded_int("400", low=1, high=365, default=30) == 30
    assert bounded_int("400", low=1, high=365, clamp=True) == 365
    assert bounded_int("-4", low=1, high=365, clamp=True) == 1
    assert bounded_int("x", low=1, high=365, default=30, clamp=True) == 30  # not a number: the default, never a bound


@pytest.mark.parametrize("query,page", [
    ({}, 1), ({"page": "3"}, 3), ({"page": "0"}, 1), ({"page": "-1"}, 1), ({"page": "x"}, 1), ({"page": ""}, 1),
    ({"page": "99999999999999999999999"}, MAX_PAGE), ({"page": str(MAX_PAGE + 1)}, MAX_PAGE), ({"page": "1e309"}, 1),
])
def test_a_page_number_is_between_1_and_the_last_page_allowed(query, page):
    assert page_number(MultiDict(query)) == page


def test_a_url_integer_is_read_from_the_query_by_name():
    args = MultiDict({"before": "12", "months": "99999999999999999999"})
    assert url_int(args, "before", low=1, high=2**63 - 1) == 12
    assert url_int(args, "months", low=1, high=24, default=12) == 12
    assert url_int(args, "absent", low=1, high=24, default=6) == 6


def test_a_page_is_cut_within_bounds_whoever_asks(monkeypatch):
    """Services clamp too: a caller passing a page straight from somewhere else still gets a bounded offset."""
    monkeypatch.setattr(pagination, "PAGE_SIZE", 10)
    for asked, offset in ((1, 0), (3, 20), (0, 0), (-5, 0), (10**30, (MAX_PAGE - 1) * 10)):
        stmt = page_of(select(Tag.id), asked)
        assert (stmt._offset, stmt._limit) == (offset, 11), asked  # one row more: whether a next page follows


def test_the_extra_row_says_another_page_follows(monkeypatch):
    monkeypatch.setattr(pagination, "PAGE_SIZE", 2)
    assert split_page(["a", "b", "c"]) == (["a", "b"], True)
    assert split_page(["a", "b"]) == (["a", "b"], False)
    assert split_page([]) == ([], False)
