"""JSON numbers and booleans of the native API, as strict as the published schema says.

JSON Schema's ``integer`` is any number with no fractional part, so ``1000.0`` is one: it is taken as
``1000`` (an OpenAPI-generated client or a fuzzer sends what the schema allows). ``true`` is not a
number and ``1`` is not a boolean: Pydantic's lax mode would turn them into each other.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool, StrictFloat, StrictInt

__all__ = ["INTEGRAL", "Boolean", "Integer", "Number"]


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value  # anything else meets StrictInt, which refuses fractions, strings and booleans


# Last in an ``Annotated[StrictInt, Field(...), INTEGRAL]``: the bounds then stay in the JSON schema
# (put after a validator, Pydantic writes them as unknown keywords there).
INTEGRAL = BeforeValidator(_integral)
Integer = Annotated[StrictInt, INTEGRAL]
Number = Annotated[StrictFloat, Field(allow_inf_nan=False)]  # an int is a number too; a boolean is not
Boolean = StrictBool
