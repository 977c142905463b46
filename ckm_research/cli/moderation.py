"""``ckm fit --moderated-mediation``: conditional indirect effects and the index
of moderated mediation after a latent interaction fit.

Registered in ``ckm fit`` by :func:`add_options`; :func:`moderated_mediation_fit`
computes the tables with :func:`ckm_research.moderation.mediation.moderated_mediation`
(bootstrap intervals when ``--bootstrap B`` ran, delta-method ones otherwise; the
``method`` column says which) and keeps them in ``result.notes`` (written to
``--json``); :func:`print_tables` prints them after the summary.

After a fit with product terms :func:`print_interaction_effects` prints (and keeps
in ``result.notes`` for ``--json``) the standardized interaction effects
(:func:`ckm_research.moderation.standardized_interactions`) and, for LMS, the
effect sizes of the product terms (:func:`ckm_research.moderation.interaction_effect_sizes`).
"""

from __future__ import annotations

import argparse

__all__ = ["add_options", "moderated_mediation_fit", "print_tables", "print_interaction_effects"]


def _spec(value: str) -> str:
    if value == "auto":
        return value
    parts = value.split(":")
    if len(parts) != 4 or not all(p.strip() for p in parts):
        raise argparse.ArgumentTypeError(
            f"give X:M:Y:W (predictor, mediator, outcome, moderator) or 'auto', got {value!r}"
        )
    return value


def add_options(p: argparse.ArgumentParser) -> None:
    """``ckm fit``'s ``--moderated-mediation`` option."""
    p.add_argument(
        "--moderated-mediation", type=_spec, action="append", default=None,
        metavar="X:M:Y:W|auto",
        help="conditional indirect effects of X on Y through M at W = mean -1 SD, mean, +1 SD, "
             "the Johnson-Neyman region of the indirect effect and Hayes' (2015) index of "
             "moderated mediation (a*b3 for Y ~ b*M + b3*M:W); 'auto': every path X -> M -> Y "
             "with a product term M:W on M -> Y. Bootstrap intervals with --bootstrap B, "
             "delta-method ones otherwise. Repeatable",
    )  # fmt: skip


