"""Turn pydantic validation errors into one message that names each field and its rule."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_provider_flinkcloud.core.errors import JobSpecError

# A model-level rule names its field first ("SqlText: required ..."); that field belongs in the path.
_RULE_FIELD = re.compile(r"([A-Z][A-Za-z0-9]*): ")


def describe_validation_error(exc: ValidationError, what: str) -> str:
    problems = []
    for error in exc.errors():
        # Locations are the keys as the platform spells them (aliases) or as the user typed them.
        path = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        rule_field = _RULE_FIELD.match(message) if path and error["type"] == "value_error" else None
        if rule_field:
            path, message = f"{path}.{rule_field.group(1)}", message[rule_field.end() :]
        if path and message.startswith((f"{path}: ", f"{path}[")):
            # The rule already names its field, or the item of it that is wrong.
            path = ""
        problems.append(f"{path}: {message}" if path else message)
    return f"invalid {what}: " + "; ".join(problems)


def validate_model(model: type[BaseModel], data: Any, what: str) -> Any:
    if isinstance(data, model):
        data = data.model_dump(by_alias=True, exclude_none=True)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise JobSpecError(describe_validation_error(exc, what)) from None
