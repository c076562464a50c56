"""The pricing engine's arithmetic (orders.pricing.engine), no database: hypothesis properties over
random carts, rates, shipping methods and vouchers, and worked UK VAT examples from HMRC."""
from decimal import Decimal

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from orders.pricing import (LineInput, Policy, Rounding, ShippingInput, TaxRates, VoucherInput, VoucherKind,
                            WeightBand, price)
from orders.pricing.rounding import allocate, round_money

D = Decimal
CENT = D("0.01")
EXAMPLES = 400  # per property; the closing note of issue 26 quotes these counts

money = st.decimals(min_value=D("0"), max_value=D("2000"), places=2, allow_nan=False, allow_infinity=False)
rates = st.sampled_from([D("0"), D("0.05"), D("0.07"), D("0.19"), D("0.20"), D("0.21"), D("0.255")])
tax_classes = st.sampled_from(["standard", "reduced", "zero"])


@st.composite
def lines(draw, min_size=1):
    count = draw(st.integers(min_value=min_size, max_value=6))
    result = []
    for index in range(count):
        unit = draw(money)
        list_price = unit + draw(st.sampled_from([D("0"), D("0.01"), D("5.00"), D("19.99")]))
        result.append(LineInput(key=index, quantity=draw(st.integers(1, 99)), unit_price=unit, list_price=list_price,
                                tax_class=draw(tax_classes), weight=draw(st.decimals(D("0"), D("30"), places=3))))
    return result


@st.composite
def rate_tables(draw):
    destination = {cls: draw(rates) for cls in ("standard", "reduced", "zero")}
    origin = destination if draw(st.booleans()) else {cls: draw(rates) for cls in ("standard", "reduced", "zero")}
    return TaxRates(destination=destination, origin=origin)


shipping_methods = st.one_of(
    st.none(),
    st.builds(ShippingInput, code=st.just("standard"), name=st.just("Standard"), price=money,
              free_above=st.one_of(st.none(), money)),
    st.builds(ShippingInput, code=st.just("heavy"), name=st.just("By weight"),
              bands=st.just((WeightBand(D("10000"), D("9.50")), WeightBand(D("2"), D("4.00"))))),
)
vouchers = st.one_of(
    st.none(),
    st.builds(VoucherInput, code=st.just("PCT"), kind=st.just(VoucherKind.PERCENTAGE),
              value=st.decimals(D("0"), D("100"), places=2)),
    st.builds(VoucherInput, code=st.just("FIXED"), kind=st.just(VoucherKind.FIXED), value=money,
              min_subtotal=st.one_of(st.none(), money)),
    st.builds(VoucherInput, code=st.just("SHIPFREE"), kind=st.just(VoucherKind.FREE_SHIPPING)),
)
# Vouchers limited to products/categories: the keys of the lines in scope (lines() keys are 0-5).
eligible_keys = st.frozensets(st.integers(0, 6), max_size=7)
scoped_vouchers = st.one_of(
    st.builds(VoucherInput, code=st.just("JACKETS10"), kind=st.just(VoucherKind.PERCENTAGE),
              value=st.decimals(D("0"), D("100"), places=2), eligible=eligible_keys, scope=st.just("Jackets")),
    st.builds(VoucherInput, code=st.just("JACKETS5"), kind=st.just(VoucherKind.FIXED), value=money,
              min_subtotal=st.one_of(st.none(), money), eligible=eligible_keys, scope=st.just("Jackets")),
    st.builds(VoucherInput, code=st.just("JACKETSHIP"), kind=st.just(VoucherKind.FREE_SHIPPING),
              eligible=eligible_keys, scope=st.just("Jackets")),
)
vouchers = st.one_of(vouchers, scoped_vouchers)
policies = st.builds(Policy, currency=st.sampled_from(["USD", "GBP", "EUR"]), prices_include_tax=st.booleans(),
                     display_gross=st.booleans(), rounding=st.sampled_from(Rounding.CHOICES))


def parts(cart):
    return [*cart.lines, *([cart.shipping] if cart.shipping else [])]


