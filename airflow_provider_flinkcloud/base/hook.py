"""The hook every platform builds on: reads the connection lazily, owns the sync and async transports.

A platform hook is also its :class:`JobPlatform`, the one typed object its operators, sensors and
trigger talk to. It names its registry entry (``class MyHook(FlinkCloudHook[MyClient], platform=SPEC)``),
from which the connection type, the default connection id and the form come.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from airflow.providers.common.compat.connection import get_async_connection, get_async_extra_dejson

from airflow_provider_flinkcloud.base.compat import AirflowFailException, BaseHook, Variable, mask_secret
from airflow_provider_flinkcloud.core.errors import FlinkCloudApiError, JobSpecError
from airflow_provider_flinkcloud.core.forms import ConnectionForm
from airflow_provider_flinkcloud.core.platform import JobPlatform
from airflow_provider_flinkcloud.core.settings import ConnectionSettings, parse_extra
from airflow_provider_flinkcloud.core.transport import (
    ApiCall,
    AsyncTransport,
    PlatformClient,
    SyncTransport,
    T,
)
from airflow_provider_flinkcloud.registry import PLATFORMS, PlatformSpec

ClientT = TypeVar("ClientT", bound=PlatformClient)

log = logging.getLogger(__name__)
# Airflow Variables holding ids a platform gave for a key of the user's (``flinkcloud/<key>``).
MEMORY_PREFIX = "flinkcloud"


def _memory_name(key: str) -> str:
    name = f"{MEMORY_PREFIX}/{key}"
    # Variable keys hold at most 250 characters.
    return name if len(name) <= 250 else f"{MEMORY_PREFIX}/sha256/{hashlib.sha256(key.encode()).hexdigest()}"


def recall_id(key: str) -> str | None:
    """The id remembered for ``key`` by an earlier task, if any.

    Remembering is best effort (outside a task, or with a metadata database that is unavailable, there
    is nothing to read): the lifecycle's check right after a start keeps a job single without it.
    """
    try:
        value = Variable.get(_memory_name(key), None)
    except Exception as exc:
        log.debug("Could not read the remembered id of %s: %s", key, exc)
        return None
    return str(value) if value else None


def remember_id(key: str, value: str) -> None:
    if recall_id(key) == value:
        return
    try:
        Variable.set(_memory_name(key), value, description="set by airflow-provider-flinkcloud")
    except Exception as exc:
        log.info("Could not remember the id of %s (%s); the next start looks it up again", key, exc)


class ConnectionSettingsError(JobSpecError, AirflowFailException):
    """A connection that cannot be used as it is (bad extra JSON, a field of the wrong type, ...).

    A :class:`JobSpecError` for code that catches those (``test_connection``), and an
    ``AirflowFailException`` so that the task fails at once: retrying cannot repair a connection.
    """


def check_extra(conn: Any) -> None:
    """Fail naming the connection when its raw ``extra`` is not a JSON object.

    Checked before ``extra_dejson`` is read, which would answer ``{}`` for text that is not JSON.
    """
    try:
        parse_extra(conn.conn_id, getattr(conn, "extra", None))
    except JobSpecError as exc:
        raise ConnectionSettingsError(str(exc)) from None


class FlinkCloudHook(BaseHook, JobPlatform, Generic[ClientT]):
    """Base of the platform hooks. The connection is read on first use, never in ``__init__``."""

    conn_name_attr = "conn_id"
    platform: ClassVar[PlatformSpec]
    default_conn_name: ClassVar[str]
    conn_type: ClassVar[str]
    hook_name: ClassVar[str]
    form: ClassVar[ConnectionForm]
    settings_class: ClassVar[type[ConnectionSettings]]
    client_class: ClassVar[type[Any]]

    def __init_subclass__(cls, platform: PlatformSpec | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if platform is None:
            return
        path = f"{cls.__module__}.{cls.__qualname__}"
        if PLATFORMS.get(platform.name) is platform and platform.hook_path != path:
            raise TypeError(f"{path}: the registry names {platform.hook_path} as the {platform.label} hook")
        cls.platform = platform
        cls.platform_name = platform.name
        cls.conn_type = platform.conn_type
        cls.default_conn_name = platform.default_conn_id
        cls.hook_name = platform.label
        cls.form = platform.form
        # Airflow 2.11 takes a form only from methods defined on the hook class itself
        # (ProvidersManager looks in ``hook_class.__dict__``), so each platform hook gets its own.
        cls.get_ui_field_behaviour = classmethod(_ui_field_behaviour)  # type: ignore[assignment]
        cls.get_connection_form_widgets = classmethod(_connection_form_widgets)  # type: ignore[assignment]

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return _ui_field_behaviour(cls)

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        return _connection_form_widgets(cls)

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name
        # Epoch seconds: no retry (backoff, Retry-After) waits past it (the task's timeout).
        self.deadline: float | None = None

    def _client_from(self, conn: Any, extra: dict[str, Any]) -> ClientT:
        try:
            settings = self.settings_class.from_connection(conn, extra)
            for secret in settings.secrets():
                mask_secret(secret)
            client: ClientT = self.client_class(settings)
        except ConnectionSettingsError:
            raise
        except JobSpecError as exc:
            raise ConnectionSettingsError(str(exc)) from None
        return client

    @cached_property
    def client(self) -> ClientT:
        conn = self.get_connection(self.conn_id)
        check_extra(conn)
        return self._client_from(conn, conn.extra_dejson)

    async def async_client(self) -> ClientT:
        """The client, reading the connection without blocking the triggerer's event loop.

        Afterwards ``client`` answers from the same object, so nothing in the async path reads the
        connection synchronously.
        """
        if "client" not in self.__dict__:
            conn = await get_async_connection(self.conn_id, hook=self)
            check_extra(conn)
            extra = await get_async_extra_dejson(conn)
            self.__dict__["client"] = self._client_from(conn, extra)
        return self.client

    @cached_property
    def _transport(self) -> SyncTransport:
        return SyncTransport(self.client)

    def call(self, api_call: ApiCall[T]) -> T:
        self._transport.deadline = self.deadline
        return self._transport.execute(api_call)

    def fresh_transport(self) -> None:
        """Send later calls over a new session (a kill handler may run while a request is in flight)."""
        self.__dict__["_transport"] = SyncTransport(self.client)

    async def acall(self, api_call: ApiCall[T]) -> T:
        return await AsyncTransport(await self.async_client(), deadline=self.deadline).execute(api_call)

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        # The client's code table is the platform's one retry rule.
        retryable: bool = self.client_class.codes.is_retryable(error)
        return retryable

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.call(self.client.probe_call())
        except (FlinkCloudApiError, JobSpecError) as exc:
            # Airflow tests a form under a random temporary conn_id: name the field, not that id.
            return False, str(exc).replace(f"connection {self.conn_id!r}: ", "")
        return True, f"Connection to {self.hook_name} at {self.client.base_url} succeeded"


def _ui_field_behaviour(hook: type[FlinkCloudHook[Any]]) -> dict[str, Any]:
    """The form behaviour as the hook methods give it (Airflow's ``customized_form_field_behaviours``
    schema, ``hidden_fields``; provider info spells it ``hidden-fields``)."""
    behaviour = hook.form.ui_field_behaviour()
    return {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }


def _connection_form_widgets(hook: type[FlinkCloudHook[Any]]) -> dict[str, Any]:
    """The extra fields for Airflow 2's Flask form (Airflow >= 3.2 reads provider info instead)."""
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField

    widgets: dict[str, Any] = {}
    for name, spec in hook.form.extra_fields.items():
        if spec.secret:
            widgets[name] = PasswordField(lazy_gettext(spec.label), widget=BS3PasswordFieldWidget())
        else:
            widgets[name] = StringField(lazy_gettext(spec.label), widget=BS3TextFieldWidget())
    return widgets
