"""Tests of the procedural note designs."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.synth.currencies import CURRENCIES, DENOMINATIONS
from banknote_guard.synth.design import note_design, render_note

# ISO 4217 codes, current and withdrawn, that a fictional currency must never use.
ISO_4217 = set("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF
CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF
GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD
LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY
TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF
XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL ADP AFA ALK AOK AON AOR ARA ARP ATS AZM BEF BGL BOP BRB BRC BRE BRN BRR BYB
BYR CSD CSK CYP DDM DEM ECS ECV EEK ESP FIM FRF GHC GRD GWP IEP ITL LTL LUF LVL MGF MLF MRO MTL MXP MZM NLG PEI PLZ
PTE ROL RUR SDD SIT SKK SRG STD TJR TMM TRL UAK VEB VEF XEU XFO XFU YDD YUD YUM YUN ZMK ZRN ZRZ ZWD ZWN ZWR
""".split())


def test_currency_codes_are_fictional_and_distinct() -> None:
    codes = [c.code for c in CURRENCIES]
    assert len(codes) >= 4
    assert len(set(codes)) == len(codes)
    assert not set(codes) & ISO_4217
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in codes)


def test_render_note_shape_and_determinism() -> None:
    a = render_note("KRT", "20", "front", serial="KAB0000001", width=200, rng=np.random.default_rng(3))
    b = render_note("KRT", "20", "front", serial="KAB0000001", width=200, rng=np.random.default_rng(3))
    assert a.dtype == np.uint8 and a.shape == (100, 200, 3)
    assert np.array_equal(a, b)


def test_serial_changes_only_a_small_part_of_the_note() -> None:
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    a = render_note("KRT", "10", "front", serial="KAB0000001", width=320, rng=rng_a).astype(int)
    b = render_note("KRT", "10", "front", serial="KAB9999999", width=320, rng=rng_b).astype(int)
    changed = np.abs(a - b).max(axis=2) > 0
    assert 0 < changed.mean() < 0.05


def test_denominations_and_sides_differ() -> None:
    w = 160
    imgs = [render_note("VLM", d, s, serial="VRA1234567", width=w, rng=np.random.default_rng(0)).astype(float)
            for d in DENOMINATIONS[:3] for s in ("front", "back")]
    for i in range(len(imgs)):
        for j in range(i + 1, len(imgs)):
            assert np.abs(imgs[i] - imgs[j]).mean() > 5.0


def test_design_has_security_features() -> None:
    front = note_design("ODR", "50", "front", 256)
    back = note_design("ODR", "50", "back", 256)
    assert front.holo_mask is not None and front.holo_mask.max() > 0.9
    assert back.holo_mask is None
    for d in (front, back):
        assert d.thread_mask.max() > 0.9 and d.window_mask.max() > 0.9
        assert d.numeral_boxes
    assert len(front.serial_spots) == 2


@pytest.mark.parametrize("kwargs", [dict(currency="EUR"), dict(denomination="7"), dict(side="middle"),
                                    dict(width=10)])
def test_render_note_rejects_bad_arguments(kwargs: dict) -> None:
    args = dict(currency="KRT", denomination="5", side="front", width=160) | kwargs
    with pytest.raises(ParameterError):
        render_note(args.pop("currency"), args.pop("denomination"), args.pop("side"), serial="X",
                    rng=np.random.default_rng(0), **args)