@hypothesis_settings(max_examples=EXAMPLES, deadline=None)
@given(lines(), policies, rate_tables(), shipping_methods, vouchers)
def test_no_amount_is_ever_negative(items, policy, table, shipping, voucher):
    cart = price(items, policy=policy, rates=table, shipping=shipping, voucher=voucher)
    amounts = [cart.subtotal, cart.discount, cart.tax, cart.total, cart.net_total]
    for part in parts(cart):
        amounts += [part.discount, part.amount, part.tax, part.net, part.gross]
    assert min(amounts) >= 0
    assert all(line.discount <= line.line_total for line in cart.lines)  # a discount never passes the goods


@hypothesis_settings(max_examples=EXAMPLES, deadline=None)
@given(lines(), policies, rate_tables(), shipping_methods, vouchers)
def test_line_amounts_add_up_to_the_order_amounts_to_the_cent(items, policy, table, shipping, voucher):
    cart = price(items, policy=policy, rates=table, shipping=shipping, voucher=voucher)
    every = parts(cart)
    assert cart.subtotal == sum(line.line_total for line in cart.lines)
    assert cart.discount == sum(part.discount for part in every)
    assert cart.tax == sum(part.tax for part in every)
    assert cart.total == sum(part.gross for part in every)
    assert cart.net_total == sum(part.net for part in every)
    shipping_price = cart.shipping.price if cart.shipping else 0
    assert cart.total == cart.subtotal - cart.discount + shipping_price + (0 if policy.prices_include_tax else cart.tax)
    for amount in [cart.total, cart.tax, *(part.tax for part in every), *(part.gross for part in every)]:
        assert amount == amount.quantize(CENT)  # whole cents: what a card can be charged


@hypothesis_settings(max_examples=EXAMPLES, deadline=None)
@given(lines(), st.booleans(), rate_tables(), shipping_methods, vouchers)
def test_gross_and_net_agree_under_both_rounding_settings(items, include_tax, table, shipping, voucher):
    carts = {mode: price(items, policy=Policy(currency="GBP", prices_include_tax=include_tax, rounding=mode),
                         rates=table, shipping=shipping, voucher=voucher)
             for mode in Rounding.CHOICES}
    for cart in carts.values():
        for part in [*parts(cart), cart]:
            gross = part.total if part is cart else part.gross
            net = part.net_total if part is cart else part.net
            assert net + part.tax == gross
    by_line, by_order = carts[Rounding.LINE], carts[Rounding.ORDER]
    # Same goods, same discount; only where the tax is rounded differs, by at most half a cent a part.
    assert by_line.subtotal == by_order.subtotal and by_line.discount == by_order.discount
    assert abs(by_line.tax - by_order.tax) <= CENT * len(parts(by_line)) / 2
    if include_tax:  # the shopper pays the shelf price whatever the rounding
        assert by_line.total == by_order.total


@hypothesis_settings(max_examples=EXAMPLES, deadline=None)
@given(lines(), policies, st.decimals(D("1"), D("100"), places=0))
def test_a_percentage_voucher_applies_to_the_sale_price_not_the_regular_price(items, policy, percent):
    """saleor#17453 and oscar#2893: the percentage was taken off the undiscounted total."""
    cart = price(items, policy=policy, voucher=VoucherInput("SALE", VoucherKind.PERCENTAGE, percent))
    selling = sum(line.unit_price * line.quantity for line in items)
    assert cart.discount == round_money(selling * percent / 100, policy.currency)
    assert cart.subtotal - cart.discount >= selling * (100 - percent) / 100 - CENT
    if selling * (100 - percent) / 100 >= CENT:
        assert cart.total > 0  # never free by stacking a voucher on a sale (half a cent rounds to a cent)


