"""Turn pydantic validation errors into one message that names each field and its rule."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from airflow_provider_flinkcloud.core.errors import JobSpecError


def describe_validation_error(exc: ValidationError, what: str) -> str:
    problems = []
    for error in exc.errors():
        # Locations are the keys as the platform spells them (aliases) or as the user typed them.
        path = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return f"invalid {what}: " + "; ".join(problems)


def validate_model(model: type[BaseModel], data: Any, what: str) -> Any:
    if isinstance(data, model):
        data = data.model_dump(by_alias=True, exclude_none=True)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise JobSpecError(describe_validation_error(exc, what)) from None