def moderated_mediation_fit(args: argparse.Namespace, result):
    """Add ``notes["moderated_mediation"]`` to ``result`` when the option is given."""
    specs = getattr(args, "moderated_mediation", None)
    if not specs:
        return result
    from ckm_research.moderation.mediation import moderated_mediation

    if "auto" in specs:
        paths = None
    else:
        paths = [tuple(s.split(":")) for s in specs]
    boot = getattr(args, "bootstrap_result", None)
    se = "bootstrap" if boot is not None else "delta"
    ci = getattr(args, "boot_ci", "perc") if boot is not None else "perc"
    tables = moderated_mediation(result, paths, se=se, boot=boot, ci=ci, level=0.95)
    result.notes["moderated_mediation"] = {
        key: [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
        for key, frame in tables.items()
    }
    return result


def _clean(v):
    """JSON-ready values; an unbounded Johnson-Neyman region end (+-inf) becomes null."""
    from ckm_research.numerics import to_json_ready

    return [_clean(x) for x in v] if isinstance(v, (list, tuple)) else to_json_ready(v)


def _num(v, digits=3) -> str:
    return f"{v:.{digits}f}" if isinstance(v, (int, float)) and v == v else "NA"


def print_tables(result) -> None:
    """Print the tables of :func:`moderated_mediation_fit` (if any)."""
    mm = (getattr(result, "notes", None) or {}).get("moderated_mediation")
    if not mm:
        return
    cond = mm["conditional"]
    method = cond[0]["method"] if cond else ""
    print(f"\nModerated mediation (Hayes, 2015): conditional indirect effects ({method})")
    head = f"  {'path':<30}{'W':>10}{'est':>9}{'se':>9}{'z':>8}{'pvalue':>8}{'ci.lower':>10}"
    print(head + f"{'ci.upper':>10}")
    for r in cond:
        name = f"{r['x']}->{r['m']}->{r['y']} | {r['moderator']}"
        w = f"{r['label']}" if r["label"] in ("-1 SD", "Mean", "+1 SD") else _num(r["label"])
        print(f"  {name[:30]:<30}{w:>10}{_num(r['est']):>9}{_num(r['se']):>9}"
              f"{_num(r['z'], 2):>8}{_num(r['pvalue']):>8}{_num(r['ci.lower']):>10}"
              f"{_num(r['ci.upper']):>10}")  # fmt: skip
    if mm["index"]:
        print("\n  Index of moderated mediation")
        for r in mm["index"]:
            name = f"{r['x']}->{r['m']}->{r['y']} | {r['moderator']}"
            print(f"  {name[:30]:<30}{r['formula']:>10}{_num(r['est']):>9}{_num(r['se']):>9}"
                  f"{_num(r['z'], 2):>8}{_num(r['pvalue']):>8}{_num(r['ci.lower']):>10}"
                  f"{_num(r['ci.upper']):>10}")  # fmt: skip
    for r in mm["johnson_neyman"]:
        print(f"\n  Johnson-Neyman, {r['x']}->{r['m']}->{r['y']} | {r['moderator']}: "
              f"{r['description']}")  # fmt: skip
    print("  (moderator values in its latent metric; other moderators held at their mean, 0)")


def print_interaction_effects(result) -> None:
    """The "Standardized interaction effects" block of a fit with product terms and,
    for LMS and QML, the "Interaction effect sizes" block (R-squared change, Cohen's
    f2, the likelihood-ratio test D against the model without product terms; for QML
    a quasi-likelihood ratio)."""
    if not (getattr(result, "notes", None) or {}).get("interaction"):
        return
    from ckm_research.errors import CkmError
    from ckm_research.moderation import interaction_effect_sizes, standardized_interactions

    groups = max(len(getattr(result.engine, "group_labels", ()) or ()),
                 int(getattr(result, "ngroups", 1) or 1))  # fmt: skip
    if groups > 1:
        print(
            f"\nStandardized interaction effects: not available for a fit of {groups} groups. "
            "They are computed for single-group LMS, QML and product-indicator fits; fit each "
            "group's rows separately (one data file per group, without --group) to get them "
            "per group."
        )
        return
    try:
        std = standardized_interactions(result)
    except CkmError as exc:
        print(f"\nStandardized interaction effects: not available. {exc}")
        return
    print(
        "\nStandardized interaction effects (beta of X:Z = b SD(X) SD(Z) / SD(Y); delta-method SEs)"
    )
    print(f"  {'path':<24}{'est':>9}{'est.std':>9}{'se':>9}{'z':>8}{'pvalue':>8}"
          f"{'ci.lower':>10}{'ci.upper':>10}")  # fmt: skip
    # kept for --json
    result.notes["standardized_interactions"] = [
        {k: _clean(v) for k, v in row.items()} for row in std.to_dict("records")
    ]
    for r in std.to_dict("records"):
        name = f"{r['lhs']} ~ {r['rhs']}"
        print(f"  {name[:24]:<24}{_num(r['est']):>9}{_num(r['est.std']):>9}{_num(r['se']):>9}"
              f"{_num(r['z'], 2):>8}{_num(r['pvalue']):>8}{_num(r['ci.lower']):>10}"
              f"{_num(r['ci.upper']):>10}")  # fmt: skip
    method = result.notes["interaction"].get("method")
    if method not in ("lms", "qml"):
        return
    es = interaction_effect_sizes(result)
    result.notes["interaction_effect_sizes"] = [
        {k: _clean(v) for k, v in row.items()} for row in es.to_dict("records")
    ]
    print(
        "\nInteraction effect sizes (R2 without the product terms: the refitted model; "
        "f2 = delta R2 / (1 - R2))"
    )
    print(f"  {'term':<24}{'R2':>8}{'R2.h0':>8}{'dR2':>8}{'f2':>8}{'dR2.term':>9}"
          f"{'f2.term':>9}{'D':>10}{'df':>5}{'pvalue':>8}")  # fmt: skip
    for r in es.to_dict("records"):
        name = f"{r['lhs']} ~ {r['rhs']}"
        print(f"  {name[:24]:<24}{_num(r['r2']):>8}{_num(r['r2.h0']):>8}"
              f"{_num(r['delta.r2']):>8}{_num(r['f2']):>8}{_num(r['delta.r2.term']):>9}"
              f"{_num(r['f2.term']):>9}{_num(r['lrt.stat'], 2):>10}"
              f"{_num(r['lrt.df'], 0):>5}{_num(r['lrt.pvalue']):>8}")  # fmt: skip
    if any(r["terms"] != r["rhs"] for r in es.to_dict("records")):
        print(
            "  (an outcome's product terms are removed together for R2.h0; dR2.term: the "
            "term's own share; D tests all product terms jointly)"
        )
    if method == "qml":
        print(
            "  (QML: D is a quasi-likelihood ratio, twice the quasi-log-likelihood of the "
            "interaction model minus the log-likelihood of the model without product terms. "
            "Its chi-square p-value holds under the null of no interaction, where the QML "
            "density is the exact normal one; D is not the LMS likelihood ratio: fit with "
            "--interaction lms for that)"
        )
    elif all(r["terms"] == r["rhs"] for r in es.to_dict("records")):
        print("  (D: likelihood-ratio test against the model without product terms)")
