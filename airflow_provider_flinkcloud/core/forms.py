"""Connection forms, declared without importing Airflow.

Airflow >= 3.2 builds a connection form from provider info (``conn-fields``, ``ui-field-behaviour``);
Airflow 2 calls the hook's ``get_connection_form_widgets`` / ``get_ui_field_behaviour``. Both read the
one :class:`ConnectionForm` a platform declares in the registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCESS_KEY_RELABELING = {"login": "Access Key ID", "password": "Secret Access Key"}


@dataclass(frozen=True)
class ExtraField:
    label: str
    description: str
    secret: bool = False


@dataclass(frozen=True)
class ConnectionForm:
    """The extra fields of a connection type and which standard fields it hides or renames."""

    extra_fields: dict[str, ExtraField]
    relabeling: dict[str, str] = field(default_factory=dict)
    hidden_fields: tuple[str, ...] = ()
    # Placeholders of the standard fields shown (``host``, ``port``, ...); extra fields show their
    # description.
    placeholders: dict[str, str] = field(default_factory=dict)

    def ui_field_behaviour(self) -> dict[str, Any]:
        return {
            "hidden-fields": list(self.hidden_fields),
            "relabeling": dict(self.relabeling),
            "placeholders": {
                **self.placeholders,
                **{name: f.description for name, f in self.extra_fields.items()},
            },
        }

    def conn_fields(self) -> dict[str, Any]:
        return {
            name: {
                "label": f.label,
                "description": f.description,
                "schema": {"type": ["string", "null"], **({"format": "password"} if f.secret else {})},
            }
            for name, f in self.extra_fields.items()
        }


def access_key_form(extra_fields: dict[str, ExtraField]) -> ConnectionForm:
    """A cloud connection: access key in ``login``, secret in ``password``; no host, schema or port."""
    return ConnectionForm(
        extra_fields=extra_fields,
        relabeling=dict(ACCESS_KEY_RELABELING),
        hidden_fields=("host", "schema", "port"),
    )


def host_form(
    extra_fields: dict[str, ExtraField],
    relabeling: dict[str, str] | None = None,
    placeholders: dict[str, str] | None = None,
) -> ConnectionForm:
    """A server addressed by ``host`` / ``port`` / ``schema``, with optional login and password.

    Airflow's connection form has no "extra" field of its own for these, so the standard fields stay
    shown; ``placeholders`` say what goes in them (``{"host": "dinky.example.com", "port": "8888"}``).
    """
    return ConnectionForm(
        extra_fields=extra_fields,
        relabeling=dict(relabeling or {}),
        hidden_fields=(),
        placeholders=dict(placeholders or {}),
    )
