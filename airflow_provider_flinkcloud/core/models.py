"""The base of every platform's pydantic models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FlinkCloudModel(BaseModel):
    """A pydantic model whose validator is built on first use, not at import.

    DAG files import the operators, and so the models, on every parse by the scheduler and the DAG
    processor; only a task that runs validates a spec or reads a reply. Building the validators of a
    platform's models at import was about a third of the operators' import cost (``make bench``).
    https://docs.pydantic.dev/latest/api/config/#pydantic.config.ConfigDict.defer_build
    """

    model_config = ConfigDict(defer_build=True)
