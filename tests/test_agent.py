"""`tillbridge agent` as systemd runs it: READY and watchdog over NOTIFY_SOCKET, clean stop, config errors."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.agent_helpers import AgentProcess, write_config


def notify_socket(tmp_path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(20)
    return sock


def test_it_tells_systemd_ready_feeds_the_watchdog_and_stops_cleanly_on_sigterm(tmp_path):
    sock = notify_socket(tmp_path)
    env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "400000"}
    agent = AgentProcess(write_config(tmp_path), env=env)
    assert sock.recv(4096).startswith(b"READY=1")
    assert sock.recv(4096) == b"WATCHDOG=1"  # the core loop itself feeds it
    assert agent.terminate() == 0
    assert any("stopped cleanly" in line for line in agent.lines)
    messages = []
    while b"STOPPING=1" not in messages:
        messages.append(sock.recv(4096))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tillbridge", *args], capture_output=True, text=True, timeout=60
    )


def test_check_config_says_ok_or_names_file_key_and_problem(tmp_path):
    good = write_config(tmp_path)
    result = run_cli("agent", "--check-config", "--config", str(good))
    assert (result.returncode, result.stdout.strip()) == (0, f"{good}: OK")
    bad = tmp_path / "bad.toml"
    bad.write_text('[box]\nid = "Till 1"\nshop = "s"\n')
    result = run_cli("agent", "--check-config", "--config", str(bad))
    assert result.returncode == 2 and f"{bad}: box.id: 'Till 1' must be" in result.stdout
    unplugged = write_config(tmp_path, '[scale]\nprotocol = "toledo8217"\nport = "/dev/ttyUSB9"\n')
    result = run_cli("agent", "--check-config", "--config", str(unplugged))
    assert result.returncode == 2
    assert f"{unplugged}: scale.port: /dev/ttyUSB9 does not exist" in result.stdout


def test_a_broken_config_stops_the_agent_with_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "agent.toml"
    bad.write_text("[box\nid = 1\n")
    result = run_cli("agent", "--config", str(bad), "--provisioning", str(tmp_path / "none.toml"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and str(bad) in result.stderr


def test_a_provisioning_file_is_merged_into_the_config_on_first_start(tmp_path):
    config = write_config(tmp_path)
    provisioning = tmp_path / "boot" / "tillbridge.toml"
    provisioning.parent.mkdir()
    provisioning.write_text('[box]\nid = "till-7"\n')
    result = run_cli("agent", "--check-config", "--config", str(config))
    assert result.returncode == 0  # checking never applies anything
    agent = AgentProcess(config, provisioning=provisioning)
    agent.wait_ready()
    assert agent.terminate() == 0
    assert 'id = "till-7"' in config.read_text()
    assert not provisioning.exists() and provisioning.with_name("tillbridge.toml.applied").exists()


def test_an_unreadable_provisioning_file_does_not_keep_the_box_from_starting(tmp_path):
    config = write_config(tmp_path)
    unreadable = tmp_path / "boot" / "tillbridge.toml"
    unreadable.mkdir(parents=True)  # reading it fails with an OSError, as a badly mounted partition would
    agent = AgentProcess(config, provisioning=unreadable)
    agent.wait_ready()
    assert agent.terminate() == 0
    assert any("provisioning" in line and "current config" in line for line in agent.lines) or any(
        "provisioning file rejected" in line for line in agent.lines
    )
