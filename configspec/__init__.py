"""One way to declare, validate and document a config file, for the box (agent.toml) and the cloud bridge
(bridge.toml) alike. The standard library only, so both sides import it.

- declare: one frozen dataclass per TOML table, subclassing `Section`; a field's type says which TOML value is
  accepted, `field(metadata=rule(check, each=..., unique=..., secret=...))` what else must hold, a field
  without a default is a required key, `Section.problems()` checks that involve two keys;
- validate: `build(cls, data)` -> (the dataclass or None, every `Problem`), each naming its key path; a
  `Problem` prints as `file: table.key: what is wrong`;
- secrets: `Secret`, `SecretUrl` and `SecretTable` never show their value in a repr, str, f-string, log line
  or error;
- document: `keys(cls)` lists every key with its type, which docs/configuration.md is checked against.
"""

from configspec.problems import ConfigFileError, KeyPath, Problem, render_key
from configspec.reference import Key, keys
from configspec.rules import Check, Section, is_secret_name, rule, show
from configspec.secret import MASK, Secret, SecretTable, SecretUrl, mask_url
from configspec.tomlfile import read_toml
from configspec.validator import build

__all__ = [
    "MASK",
    "Check",
    "ConfigFileError",
    "Key",
    "KeyPath",
    "Problem",
    "Secret",
    "SecretTable",
    "SecretUrl",
    "Section",
    "build",
    "is_secret_name",
    "keys",
    "mask_url",
    "read_toml",
    "render_key",
    "rule",
    "show",
]