def test_the_issues_example_explained():
    cart = price([LineInput(key=1, quantity=1, unit_price=D("57.00"), list_price=D("60.00"))],
                 policy=Policy(currency="USD", prices_include_tax=True, tax_label="VAT"),
                 rates=TaxRates({"standard": D("0.20")}, {"standard": D("0.20")}),
                 voucher=VoucherInput("SPRING10", VoucherKind.PERCENTAGE, D("10")))
    assert cart.explanation == "$57.00 − 10% SPRING10 = $51.30, incl. 20% VAT $8.55"
    assert (cart.total, cart.tax, cart.lines[0].discount_reason) == (D("51.30"), D("8.55"), "10% SPRING10")


# Worked examples of VAT-inclusive prices. Source: HMRC, "VAT Notice 700: the VAT guide", the VAT
# fraction (gov.uk/guidance/vat-guide-notice-700): the VAT in a VAT-inclusive price is the price
# times rate / (100 + rate), i.e. 1/6 at the standard 20 % and 1/21 at the reduced 5 %; and its
# rounding rules (VAT per line or on the invoice total, to the nearest penny).
UK_VAT_EXAMPLES = [
    # (VAT-inclusive prices and quantities, rate, rounding, VAT, net)
    ([("120.00", 1)], "0.20", Rounding.LINE, "20.00", "100.00"),   # 120 x 1/6
    ([("10.00", 1)], "0.20", Rounding.LINE, "1.67", "8.33"),       # 1.666... to the nearest penny
    ([("4.99", 1)], "0.20", Rounding.LINE, "0.83", "4.16"),
    ([("21.00", 1)], "0.05", Rounding.LINE, "1.00", "20.00"),      # 21 x 1/21, reduced rate
    ([("25.00", 2)], "0", Rounding.LINE, "0.00", "50.00"),         # zero-rated (books, children's clothes)
    ([("0.99", 1)] * 3, "0.20", Rounding.LINE, "0.51", "2.46"),    # 0.165 a line, rounded per line
    ([("0.99", 1)] * 3, "0.20", Rounding.ORDER, "0.50", "2.47"),   # 2.97 x 1/6 = 0.495 once on the invoice
]


@pytest.mark.parametrize(("prices", "rate", "rounding", "vat", "net"), UK_VAT_EXAMPLES)
def test_uk_vat_inclusive_prices(prices, rate, rounding, vat, net):
    items = [LineInput(key=i, quantity=q, unit_price=D(p)) for i, (p, q) in enumerate(prices)]
    table = TaxRates({"standard": D(rate)}, {"standard": D(rate)})
    cart = price(items, policy=Policy(currency="GBP", prices_include_tax=True, rounding=rounding), rates=table)
    assert (cart.tax, cart.net_total) == (D(vat), D(net))
    assert cart.total == sum(D(p) * q for p, q in prices)  # the shelf price is what is paid


def test_prices_entered_with_vat_drop_the_shops_vat_for_a_buyer_outside_it():
    """saleor#2287: a £60.00 (incl. 20 % VAT) price costs £50.00 where the shop charges no VAT."""
    cart = price([LineInput(key=1, quantity=1, unit_price=D("60.00"))],
                 policy=Policy(currency="GBP", prices_include_tax=True),
                 rates=TaxRates(destination={}, origin={"standard": D("0.20")}))
    assert (cart.total, cart.tax) == (D("50.00"), D("0.00"))


def test_shipping_is_taxed_at_the_lines_weighted_rate():
    items = [LineInput(key=1, quantity=1, unit_price=D("30.00"), tax_class="standard"),
             LineInput(key=2, quantity=1, unit_price=D("10.00"), tax_class="zero")]
    cart = price(items, policy=Policy(currency="GBP"), rates=TaxRates({"standard": D("0.20")}),
                 shipping=ShippingInput("standard", "Standard", D("4.00")))
    assert cart.shipping.tax_rate == D("0.15") and cart.shipping.tax == D("0.60")


def test_weight_bands_and_free_above():
    heavy = [LineInput(key=1, quantity=3, unit_price=D("10.00"), weight=D("1.5"))]
    bands = (WeightBand(D("2"), D("4.00")), WeightBand(D("5"), D("8.00")))
    method = ShippingInput("intl", "International", bands=bands, free_above=D("100.00"))
    assert price(heavy, policy=Policy(currency="USD"), shipping=method).shipping.price == D("8.00")  # 4.5 kg
    rich = [LineInput(key=1, quantity=10, unit_price=D("10.00"), weight=D("0.1"))]
    assert price(rich, policy=Policy(currency="USD"), shipping=method).shipping.price == D("0")


