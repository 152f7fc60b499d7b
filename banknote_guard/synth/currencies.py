"""Fictional currencies of the synthetic generator.

None of these codes is an ISO 4217 code (current or historical) and no design imitates a real note.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Denominations every fictional currency issues, lowest first.
DENOMINATIONS: tuple[str, ...] = ("5", "10", "20", "50", "100")

#: The value of each denomination written in words (printed on the notes).
WORDS: dict[str, str] = {"5": "FIVE", "10": "TEN", "20": "TWENTY", "50": "FIFTY", "100": "ONE HUNDRED"}


@dataclass(frozen=True)
class CurrencySpec:
    """The fixed traits of one fictional currency.

    Attributes:
        code: three-letter code that is not an ISO 4217 code.
        bank: issuing bank, printed on every note.
        unit: the currency unit, printed after the value in words.
        hues: one hue (0..1) per denomination, lowest denomination first.
        aspect: note height / width.
        mirror: True places the portrait on the left of the front.
        serial_letters: two letters that start every serial number.
        motto: the words of the microtext lines.
    """

    code: str
    bank: str
    unit: str
    hues: tuple[float, float, float, float, float]
    aspect: float
    mirror: bool
    serial_letters: str
    motto: str


CURRENCIES: tuple[CurrencySpec, ...] = (
    CurrencySpec("KRT", "BANK OF KORTAVIA", "KORTA", (0.07, 0.36, 0.58, 0.92, 0.13), 0.50, False, "KA",
                 "KORTAVIA CENTRAL BANK"),
    CurrencySpec("VLM", "VELMARAN RESERVE", "VELM", (0.62, 0.02, 0.30, 0.78, 0.47), 0.47, True, "VR",
                 "VELMARAN RESERVE"),
    CurrencySpec("ODR", "NATIONAL BANK OF ODRENIA", "ODRAN", (0.40, 0.84, 0.10, 0.55, 0.70), 0.52, False, "OD",
                 "ODRENIA NATIONAL BANK"),
    CurrencySpec("MXQ", "MAXQUA ISLANDS MONETARY BOARD", "MAXQ", (0.95, 0.50, 0.18, 0.66, 0.26), 0.49, True, "MQ",
                 "MAXQUA MONETARY BOARD"),
    CurrencySpec("QZL", "QUAZELI STATE BANK", "QUAZEL", (0.25, 0.72, 0.04, 0.44, 0.88), 0.51, False, "QZ",
                 "QUAZELI STATE BANK"),
    CurrencySpec("NRV", "CENTRAL BANK OF NORVAINE", "NORVA", (0.55, 0.15, 0.82, 0.34, 0.98), 0.48, True, "NV",
                 "NORVAINE CENTRAL BANK"),
)

_BY_CODE = {c.code: c for c in CURRENCIES}


def currency_spec(code: str) -> CurrencySpec:
    """Look a fictional currency up by its code.

    Raises:
        ParameterError: for a code that is not one of :data:`CURRENCIES`.
    """
    from banknote_guard.errors import parameter_error

    try:
        return _BY_CODE[code]
    except KeyError:
        raise parameter_error("currency", "the synthetic generator",
                              f"one of {', '.join(_BY_CODE)}", code) from None
