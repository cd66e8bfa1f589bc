"""Each platform's test kit, keyed by its registry name (``PlatformSpec.name``).

A platform added to :data:`airflow_provider_flinkcloud.registry.PLATFORMS` needs a kit here: the
contract suite runs every registry platform and fails for one without a kit.
"""

from __future__ import annotations

from support.platforms.alibaba import AlibabaKit
from support.platforms.alibaba_flink import AlibabaFlinkKit
from support.platforms.base import PlatformKit
from support.platforms.dinky import DinkyKit
from support.platforms.huawei_dli import HuaweiDliKit
from support.platforms.volcengine import VolcengineKit

KITS: dict[str, PlatformKit] = {
    kit.name: kit for kit in (VolcengineKit(), HuaweiDliKit(), AlibabaKit(), AlibabaFlinkKit(), DinkyKit())
}


def kit_for(name: str) -> PlatformKit:
    try:
        return KITS[name]
    except KeyError:
        raise LookupError(
            f"platform {name!r} is in the registry but has no test kit in tests/support/platforms/; "
            "add one so that the contract suite covers it"
        ) from None


__all__ = ["KITS", "PlatformKit", "kit_for"]
