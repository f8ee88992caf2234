"""The box's configuration: one TOML file, validated at start, optionally merged with a provisioning file.

Public surface (everything else in this package is an implementation detail):
- `load_config(path)`, `validate(data, file)` -> `AgentConfig`, or `InvalidConfig` (a `ConfigError`)
  listing every problem, one per line, each naming the file and the key;
- `check_devices(config, file)` -> problems for device nodes that are missing right now (warnings at start);
- `check_config(path)` -> lines for `tillbridge agent --check-config`, empty when all is well;
- `apply_provisioning(config_path, provisioning_path)` -> `ProvisioningResult`;
- `config_hash(config)` -> sha256 hex of the effective config, for the state topic;
- `sample_text()` -> the commented sample config.
"""

from firmware_agent.config.canonical import config_hash
from firmware_agent.config.check import check_config
from firmware_agent.config.loader import (
    DEFAULT_CONFIG_PATH,
    check_devices,
    load_config,
    sample_text,
    validate,
)
from firmware_agent.config.problems import InvalidConfig, Problem
from firmware_agent.config.provisioning import (
    DEFAULT_PROVISIONING_PATH,
    ProvisioningResult,
    ProvisioningStatus,
    apply_provisioning,
    deep_merge,
    provisioning_path_for,
)
from firmware_agent.config.rules import Secret
from firmware_agent.config.schema import (
    AgentConfig,
    BarcodesConfig,
    BoxConfig,
    EvdevScannerConfig,
    ForwardConfig,
    GpioConfig,
    OrdersConfig,
    PrinterConfig,
    ProvisioningConfig,
    ReceiptsConfig,
    ScaleConfig,
    ScannerConfig,
    SerialScannerConfig,
    SimScannerConfig,
    StationConfig,
    StoreConfig,
)

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_PROVISIONING_PATH",
    "AgentConfig",
    "BarcodesConfig",
    "BoxConfig",
    "EvdevScannerConfig",
    "ForwardConfig",
    "GpioConfig",
    "InvalidConfig",
    "OrdersConfig",
    "PrinterConfig",
    "Problem",
    "ProvisioningConfig",
    "ProvisioningResult",
    "ProvisioningStatus",
    "ReceiptsConfig",
    "ScaleConfig",
    "ScannerConfig",
    "Secret",
    "SerialScannerConfig",
    "SimScannerConfig",
    "StationConfig",
    "StoreConfig",
    "apply_provisioning",
    "check_config",
    "check_devices",
    "config_hash",
    "deep_merge",
    "load_config",
    "provisioning_path_for",
    "sample_text",
    "validate",
]
