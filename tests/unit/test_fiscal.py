"""Fiscal-code checks on python-stdnum: IDNO check digit, EU VAT numbers, Czech IČO.

The valid and invalid examples are python-stdnum's own (the docstrings of stdnum.md.idno,
stdnum.eu.vat and stdnum.cz.dic, and the IČO numbers "found online" in its test_cz_ico
doctest), so a mistake in how we call the library shows up against known answers."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.mapping import fiscal

# --- IDNO ------------------------------------------------------------------------------


def test_idno_with_its_check_digit_passes() -> None:
    assert fiscal.normalise_idno("1008600038413") == "1008600038413"
    assert fiscal.normalise_idno(" 1008 6000 38413 ") == "1008600038413"
    assert fiscal.normalise_idno(1008600038413) == "1008600038413"


def test_idno_failing_its_check_digit_says_so_and_keeps_the_code() -> None:
    with pytest.raises(fiscal.CheckDigitError) as error:
        fiscal.normalise_idno("1008600038412")
    assert error.value.code == "1008600038412"
    assert "IDNO 1008600038412 fails its check digit" in str(error.value)


def test_idno_of_the_wrong_shape_is_not_a_check_digit_problem() -> None:
    with pytest.raises(ValueError, match="exactly 13 digits") as error:
        fiscal.normalise_idno("100860003841")
    assert not isinstance(error.value, fiscal.CheckDigitError)


def test_find_code_hands_the_well_formed_code_to_the_caller() -> None:
    with pytest.raises(fiscal.CodeError) as error:
        fiscal.find_code([("idno", "1008600038412")], ("idno",), fiscal.normalise_idno)
    assert (error.value.key, error.value.well_formed) == ("idno", "1008600038412")
    with pytest.raises(fiscal.CodeError) as error:
        fiscal.find_code([("idno", "12345")], ("idno",), fiscal.normalise_idno)
    assert error.value.well_formed == ""


def test_idnp_has_no_check_digit_we_verify() -> None:
    # python-stdnum has no IDNP module; any 13 digits pass.
    assert fiscal.find_code([("idnp", "2001234567890")], ("idnp",)).code == "2001234567890"


# --- EU VAT numbers --------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("ATU 57194903", "ATU57194903"),
    ("BE697449992", "BE0697449992"),
    ("FR 61 954 506 077", "FR61954506077"),
    ("CZ 25123891", "CZ25123891"),
    ("cz 7103192745", "CZ7103192745"),  # an individual's DIČ (birth number)
    ("EL 094259216", "EL094259216"),
])
def test_eu_vat_numbers_are_compacted_with_their_prefix(value: str, expected: str) -> None:
    assert fiscal.normalise_eu_vat(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("CZ25123890", "fails its check digit"),
    ("CZ 1", "does not have the format of a CZ VAT number"),
    ("XX123456789", "must start with the prefix of an EU member state"),
    ("25123891", "must start with the prefix of an EU member state"),
    ("EU372022452", "One-Stop Shop"),
    ("", "required"),
    ("CZ" + "1" * 60, "longer than 40 characters"),
    (25123891, "must be text"),
])
def test_eu_vat_refusals_give_the_reason(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        fiscal.normalise_eu_vat(value)


# --- Czech IČO -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "00177041", "00006947", "00001350", "25063677", "45274649", "60193336", "70994226",
    "25123891",
])
def test_cz_company_ids_found_online_pass(value: str) -> None:
    assert fiscal.normalise_cz_company_id(value) == value


def test_cz_company_id_spaces_are_removed() -> None:
    assert fiscal.normalise_cz_company_id("001 77 041") == "00177041"


@pytest.mark.parametrize(("value", "reason"), [
    ("00177042", "IČO 00177042 fails its check digit"),
    ("0017704", "exactly 8 digits"),
    ("0017704X", "exactly 8 digits"),
    ("CZ25123891", "is a VAT number"),
    (177041, "may start with 0"),
])
def test_cz_company_id_refusals_give_the_reason(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        fiscal.normalise_cz_company_id(value)
