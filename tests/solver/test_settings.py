"""The solver settings are defined once (himo.solver.settings); everything else agrees.

The JSON schemas, the checks of :class:`SolverSettings`, the signature and docstring of
:func:`himo.solve` and the options of ``himo solve`` are compared here setting by
setting, so that a setting added, renamed or re-defaulted in one place only fails.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import re

import jsonschema
import pytest

import himo
from himo.cli import build_parser
from himo.errors import ParameterError
from himo.solver.settings import SolverSettings, check_setting, cli_flag, setting_defaults, setting_schemas

SCHEMAS = setting_schemas()
NAMES = [f.name for f in dataclasses.fields(SolverSettings)]

#: Values on and around every boundary a setting can have, and of the wrong types.
PROBES = {
    "number": [0, 0.0, 1e-300, 0.5, 1, 1.0, 1 - 1e-16, 0.999999, 2, 1e300, -1e-300, -1, True, False, "0.5", None],
    "integer": [0, 1, 2, 3000, -1, 3.0, 0.0, 2.5, 1e-9, True, False, "3", None],
    "string": [None, 1, True, "", "Natural", "natural ", "argmaxx"],
}


def settings_with(name, value):
    """``SolverSettings`` with one setting changed (``e_form`` needs ``newton`` for ``printed``)."""
    other = {"method": "newton"} if name == "e_form" else {}
    return SolverSettings(**{**other, name: value})


def accepted(name, value) -> bool:
    try:
        settings_with(name, value)
    except ParameterError:
        return False
    return True


def test_one_schema_per_field_in_field_order():
    assert list(SCHEMAS) == NAMES
    assert list(setting_defaults()) == NAMES
    for name, schema in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["description"] and schema["type"] in ("number", "integer", "string")
        assert schema["default"] == getattr(SolverSettings(), name)
        assert jsonschema.Draft202012Validator(schema).is_valid(schema["default"]), name
    # the enum of each choice setting is its Literal's choices
    assert SCHEMAS["method"]["enum"] == ["newton", "natural", "multiplicative", "gradient", "softmax", "kakade"]
    assert SCHEMAS["dependent"]["enum"] == ["last", "first", "argmax"]
    assert SCHEMAS["e_form"]["enum"] == ["exact", "printed"]


@pytest.mark.parametrize("name", NAMES)
def test_schema_and_settings_accept_the_same_values(name):
    schema = SCHEMAS[name]
    validator = jsonschema.Draft202012Validator(schema)
    probes = PROBES[schema["type"]] + list(schema.get("enum", []))
    for bound in ("minimum", "exclusiveMinimum", "exclusiveMaximum"):
        if bound in schema:
            probes += [schema[bound], schema[bound] + 1e-9, schema[bound] - 1e-9]
            probes += [math.nextafter(schema[bound], math.inf), math.nextafter(schema[bound], -math.inf)]
    disagree = [v for v in probes if validator.is_valid(v) != accepted(name, v)]
    assert not disagree, f"{name}: schema and SolverSettings disagree on {disagree}"
    assert any(validator.is_valid(v) for v in probes) and not all(validator.is_valid(v) for v in probes)


@pytest.mark.parametrize("name", [n for n in NAMES if SCHEMAS[n]["type"] != "string"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_rejected(name, value):
    with pytest.raises(ParameterError, match=f"^{name} must be "):
        settings_with(name, value)


def test_errors_name_the_setting_and_what_it_must_be():
    with pytest.raises(ParameterError, match=r"^lam must be a finite number in \(0, 1\), got 1\.5$"):
        SolverSettings(lam=1.5)
    with pytest.raises(ParameterError, match=r"^storage_budget must be a finite number > 0, got 0$"):
        SolverSettings(storage_budget=0)
    with pytest.raises(ParameterError, match=r"^dependent must be one of \('last', 'first', 'argmax'\), got 'max'$"):
        SolverSettings(dependent="max")
    with pytest.raises(ParameterError, match="e_form='printed'"):
        SolverSettings(e_form="printed", method="natural")
    assert SolverSettings(max_iter=3.0).max_iter == 3 and type(SolverSettings(max_iter=3.0).max_iter) is int
    assert check_setting("step", 0.25) == 0.25


def test_solve_takes_the_settings_with_their_defaults():
    parameters = list(inspect.signature(himo.solve).parameters.values())
    assert parameters[0].name == "mdp"
    settings = parameters[1 : 1 + len(NAMES)]
    assert [p.name for p in settings] == NAMES
    for p in settings:
        assert p.default == SCHEMAS[p.name]["default"], p.name
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    others = {p.name for p in parameters[1 + len(NAMES) :]}
    assert not others & set(NAMES)


def test_solve_documents_each_setting_with_its_help_text():
    doc = " ".join(himo.solve.__doc__.split())
    assert "{" not in doc, "the settings placeholder was filled in"
    for name, schema in SCHEMAS.items():
        assert f" {name} {' '.join(schema['description'].split())}." in doc, name


def solve_options():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {a.dest: a for a in sub.choices["solve"]._actions}


def test_cli_has_one_option_per_setting():
    options = solve_options()
    types = {"number": float, "integer": int, "string": str}
    for name, schema in SCHEMAS.items():
        option = options[name]
        assert option.option_strings == [cli_flag(name)]
        assert option.default == schema["default"] and option.type is types[schema["type"]]
        assert option.choices == schema.get("enum")
        assert option.help == f"{schema['description']} (default: {schema['default']})"
    assert cli_flag("max_iter") == "--max-iter" and "e_form" in options and "snapshots_between" in options


def test_cli_without_options_uses_the_defaults():
    args = build_parser().parse_args(["solve", "in.nc", "out.nc"])
    assert {name: getattr(args, name) for name in NAMES} == setting_defaults()
    args = build_parser().parse_args(["solve", "in.nc", "out.nc", "--max-iter", "7", "--e-form", "printed"])
    assert args.max_iter == 7 and args.e_form == "printed"


def test_help_texts_cite_lambda_where_it_is():
    """lambda is the path model's foresight, in Algorithm 1's D, not a parameter of Eq. 20."""
    assert "D = (I - lambda T)^-1" in SCHEMAS["lam"]["description"]
    for schema in SCHEMAS.values():
        assert not re.search(r"lambda[^.;]*Eq\. 20", schema["description"])
