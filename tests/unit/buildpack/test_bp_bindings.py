from __future__ import annotations

import stat
from pathlib import Path

import pytest
from bp_helpers import write_app
from luban_python import bindings
from luban_python.bindings import Secrets, find_bindings
from luban_python.errors import BuildpackError

PEM = "-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n"


def test_ca_binding_is_added_to_the_system_store_outside_the_layers(tmp_path: Path, monkeypatch) -> None:
    system = write_app(tmp_path / "sys", {"ca.crt": "SYSTEM\n"}) / "ca.crt"
    monkeypatch.setattr(bindings, "SYSTEM_CA_BUNDLES", (system,))
    write_app(tmp_path / "platform/bindings/proxy-ca", {"type": "ca-certificates\n", "proxy.pem": PEM})
    with Secrets(find_bindings(tmp_path / "platform", {})) as secrets:
        bundle = Path(secrets.env["SSL_CERT_FILE"])
        assert bundle.read_text() == "SYSTEM\n" + PEM
        assert not bundle.is_relative_to(tmp_path)
        assert secrets.notes == ["trusting the CA certificates of binding(s) proxy-ca"]
    assert not bundle.exists(), "binding content must not outlive the build"


def test_netrc_binding_is_private_and_removed(tmp_path: Path) -> None:
    write_app(tmp_path / "platform/bindings/index", {"type": "netrc", ".netrc-ignored": "x", "netrc": "machine idx login u password p\n"})
    with Secrets(find_bindings(tmp_path / "platform", {})) as secrets:
        netrc = Path(secrets.env["NETRC"])
        assert netrc.read_text() == "machine idx login u password p\n"
        assert stat.S_IMODE(netrc.stat().st_mode) == 0o600
    assert not netrc.exists()


def test_service_binding_root_overrides_the_platform_dir(tmp_path: Path) -> None:
    write_app(tmp_path / "sbr/ca", {"type": "CA-Certificates", "a.pem": PEM})
    assert [(b.name, b.type) for b in find_bindings(tmp_path / "platform", {"SERVICE_BINDING_ROOT": str(tmp_path / "sbr")})] == [("ca", "ca-certificates")]


def test_other_binding_types_are_ignored(tmp_path: Path) -> None:
    write_app(tmp_path / "platform/bindings/db", {"type": "postgresql", "password": "secret"})
    with Secrets(find_bindings(tmp_path / "platform", {})) as secrets:
        assert secrets.env == {}


def test_empty_binding_is_an_error(tmp_path: Path) -> None:
    write_app(tmp_path / "platform/bindings/ca", {"type": "ca-certificates"})
    with pytest.raises(BuildpackError) as raised:
        with Secrets(find_bindings(tmp_path / "platform", {})):
            pass
    assert raised.value.key == "binding_empty"
    assert str(raised.value) == (
        f"Binding ca of type ca-certificates has no content: The binding at {tmp_path}/platform/bindings/ca has "
        "a type file but nothing else, so there is nothing to trust. Add the file(s) to the binding or remove it."
    )
