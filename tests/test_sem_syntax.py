"""The lavaan-syntax parser and the parameter table's lavaan defaults."""

import pytest

from ckm_research.errors import IdentificationError, ModelSpecificationError, ModelSyntaxError
from ckm_research.sem.partable import build_partable
from ckm_research.sem.syntax import parse_model


def _rows(model, **kw):
    t = build_partable(model, **kw).table
    return {(r.lhs, r.op, r.rhs): r for r in t.itertuples(index=False)}


def test_operators_modifiers_and_comments():
    m = parse_model(
        """
        # a comment
        F =~ x1 + 0.8*x2 + a*x3 + NA*x4   ! another comment
        y ~ b*F + start(0.3)*z; y ~ 1
        x1 ~~ x2
        ab := a*b
        a == b
        """
    )
    got = [(s.lhs, s.op, s.rhs) for s in m.statements]
    assert got == [
        ("F", "=~", "x1"),
        ("F", "=~", "x2"),
        ("F", "=~", "x3"),
        ("F", "=~", "x4"),
        ("y", "~", "F"),
        ("y", "~", "z"),
        ("y", "~1", ""),
        ("x1", "~~", "x2"),
    ]
    mods = {s.rhs: s.modifier() for s in m.statements if s.op == "=~"}
    assert mods["x2"].fixed == 0.8
    assert mods["x3"].label == "a"
    assert mods["x4"].free
    assert m.statements[5].modifier().start == 0.3
    assert m.definitions[0].name == "ab" and m.definitions[0].expression == "a*b"
    assert (m.constraints[0].lhs, m.constraints[0].rhs) == ("a", "b")


def test_statement_continues_after_trailing_plus():
    m = parse_model("F =~ x1 + x2 +\n     x3")
    assert [s.rhs for s in m.statements] == ["x1", "x2", "x3"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("F =~ x1 + x2\nG =~ x3 + + x4", 2),
        ("F =~ x1\nG x2 x3", 2),
        ("F =~ x1 + 2x*x2", 1),
        ("F =~ x1 + x2 +", 1),
    ],
)
def test_syntax_errors_name_the_line(text, line):
    with pytest.raises(ModelSyntaxError) as err:
        parse_model(text)
    assert err.value.line == line
    assert f"line {line}" in str(err.value)


def test_lavaan_defaults_for_sem():
    rows = _rows(
        """
        X =~ x1 + x2 + x3
        M =~ m1 + m2 + m3
        Y1 =~ y1 + y2 + y3
        Y2 =~ y4 + y5 + y6
        M ~ X
        Y1 ~ M
        Y2 ~ M
        """
    )
    # first loading fixed at 1, others free
    assert rows[("X", "=~", "x1")].free == 0 and rows[("X", "=~", "x1")].ustart == 1
    assert rows[("X", "=~", "x2")].free > 0
    # residual variances of items and (residual) variances of factors free
    assert rows[("x1", "~~", "x1")].free > 0
    assert rows[("M", "~~", "M")].free > 0
    # auto.cov.y: the two purely dependent factors get a free residual covariance
    assert rows[("Y1", "~~", "Y2")].free > 0
    # but not the mediator with the outcomes
    assert ("M", "~~", "Y1") not in rows and ("Y1", "~~", "M") not in rows


def test_std_lv_and_labels_share_parameters():
    rows = _rows("F =~ a*x1 + a*x2 + x3", std_lv=True)
    assert rows[("F", "~~", "F")].free == 0 and rows[("F", "~~", "F")].ustart == 1
    assert rows[("F", "=~", "x1")].free == rows[("F", "=~", "x2")].free > 0


def test_fixed_x_covariates():
    rows = _rows("F =~ x1 + x2 + x3\nF ~ age + grade")
    assert rows[("age", "~~", "age")].exo == 1 and rows[("age", "~~", "age")].free == 0
    assert rows[("age", "~~", "grade")].exo == 1


def test_factor_without_scale_is_unidentified():
    with pytest.raises(IdentificationError, match="'F'"):
        build_partable("F =~ NA*x1 + x2 + x3")


def test_unknown_label_in_constraint():
    with pytest.raises(ModelSpecificationError, match="'c'"):
        build_partable("F =~ x1 + a*x2 + x3\na == c")
