"""The PMO's currency: the codes it may be (ISO 4217) and how an amount is written.

Why a table and not babel: costs are estimates shown in whole units, in an English-only
interface, in one of the few currencies listed here. The table gives the symbol the
English CLDR locale uses where it is unambiguous, else the code, as babel would for
"en"; babel would add its full CLDR data (tens of megabytes) for these twenty lines.
"""

from decimal import Decimal

from django.conf import settings

# code: (name, prefix). A prefix ending in a space is a code, written before the amount.
CURRENCIES = {
    "GBP": ("Pound sterling", "£"),
    "EUR": ("Euro", "€"),
    "USD": ("US dollar", "US$"),
    "CHF": ("Swiss franc", "CHF "),
    "SEK": ("Swedish krona", "SEK "),
    "NOK": ("Norwegian krone", "NOK "),
    "DKK": ("Danish krone", "DKK "),
    "PLN": ("Polish złoty", "PLN "),
    "CZK": ("Czech koruna", "CZK "),
    "CAD": ("Canadian dollar", "CA$"),
    "AUD": ("Australian dollar", "A$"),
    "NZD": ("New Zealand dollar", "NZ$"),
    "JPY": ("Japanese yen", "JP¥"),
    "CNY": ("Chinese yuan", "CN¥"),
    "INR": ("Indian rupee", "₹"),
    "SGD": ("Singapore dollar", "SGD "),
    "HKD": ("Hong Kong dollar", "HK$"),
    "ZAR": ("South African rand", "ZAR "),
    "BRL": ("Brazilian real", "R$"),
    "MXN": ("Mexican peso", "MX$"),
}

CURRENCY_CHOICES = [(code, f"{code} · {name}") for code, (name, _prefix) in CURRENCIES.items()]


def default_currency() -> str:
    return settings.DEFAULT_CURRENCY


def format_money(value, code: str) -> str:
    """A cost in whole units with thousands separators: "£42,000", "CHF 1,500"; "" for none."""
    if value is None or value == "":
        return ""
    amount = Decimal(str(value)).quantize(Decimal(1))
    prefix = CURRENCIES[code][1] if code in CURRENCIES else (f"{code} " if code else "")
    sign = "−" if amount < 0 else ""
    return f"{sign}{prefix}{abs(amount):,}"
