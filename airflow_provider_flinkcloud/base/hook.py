"""The hook every platform builds on: reads the connection lazily, owns the sync and async transports.

A platform hook is also its :class:`JobPlatform`, the one typed object its operators, sensors and
trigger talk to. It names its registry entry (``class MyHook(FlinkCloudHook[MyClient], platform=SPEC)``),
from which the connection type, the default connection id and the form come.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from airflow_provider_flinkcloud.base.compat import (
    AirflowFailException,
    BaseHook,
    get_async_connection,
    get_async_extra_dejson,
    mask_secret,
)
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

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return cls.form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields for Airflow 2's Flask form (Airflow >= 3.2 reads provider info instead)."""
        from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import PasswordField, StringField

        widgets: dict[str, Any] = {}
        for name, spec in cls.form.extra_fields.items():
            if spec.secret:
                widgets[name] = PasswordField(lazy_gettext(spec.label), widget=BS3PasswordFieldWidget())
            else:
                widgets[name] = StringField(lazy_gettext(spec.label), widget=BS3TextFieldWidget())
        return widgets

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name

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
        return self._transport.execute(api_call)

    async def acall(self, api_call: ApiCall[T]) -> T:
        return await AsyncTransport(await self.async_client()).execute(api_call)

    def is_retryable(self, error: FlinkCloudApiError) -> bool:
        # The client's code table is the platform's one retry rule.
        retryable: bool = self.client_class.codes.is_retryable(error)
        return retryable

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.call(self.client.probe_call())
        except (FlinkCloudApiError, JobSpecError) as exc:
            return False, str(exc)
        return True, f"Connection to {self.hook_name} at {self.client.base_url} succeeded"
