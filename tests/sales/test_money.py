"""Money (app/sales/money.py) and the Fixed column type, as properties over every kind of line: a line is
rounded once, half up to the cent (net, then VAT on the rounded net); totals are sums of the lines' rounded
amounts, rate by rate, whatever the order of the lines; a Fixed column gives back the decimal it was given."""
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.models.sales import Fixed, from_units
from app.sales.money import LineAmounts, line_amounts, to_cents, totals

CASES = settings(max_examples=200, deadline=None)


def scaled(low: int, high: int, places: int):
    """Decimals with exactly ``places`` decimals between ``low`` and ``high``."""
    return st.integers(low * 10**places, high * 10**places).map(lambda n: Decimal(n).scaleb(-places))


# Anywhere in range, plus everyday figures (fewer decimals), which hit the half-cent ties far more often.
quantities = st.one_of(scaled(-10**6, 10**6, 3), scaled(-1000, 1000, 0), scaled(-100, 100, 1))  # < 0: credit, rebate
unit_prices = st.one_of(scaled(-10**6, 10**6, 4), scaled(-1000, 1000, 3), scaled(-1000, 1000, 2))
percents = st.one_of(scaled(0, 100, 2), scaled(0, 100, 0), st.sampled_from([Decimal("5.5"), Decimal("2.1")]))  # discounts, VAT
line_values = st.tuples(quantities, unit_prices, percents, percents)


def half_up(exact: Fraction) -> Fraction:
    """``exact`` rounded to the cent, half away from zero, computed without Decimal."""
    cents = floor(abs(exact) * 100 + Fraction(1, 2))
    return Fraction(cents if exact >= 0 else -cents, 100)


def exact_net(quantity, unit_price, discount) -> Fraction:
    return Fraction(quantity) * Fraction(unit_price) * (100 - Fraction(discount)) / 100


@dataclass(frozen=True)
class Line:
    """What ``totals`` reads of a line: its rounded amounts and its rate."""

    net: Decimal
    vat: Decimal
    vat_rate: Decimal


def make_line(quantity, unit_price, discount, vat_rate) -> Line:
    amounts = line_amounts(quantity, unit_price, discount, vat_rate)
    return Line(amounts.net, amounts.vat, vat_rate)


def cents_only(value: Decimal) -> bool:
    return value.as_tuple().exponent == -2


# --- one line ---

@CASES
@given(line_values)
def test_a_lines_net_is_the_exact_value_rounded_half_up_to_the_cent(values):
    quantity, unit_price, discount, vat_rate = values
    net = line_amounts(quantity, unit_price, discount, vat_rate).net
    exact = exact_net(quantity, unit_price, discount)
    assert cents_only(net)
    assert abs(Fraction(net) - exact) <= Fraction(5, 1000)
    assert Fraction(net) == half_up(exact)


@CASES
@given(st.integers(-10**8, 10**8), st.sampled_from([Decimal(1), Decimal(-1), Decimal("0.5")]))
def test_half_a_cent_always_goes_away_from_zero(cents, quantity):
    unit_price = Decimal(10 * cents + 5).scaleb(-3) / quantity  # the net is exactly (cents + ½) hundredths
    net = line_amounts(quantity, unit_price, Decimal(0), Decimal(0)).net
    assert Fraction(net) == half_up(Fraction(10 * cents + 5, 1000))
    assert abs(net) == abs(Decimal(10 * cents + 5).scaleb(-3)) + Decimal("0.005")


@CASES
@given(line_values)
def test_a_lines_vat_is_its_rounded_net_times_the_rate_rounded_half_up(values):
    quantity, unit_price, discount, vat_rate = values
    amounts = line_amounts(quantity, unit_price, discount, vat_rate)
    assert cents_only(amounts.vat)
    assert Fraction(amounts.vat) == half_up(Fraction(amounts.net) * Fraction(vat_rate) / 100)
    assert amounts.gross == amounts.net + amounts.vat and cents_only(amounts.gross)


@CASES
@given(line_values)
def test_a_credit_line_is_the_exact_opposite_of_the_line_it_cancels(values):
    quantity, unit_price, discount, vat_rate = values
    line, credit = line_amounts(quantity, unit_price, discount, vat_rate), line_amounts(-quantity, unit_price, discount, vat_rate)
    assert (credit.net, credit.vat) == (-line.net, -line.vat)  # half away from zero: symmetric around zero


@pytest.mark.parametrize(("quantity", "unit_price", "discount", "vat_rate", "net", "vat"), [
    ("1", "119.99", "10", "22", "107.99", "23.76"),  # 107.991 → 107.99; 23.7578 → 23.76
    ("3", "85.50", "0", "20", "256.50", "51.30"),
    ("1", "0.005", "0", "0", "0.01", "0.00"),  # half a cent goes up...
    ("1", "-0.005", "0", "0", "-0.01", "0.00"),  # ...and away from zero below it
    ("0.001", "5", "0", "0", "0.01", "0.00"),
    ("1", "0.0049", "0", "0", "0.00", "0.00"),
    ("2.5", "10", "0", "5.5", "25.00", "1.38"),  # 1.375 → 1.38
    ("-2.5", "10", "0", "5.5", "-25.00", "-1.38"),
    ("1", "0.0456", "0", "10", "0.05", "0.01"),  # VAT on the rounded net (0.005), not on 0.0456 (0.00456)
    ("4", "12.50", "100", "20", "0.00", "0.00"),  # a line given away
    ("1000000", "1000000", "0", "20", "1000000000000.00", "200000000000.00"),  # the largest line stays exact
])
def test_worked_examples(quantity, unit_price, discount, vat_rate, net, vat):
    amounts = line_amounts(Decimal(quantity), Decimal(unit_price), Decimal(discount), Decimal(vat_rate))
    assert (amounts.net, amounts.vat) == (Decimal(net), Decimal(vat))
    assert cents_only(amounts.net) and cents_only(amounts.vat)


