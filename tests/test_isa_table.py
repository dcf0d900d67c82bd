"""The rules of isa/instructions.tab, the bit-field helpers of isa.table, and that the
generated decoder and the reference manual's encoding table agree with the table."""

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import isa.generate
from isa.asm.syntax import PSEUDO_INSTRUCTIONS
from isa.table import (
    FIELD_BITS,
    FORMATS,
    IMM_RANGES,
    IMMEDIATE_FIELDS,
    TABLE_PATH,
    UNITS,
    by_name,
    decode_fields,
    encode,
    encode_imm,
    instructions,
    lookup,
)

ROWS = instructions()
WORD_MASK = 0xFFFFFFFF
README = TABLE_PATH.with_name("README.md")

#: The immediate kind each format's immediate bits hold.
FORMAT_IMMEDIATE = {"I": "imm12", "S": "imm12", "B": "btarget", "U": "imm20", "J": "jtarget"}


def field_bits(row, field):
    """The bits of the word that operand field `field` of `row` occupies."""
    if field in IMMEDIATE_FIELDS:
        return encode_imm(row.format, -1)  # all ones scattered to the format's positions
    low, width = FIELD_BITS[field]
    return ((1 << width) - 1) << low


def all_fields(row):
    return row.fields + (("aqrl",) if row.has_aqrl else ())


def field_values(field):
    """Every valid value of an operand field."""
    if field in IMM_RANGES:
        lo, hi, align = IMM_RANGES[field]
        return st.integers(lo // align, hi // align).map(lambda v: v * align)
    _, width = FIELD_BITS[field]
    return st.integers(0, (1 << width) - 1)


def row_fields(row, **overrides):
    """Field values for `row`: random valid ones, or from the strategies in overrides."""
    return st.fixed_dictionaries(
        {field: overrides.get(field, field_values(field)) for field in all_fields(row)}
    )


def row_words(row, **overrides):
    """Words that encode `row` with random valid operands."""
    return row_fields(row, **overrides).map(lambda fields: encode(row, **fields))


# ---- the table's rules --------------------------------------------------------------


def test_no_word_matches_two_rows():
    for a, b in combinations(ROWS, 2):
        # Some bit fixed by both rows differs, so no word satisfies both.
        assert (a.match ^ b.match) & a.mask & b.mask, f"{a.name} overlaps {b.name}"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_row_is_well_formed(row):
    assert row.match & ~row.mask == 0, "match has bits outside the mask"
    assert row.match & 3 == 3, "not a 32-bit encoding"
    assert row.format in FORMATS and row.unit in UNITS and row.latency >= 1
    covered = row.mask
    for field in all_fields(row):
        assert field in FIELD_BITS or field in IMMEDIATE_FIELDS, f"unknown field {field}"
        if field in IMMEDIATE_FIELDS:
            assert FORMAT_IMMEDIATE[row.format] == field, f"{field} in a {row.format} row"
        bits = field_bits(row, field)
        assert bits & covered == 0, f"{field} overlaps the mask or another field"
        covered |= bits
    assert covered == WORD_MASK, f"bits {~covered & WORD_MASK:#010x} are neither fixed nor a field"


def test_names_are_unique_and_rows_numbered_from_one():
    assert len(by_name()) == len(ROWS)
    assert [row.index for row in ROWS] == list(range(1, len(ROWS) + 1))


def test_generated_decoder_is_up_to_date():
    assert isa.generate.main(["--check"]) == 0


# ---- lookup, encode, decode_fields --------------------------------------------------

any_word = st.integers(0, WORD_MASK)
#: Words that fit a row with random bits elsewhere (valid words with any operands).
fitting_word = st.sampled_from(ROWS).flatmap(
    lambda row: any_word.map(lambda w: w & ~row.mask | row.match)
)


@given(st.one_of(any_word, fitting_word))
def test_lookup_is_the_row_that_fits(word):
    fits = [row for row in ROWS if word & row.mask == row.match]
    assert len(fits) <= 1
    assert lookup(word) == (fits[0] if fits else None)


@given(any_word.filter(lambda w: w & 3 != 3))
def test_compressed_length_words_are_illegal(word):
    assert lookup(word) is None


@given(st.sampled_from(ROWS).flatmap(lambda row: st.tuples(st.just(row), row_fields(row))))
def test_encode_decode_round_trip(row_and_fields):
    row, fields = row_and_fields
    word = encode(row, **fields)
    assert lookup(word) == row
    assert decode_fields(row, word) == fields


@pytest.mark.parametrize(
    "row", [row for row in ROWS if row.fields], ids=lambda row: row.name
)
def test_encode_rejects_out_of_range_values(row):
    for field in row.fields:
        if field in IMM_RANGES:
            lo, hi, align = IMM_RANGES[field]
            bad = [lo - align, hi + align] + ([lo + 1] if align > 1 else [])
        else:
            bad = [-1, 1 << FIELD_BITS[field][1]]
        for value in bad:
            with pytest.raises(ValueError):
                encode(row, **{field: value})


# ---- the reference manual's generated tables ----------------------------------------


def readme_table(header):
    """The markdown table in isa/README.md that starts with the line `header`."""
    lines = README.read_text().splitlines()
    assert header in lines, f"isa/README.md has no table {header!r}"
    start = lines.index(header)
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end])


def render_encoding_table():
    """The encoding table isa/README.md must contain, row for row."""
    lines = [
        "| # | name | format | match | mask | operands | unit | latency |",
        "|--:|------|:------:|-------|------|----------|------|--------:|",
    ]
    for row in ROWS:
        operands = ",".join(row.operands) or "-"
        lines.append(
            f"| {row.index} | `{row.name}` | {row.format} | `{row.match:#010x}` "
            f"| `{row.mask:#010x}` | `{operands}` | {row.unit} | {row.latency} |"
        )
    return "\n".join(lines)


def render_pseudo_table():
    """The assembler's pseudo-instructions as the table isa/README.md must contain."""
    lines = ["| you write | the assembler emits |", "|-----------|---------------------|"]
    for line in PSEUDO_INSTRUCTIONS.strip().splitlines():
        mnemonic, operands, expansion = line.split(None, 2)
        written = mnemonic if operands == "-" else f"{mnemonic} {operands}"
        emitted = " ; ".join(f"`{part.strip()}`" for part in expansion.split(";"))
        lines.append(f"| `{written}` | {emitted} |")
    return "\n".join(lines)


@pytest.mark.parametrize("render", [render_encoding_table, render_pseudo_table])
def test_readme_table_matches_its_source(render):
    expected = render()
    assert readme_table(expected.splitlines()[0]) == expected, (
        f"a table in isa/README.md is stale; replace it with:\n{expected}"
    )
