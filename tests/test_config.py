"""The documented example config is complete and matches the built-in defaults."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from conftest import REPO

from mocap.app.config import CaptureConfig, example_toml, load_config

EXAMPLE = REPO / "examples" / "mocap.toml"


def test_example_config_loads_to_the_defaults() -> None:
    assert load_config(EXAMPLE) == CaptureConfig()


def test_example_config_documents_every_option() -> None:
    text = EXAMPLE.read_text()
    config = CaptureConfig()
    for section in fields(CaptureConfig):
        value = getattr(config, section.name)
        keys = [f.name for f in fields(value)] if hasattr(value, "__dataclass_fields__") else [section.name]
        for key in keys:
            assert re.search(rf"^#? ?{key} = ", text, re.MULTILINE), f"{key} is not in {EXAMPLE.name}"


def test_example_config_is_the_one_generated_from_the_declarations() -> None:
    """Each option is declared once (mocap/app/config.py); the example file is generated from
    those declarations, so its defaults and help cannot drift from the code's."""
    assert EXAMPLE.read_text() == example_toml(), "regenerate: python -m mocap.app.config > examples/mocap.toml"


def test_command_line_help_states_each_declared_default() -> None:
    from click.testing import CliRunner

    from mocap.app.cli import main

    help_text = " ".join(CliRunner().invoke(main, ["capture", "--help"]).output.split())
    assert "--fov FLOAT Horizontal field of view, degrees, used without a calibration. Default: 60.0." in help_text
    assert "--foot-lock / --no-foot-lock Hold planted feet still" in help_text and "Default: on." in help_text
    assert "--bvh-units [cm|m]" in help_text
    solve_help = CliRunner().invoke(main, ["solve", "--help"]).output
    assert "--vmc-rate" in solve_help and "--fov" not in solve_help      # solve takes only the shared options


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    config_file = tmp_path / "mine.toml"
    config_file.write_text("[vmc]\naddress = '127.0.0.1:1234'\nrate_hz = 30.0\n")
    config = load_config(config_file).with_overrides({"vmc": {"address": "127.0.0.1:39539", "rate_hz": None}})
    assert config.vmc.address == "127.0.0.1:39539" and config.vmc.rate_hz == 30.0