def test_to_cents_rounds_half_away_from_zero():
    assert [str(to_cents(Decimal(v))) for v in ("0.005", "-0.005", "0.015", "0.025", "2.675", "-2.675", "0.0049999")] == \
        ["0.01", "-0.01", "0.02", "0.03", "2.68", "-2.68", "0.00"]


# --- a document's totals ---

documents = st.lists(line_values, max_size=12).map(lambda lines: [make_line(*values) for values in lines])


@CASES
@given(documents)
def test_totals_are_the_sums_of_the_lines_rounded_amounts(lines):
    result = totals(lines)
    assert result.net == sum((line.net for line in lines), Decimal(0))
    assert result.vat == sum((line.vat for line in lines), Decimal(0))
    assert result.gross == result.net + result.vat
    assert cents_only(result.net) and cents_only(result.vat) and cents_only(result.gross)


@CASES
@given(documents)
def test_the_breakdown_by_rate_adds_up_to_the_totals(lines):
    result = totals(lines)
    assert set(result.by_rate) == {line.vat_rate for line in lines}
    assert list(result.by_rate) == sorted(result.by_rate)
    for rate, amounts in result.by_rate.items():
        at_rate = [line for line in lines if line.vat_rate == rate]
        assert amounts.net == sum((line.net for line in at_rate), Decimal(0))
        assert amounts.vat == sum((line.vat for line in at_rate), Decimal(0))
    assert sum((a.net for a in result.by_rate.values()), Decimal("0.00")) == result.net
    assert sum((a.vat for a in result.by_rate.values()), Decimal("0.00")) == result.vat
    assert sum((a.gross for a in result.by_rate.values()), Decimal("0.00")) == result.gross


@CASES
@given(st.data(), documents)
def test_totals_do_not_depend_on_the_order_of_the_lines(data, lines):
    shuffled = data.draw(st.permutations(lines))
    before, after = totals(lines), totals(shuffled)
    assert (before.net, before.vat, before.gross) == (after.net, after.vat, after.gross)
    assert list(before.by_rate.items()) == list(after.by_rate.items())


def test_an_empty_document_totals_zero():
    result = totals([])
    assert (str(result.net), str(result.vat), str(result.gross), result.by_rate) == ("0.00", "0.00", "0.00", {})


def test_totals_of_rounded_lines_may_differ_from_rounding_the_total():
    lines = [make_line(Decimal(1), Decimal("2.50"), Decimal(0), Decimal("5.5")) for _ in range(3)]
    result = totals(lines)
    assert (result.net, result.vat) == (Decimal("7.50"), Decimal("0.42"))  # 3 × 0.14, not 7.50 × 5.5 % = 0.41
    assert result.by_rate == {Decimal("5.5"): LineAmounts(Decimal("7.50"), Decimal("0.42"))}


def test_a_quote_with_two_rates():
    lines = [make_line(Decimal(3), Decimal("85.50"), Decimal(0), Decimal(20)),
             make_line(Decimal(1), Decimal("119.99"), Decimal(10), Decimal(22)),
             make_line(Decimal(-1), Decimal("50"), Decimal(0), Decimal("20.00"))]  # a rebate; 20.00 is rate 20
    result = totals(lines)
    assert (str(result.net), str(result.vat), str(result.gross)) == ("314.49", "65.06", "379.55")
    assert [(str(rate), str(a.net), str(a.vat)) for rate, a in result.by_rate.items()] == \
        [("20", "206.50", "41.30"), ("22", "107.99", "23.76")]


# --- the Fixed column type ---

def fixed_values(scale: int):
    """Decimals with 0 to ``scale`` decimals that fit a BIGINT once scaled."""
    limit = (2**63 - 1) // 10**scale
    return st.builds(lambda n, places: Decimal(n).scaleb(-places), st.integers(-limit, limit), st.integers(0, scale))


@pytest.mark.parametrize("scale", [2, 3, 4])
@CASES
@given(data=st.data())
def test_a_fixed_column_gives_back_the_decimal_it_was_given(scale, data):
    value = data.draw(fixed_values(scale))
    column = Fixed(scale)
    stored = column.process_bind_param(value, None)
    assert type(stored) is int and stored == value * 10**scale
    back = column.process_result_value(stored, None)
    assert back == value and back.as_tuple().exponent == -scale
    assert back == value.quantize(Decimal(1).scaleb(-scale))


@pytest.mark.parametrize(("scale", "value", "stored", "back"), [
    (2, Decimal("12"), 1200, "12.00"),
    (2, Decimal("-0.01"), -1, "-0.01"),
    (3, Decimal("1.5"), 1500, "1.500"),
    (4, Decimal("119.99"), 1199900, "119.9900"),
    (2, Decimal("1E+2"), 10000, "100.00"),
    (2, None, None, None),
])
def test_fixed_examples(scale, value, stored, back):
    column = Fixed(scale)
    assert column.process_bind_param(value, None) == stored
    result = column.process_result_value(stored, None)
    assert (None if result is None else str(result)) == back


@CASES
@given(st.lists(st.integers(-10**12, 10**12), max_size=20))
def test_a_sum_of_scaled_integers_reads_back_exactly(units):
    amounts = [Fixed(2).process_result_value(unit, None) for unit in units]
    assert from_units(sum(units)) == sum(amounts, Decimal("0.00"))
    assert from_units(None) == Decimal("0.00") and cents_only(from_units(sum(units)))
