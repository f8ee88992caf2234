"""Validation of the box's config file: defaults, and an error naming the file and key for every mistake."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.barcodes import DEFAULT_LAYOUTS
from firmware_agent.config import (
    AgentConfig,
    EvdevScannerConfig,
    InvalidConfig,
    SerialScannerConfig,
    check_config,
    check_devices,
    load_config,
    validate,
)
from firmware_agent.errors import ConfigError
from tests.config_helpers import BOX, write


@pytest.fixture
def pty_path() -> Iterator[str]:
    """A real serial-like device node that exists while the test runs."""
    master, slave = os.openpty()
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def test_minimal_config_gets_the_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, BOX))
    assert (config.box.id, config.box.shop) == ("shop1-till1", "shop1")
    assert config.box.data_dir == Path("/var/lib/tillbridge")
    assert (config.box.log_level, config.box.watchdog) == ("info", True)
    assert (config.store.journal_max_mb, config.store.journal_warn_ratio) == (256, 0.8)
    assert config.scanner == () and config.scale is None and config.printer is None
    assert (config.gpio.led_pin, config.gpio.button_pin, config.gpio.buzzer_pin) == (None, None, None)
    assert config.gpio.hold_time_s == 2.0
    assert (config.forward.enabled, config.forward.device) == (False, Path("/dev/hidg0"))
    assert config.barcodes.variable_measure_layouts == DEFAULT_LAYOUTS  # the barcode module's own default
    assert config.provisioning.path == Path("/boot/firmware/tillbridge.toml")


def test_a_full_config_reads_into_typed_sections(tmp_path):
    text = BOX + (
        '[[scanner]]\nname = "front"\ntype = "evdev"\nname_match = "Datalogic"\nlayout = "es"\n'
        '[[scanner]]\nname = "back"\ntype = "serial"\nport = "/dev/ttyACM0"\nbaudrate = 115200\n'
        '[scale]\nprotocol = "dialog06"\nport = "/dev/ttyUSB0"\n'
        'bytesize = 7\nparity = "O"\npoll_interval_s = 1\n'
        '[printer]\nurl = "usb://04b8:0e15"\npaper_mm = 58\n'
    )
    config = load_config(write(tmp_path, text))
    front, back = config.scanner
    assert isinstance(front, EvdevScannerConfig) and front.name_match == "Datalogic" and front.layout == "es"
    assert isinstance(back, SerialScannerConfig) and back.baudrate == 115200 and back.terminator == "CR"
    assert config.scale is not None and (config.scale.bytesize, config.scale.parity) == (7, "O")
    assert config.scale.poll_interval_s == 1.0 and isinstance(config.scale.poll_interval_s, float)
    assert config.scale.baudrate is None  # left to the protocol's usual value
    assert config.printer is not None and config.printer.paper_mm == 58


SCANNER = '[[scanner]]\nname = "front"\ntype = "evdev"\ndevice = "/dev/input/event3"\n'
SERIAL = '[[scanner]]\nname = "back"\ntype = "serial"\nport = "/dev/ttyACM0"\n'
SCALE = '[scale]\nprotocol = "toledo8217"\nport = "/dev/ttyUSB0"\n'

BROKEN = [
    # (config text, key, what the message says)
    ('[box]\nshop = "shop1"\n', "box.id", "missing (required)"),
    ("", "box.id", "missing (required)"),
    ("box = 1\n", "box", "expected a table, got an integer (1)"),
    (
        '[box]\nid = "Shop 1"\nshop = "shop1"\n',
        "box.id",
        "'Shop 1' must be 1 to 64 characters of a-z, 0-9 and -",
    ),
    (f'[box]\nid = "a"\nshop = "{"s" * 65}"\n', "box.shop", "must be 1 to 64 characters"),
    (
        BOX.replace("[box]", '[box]\nlog_level = "loud"'),
        "box.log_level",
        "'loud' is not one of debug, info, warning, error",
    ),
    (
        BOX.replace("[box]", '[box]\nwatchdog = "yes"'),
        "box.watchdog",
        "expected true or false, got a string ('yes')",
    ),
    (
        BOX.replace("[box]", '[box]\ndata_dir = "var/lib"'),
        "box.data_dir",
        "'var/lib' must be an absolute path",
    ),
    (BOX.replace("[box]", '[box]\nshopp = "x"'), "box.shopp", "unknown key (did you mean shop?)"),
    (BOX + '[mqtt]\nurl = "http://broker"\n', "mqtt.url", "must be mqtt://host[:port] or mqtts://host"),
    (BOX + "[store]\njournal_max_mb = 0\n", "store.journal_max_mb", "0 must be greater than 0"),
    (
        BOX + '[store]\njournal_max_mb = "256"\n',
        "store.journal_max_mb",
        "expected an integer, got a string ('256')",
    ),
    (
        BOX + "[store]\njournal_max_mb = 2.5\n",
        "store.journal_max_mb",
        "expected an integer, got a number (2.5)",
    ),
    (BOX + "[store]\njournal_warn_ratio = 1.0\n", "store.journal_warn_ratio", "1.0 must be between 0 and 1"),
    (
        BOX + "[store]\njournal_warn_ratio = nan\n",
        "store.journal_warn_ratio",
        "expected a finite number, got a number (nan)",
    ),
    (BOX + '[scanner]\nname = "front"\n', "scanner", "expected an array ([[scanner]] tables), got a table"),
    (
        BOX + '[[scanner]]\nname = "front"\n',
        "scanner[0].type",
        "missing (required: one of evdev, serial, sim)",
    ),
    (
        BOX + '[[scanner]]\nname = "f"\ntype = "bluetooth"\n',
        "scanner[0].type",
        "'bluetooth' is not one of evdev, serial, sim",
    ),
    (BOX + '[[scanner]]\ntype = "sim"\n', "scanner[0].name", "missing (required)"),
    (
        BOX + SCANNER + SERIAL.replace('"back"', '"front"'),
        "scanner[1].name",
        "'front' is already used by scanner[0]",
    ),
    (
        BOX + SERIAL + SCANNER + 'layout = "xx"\n',
        "scanner[1].layout",
        "'xx' is not one of us, uk, es, fr, de, it, pt",
    ),
    (
        BOX + SCANNER + 'terminators = ["enter", "space"]\n',
        "scanner[0].terminators[1]",
        "'space' is not one of enter, kpenter, tab",
    ),
    (BOX + SCANNER + "terminators = []\n", "scanner[0].terminators", "() must not be empty"),
    (
        BOX + '[[scanner]]\nname = "f"\ntype = "evdev"\n',
        "scanner[0].device",
        "set device (a path) or name_match",
    ),
    (
        BOX + SCANNER + 'name_match = "Datalogic"\n',
        "scanner[0].name_match",
        "set either device or name_match, not both",
    ),
    (
        BOX + SCANNER + 'port = "/dev/ttyACM0"\n',
        "scanner[0].port",
        "not used with type = 'evdev' (it is a setting of type = 'serial')",
    ),
    (BOX + SCANNER + 'layuot = "es"\n', "scanner[0].layuot", "unknown key (did you mean layout?)"),
    (BOX + '[[scanner]]\nname = "b"\ntype = "serial"\n', "scanner[0].port", "missing (required)"),
    (BOX + SERIAL + "baudrate = 9601\n", "scanner[0].baudrate", "9601 is not a standard baud rate"),
    (BOX + SERIAL + 'parity = "X"\n', "scanner[0].parity", "'X' is not one of N, E, O, M, S"),
    (BOX + SERIAL + 'terminator = "\\r"\n', "scanner[0].terminator", "CR, CRLF, LF"),
    (
        BOX + '[[scanner]]\nname = "s"\ntype = "sim"\ninterval_s = -1\n',
        "scanner[0].interval_s",
        "-1.0 must be greater than 0",
    ),
    (
        BOX + '[[scanner]]\nname = "s"\ntype = "sim"\nbarcodes = ["1", ""]\n',
        "scanner[0].barcodes[1]",
        "must not be empty",
    ),
    (
        BOX + '[[scanner]]\nname = "s"\ntype = "sim"\nbarcodes = [123]\n',
        "scanner[0].barcodes[0]",
        "expected a string, got an integer (123)",
    ),
    (
        BOX + SCALE.replace("toledo8217", "toledo"),
        "scale.protocol",
        "'toledo' is not one of toledo8217, toledo8213, dialog06",
    ),
    (BOX + '[scale]\nprotocol = "cas22"\n', "scale.port", "missing (required)"),
    (BOX + SCALE + "bytesize = 9\n", "scale.bytesize", "9 is not one of 5, 6, 7, 8"),
    (BOX + SCALE + "stopbits = 1.5\n", "scale.stopbits", "1.5 is not one of 1, 2"),
    (BOX + SCALE + "baudrate = 0\n", "scale.baudrate", "0 is not a standard baud rate"),
    (BOX + SCALE + "poll_interval_s = 0\n", "scale.poll_interval_s", "0.0 must be greater than 0"),
    (BOX + '[printer]\nurl = "lpt://x"\n', "printer.url", "'lpt://x' is not a printer URL"),
    (BOX + '[printer]\nurl = "tcp://192.168.1.50"\n', "printer.url", "needs host:port"),
    (BOX + '[printer]\nurl = "tcp://host:99999"\n', "printer.url", "is not a valid URL"),
    (BOX + '[printer]\nurl = "usb://04b8"\n', "printer.url", "needs VID:PID in hex"),
    (BOX + '[printer]\nurl = "serial:///dev/ttyUSB1?baud=12"\n', "printer.url", "has a bad ?baud="),
    (
        BOX + '[printer]\nurl = "file://lp0"\n',
        "printer.url",
        "needs an absolute device path (file:///dev/...)",
    ),
    (BOX + '[printer]\nurl = "tcp://p:9100"\npaper_mm = 60\n', "printer.paper_mm", "60 is not one of 58, 80"),
    (
        BOX + '[printer]\nurl = "tcp://p:9100"\ncodepage = "CP999"\n',
        "printer.codepage",
        "'CP999' is not a known code page",
    ),
    (BOX + "[gpio]\nled_pin = 28\n", "gpio.led_pin", "28 is not a BCM GPIO pin (0..27)"),
    (BOX + "[gpio]\nled_pin = 17\nbutton_pin = 17\n", "gpio.button_pin", "pin 17 is already used by led_pin"),
    (BOX + "[gpio]\nhold_time_s = -0.5\n", "gpio.hold_time_s", "-0.5 must be 0 or more"),
    (BOX + '[gpio]\nbutton_press = "bumb"\n', "gpio.button_press", "'bumb'"),
    (BOX + '[gpio]\nbump_station = "kitchn"\n', "gpio.bump_station", "no [[orders.station]] named 'kitchn'"),
    (
        BOX + '[forward]\nenabled = "true"\n',
        "forward.enabled",
        "expected true or false, got a string ('true')",
    ),
    ("forward = []\n" + BOX, "forward", "expected a table, got an array"),
    (
        BOX + '[barcodes]\nvariable_measure_layouts = ["20IIIII"]\n',
        "barcodes.variable_measure_layouts[0]",
        "must be 13 characters long, not 7",
    ),
    (
        BOX + '[barcodes]\nvariable_measure_layouts = ["20IIIIIWWWWWC", "2XIIIIIWWWWWC"]\n',
        "barcodes.variable_measure_layouts[1]",
        "has 'X': use only digits, I, W, $, V and C",
    ),
    (
        BOX + '[barcodes]\nvariable_measure_layouts = ["20IIIIIWWWWWW"]\n',
        "barcodes.variable_measure_layouts",
        "variable-measure layout '20IIIIIWWWWWW' must end with the EAN-13 check digit C",
    ),
    (
        BOX + '[barcodes]\nvariable_measure_layouts = ["20IIIIIWWWWWC", "20IIIII$$$$$C"]\n',
        "barcodes.variable_measure_layouts",
        "both claim prefix 20",
    ),
    (
        BOX + '[barcodes]\nvariable_measure_layouts = "20IIIIIWWWWWC"\n',
        "barcodes.variable_measure_layouts",
        "expected an array, got a string",
    ),
    (BOX + '[provisioning]\npath = "tillbridge.toml"\n', "provisioning.path", "must be an absolute path"),
    (BOX + '[barcodes]\npreset = "XX"\n', "barcodes.preset", "no variable-measure preset 'XX': there are DE"),
]


@pytest.mark.parametrize(
    ("text", "key", "message"), BROKEN, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(BROKEN)]
)
def test_each_mistake_is_reported_with_file_and_key(tmp_path, text, key, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    assert caught.value.key == key
    line = str(caught.value).splitlines()[0]
    assert line.startswith(f"{path}: {key}: ") and message in line


def test_the_example_of_the_issue_reads_exactly_so(tmp_path):
    text = BOX + SCANNER + '[[scanner]]\nname = "b"\ntype = "evdev"\nname_match = "x"\nlayout = "xx"\n'
    path = write(tmp_path, text)
    assert check_config(path) == [f"{path}: scanner[1].layout: 'xx' is not one of us, uk, es, fr, de, it, pt"]


def test_all_problems_are_reported_at_once_one_per_line(tmp_path):
    text = (
        '[box]\nid = "BAD ID"\n'  # and shop missing
        "[store]\njournal_max_mb = -1\n"
        '[[scanner]]\nname = "a"\ntype = "evdev"\nlayout = "xx"\n'
        '[printer]\nurl = "lpt://x"\n'
        "[gpoi]\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(InvalidConfig) as caught:
        load_config(path)
    lines = str(caught.value).splitlines()
    assert [p.key for p in caught.value.problems] == [
        "gpoi",
        "box.id",
        "box.shop",
        "store.journal_max_mb",
        "scanner[0].layout",
        "printer.url",
    ]
    assert len(lines) == 6 and all(line.startswith(f"{path}: ") for line in lines)
    assert "gpoi: unknown key (did you mean gpio?)" in lines[0]


def test_toml_syntax_error_names_line_and_column(tmp_path):
    path = write(tmp_path, BOX + "[store]\njournal_max_mb = \n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.file == str(path)
    assert str(caught.value).startswith(f"{path}: invalid TOML: ")
    assert "line 5, column 18" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read: No such file or directory"), (b"[box]\nid = '\xff'\n", "not UTF-8 text (byte 12)")],
)
def test_unreadable_files_are_config_errors(tmp_path, content, message):
    path = tmp_path / "agent.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}: {message}"


def test_validate_names_the_given_file():
    with pytest.raises(ConfigError) as caught:
        validate({"box": {"id": "x"}}, "/etc/tillbridge/agent.toml")
    assert str(caught.value) == "/etc/tillbridge/agent.toml: box.shop: missing (required)"


def test_device_checks_are_separate_from_validation(tmp_path, pty_path):
    text = BOX + SCALE.replace("/dev/ttyUSB0", "/dev/ttyUSB9") + SERIAL.replace("/dev/ttyACM0", pty_path)
    path = write(tmp_path, text)
    config = load_config(path)  # a scale that is not plugged in yet does not stop the box
    assert [str(p) for p in check_devices(config, str(path))] == [
        f"{path}: scale.port: /dev/ttyUSB9 does not exist"
    ]
    assert check_config(path) == [f"{path}: scale.port: /dev/ttyUSB9 does not exist"]


def test_device_checks_cover_every_device_node(tmp_path, pty_path):
    missing = str(tmp_path / "gone")
    text = BOX + (
        f'[[scanner]]\nname = "a"\ntype = "evdev"\ndevice = "{missing}"\n'
        f'[[scanner]]\nname = "b"\ntype = "serial"\nport = "{missing}"\n'
        '[[scanner]]\nname = "c"\ntype = "serial"\nport = "socket://localhost:7000"\n'
        '[[scanner]]\nname = "d"\ntype = "sim"\n'
        f'[scale]\nprotocol = "enq"\nport = "{pty_path}"\n'
        f'[printer]\nurl = "file://{missing}"\n'
        f'[forward]\nenabled = true\ndevice = "{missing}"\n'
    )
    config = load_config(write(tmp_path, text))
    keys = [p.key for p in check_devices(config)]
    assert keys == ["scanner[0].device", "scanner[1].port", "printer.url", "forward.device"]


def test_forward_device_is_only_looked_for_when_forwarding_is_on(tmp_path):
    config = load_config(write(tmp_path, BOX + '[forward]\ndevice = "/dev/hidg7"\n'))
    assert check_devices(config) == []
    config = load_config(write(tmp_path, BOX + '[forward]\nenabled = true\ndevice = "/dev/hidg7"\n'))
    assert [str(p) for p in check_devices(config)] == ["forward.device: /dev/hidg7 does not exist"]


def test_check_config_is_empty_for_a_good_config_and_lists_every_problem_otherwise(tmp_path, pty_path):
    good = write(tmp_path, BOX + SCALE.replace("/dev/ttyUSB0", pty_path))
    assert check_config(good, tmp_path / "no-provisioning.toml") == []
    bad = write(tmp_path, '[box]\nid = "x"\n[store]\njournal_max_mb = 0\n', name="bad.toml")
    assert check_config(bad, tmp_path / "no-provisioning.toml") == [
        f"{bad}: box.shop: missing (required)",
        f"{bad}: store.journal_max_mb: 0 must be greater than 0",
    ]
    broken = write(tmp_path, "[box\n", name="broken.toml")
    (line,) = check_config(broken, tmp_path / "no-provisioning.toml")
    assert line.startswith(f"{broken}: invalid TOML: ") and "line 1" in line


def test_the_config_is_immutable(tmp_path):
    config = load_config(write(tmp_path, BOX))
    with pytest.raises(AttributeError):
        config.box.id = "other"  # type: ignore[misc]
    assert isinstance(config, AgentConfig) and config.box.id == "shop1-till1"


def test_a_country_preset_replaces_the_default_scale_label_layouts(tmp_path):
    path = write(tmp_path, BOX + '[barcodes]\npreset = "GB"\nvariable_measure_layouts = ["25IIIIIWWWWWC"]\n')
    assert load_config(path).barcodes.layouts() == ("20IIIIIV$$$$C", "25IIIIIWWWWWC")