def test_a_voucher_below_its_minimum_gives_nothing_and_says_why():
    cart = price([LineInput(key=1, quantity=1, unit_price=D("20.00"))], policy=Policy(currency="USD"),
                 voucher=VoucherInput("BIG", VoucherKind.FIXED, D("5"), min_subtotal=D("50.00")))
    assert cart.discount == 0 and cart.voucher_error == "BIG needs $50.00 of goods or more."


@hypothesis_settings(max_examples=EXAMPLES, deadline=None)
@given(lines(), policies, rate_tables(), shipping_methods, scoped_vouchers)
def test_a_scoped_voucher_discounts_only_its_lines_on_their_selling_price(items, policy, table, shipping, voucher):
    cart = price(items, policy=policy, rates=table, shipping=shipping, voucher=voucher)
    in_scope = [line for line in cart.lines if line.key in voucher.eligible]
    assert all(line.discount == 0 for line in cart.lines if line.key not in voucher.eligible)
    if not in_scope:
        assert cart.discount == 0  # nor free shipping
        assert cart.voucher_error == f"{voucher.code} applies to Jackets only." \
            or cart.voucher_error.endswith("of goods or more.")  # the minimum is checked first
        return
    selling = sum(line.line_total for line in in_scope)  # destination selling prices, never the list price
    discounted = sum(line.discount for line in in_scope)
    if cart.voucher_error:
        assert discounted == 0 and "needs" in cart.voucher_error
    elif voucher.kind == VoucherKind.PERCENTAGE:
        assert discounted == round_money(selling * voucher.value / 100, policy.currency)
        assert all(line.discount_reason == f"{voucher.value.normalize():f}% JACKETS10 on Jackets"
                   for line in in_scope if line.discount)
    elif voucher.kind == VoucherKind.FIXED:
        assert discounted == min(voucher.value, selling)  # capped at the eligible lines' value
    else:
        assert discounted == 0 and (cart.shipping is None or cart.shipping.discount == cart.shipping.price)


def test_spring10_on_jackets_explained_and_a_cart_without_jackets_told_why():
    jacket = LineInput(key="jacket", quantity=1, unit_price=D("57.00"), list_price=D("60.00"), name="Jacket")
    scarf = LineInput(key="scarf", quantity=2, unit_price=D("15.00"), name="Scarf")
    spring10 = VoucherInput("SPRING10", VoucherKind.PERCENTAGE, D("10"), eligible=frozenset({"jacket"}),
                            scope="Jackets")
    cart = price([jacket, scarf], policy=Policy(currency="GBP"), voucher=spring10)
    assert [line.discount for line in cart.lines] == [D("5.70"), D("0")]  # 10 % of the sale price, jacket only
    assert cart.explanation == "£87.00 − 10% SPRING10 on Jackets = £81.30"
    fixed = price([jacket, scarf], policy=Policy(currency="GBP"),
                  voucher=VoucherInput("JACKET100", VoucherKind.FIXED, D("100"), eligible=frozenset({"jacket"}),
                                       scope="Jackets"))
    assert (fixed.discount, fixed.total) == (D("57.00"), D("30.00"))  # capped at the jacket, scarves untouched
    no_jacket = price([scarf], policy=Policy(currency="GBP"), voucher=spring10)
    assert (no_jacket.discount, no_jacket.voucher_error) == (0, "SPRING10 applies to Jackets only.")
    assert no_jacket.explanation == "£30.00 (SPRING10 applies to Jackets only.)"


@given(st.lists(money, min_size=1, max_size=8), money)
def test_allocation_sums_exactly(weights, total):
    parts_ = allocate(total, weights, "USD")
    assert sum(parts_) == total and all(part >= 0 for part in parts_)
