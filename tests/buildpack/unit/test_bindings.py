from __future__ import annotations

import stat
from pathlib import Path

import pytest
from bp_helpers import write_app
from luban_python import bindings
from luban_python.bindings import Secrets, find_bindings
from luban_python.errors import BuildpackError

PEM = "-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n"


def binding_error(tmp_path: Path) -> BuildpackError:
    """The error that entering Secrets raises for the bindings under tmp_path/platform."""
    with pytest.raises(BuildpackError) as raised:
        with Secrets(find_bindings(tmp_path / "platform", {})):
            pass
    return raised.value


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
    raised = binding_error(tmp_path)
    assert raised.key == "binding_empty"
    assert str(raised) == (
        f"Binding 'ca' of type 'ca-certificates' has no content: The binding at '{tmp_path}/platform/bindings/ca' "
        "has a type file but nothing else, so there is nothing to trust. Add the file(s) to the binding or remove it."
    )


def test_python_mirror_binding_points_uv_at_the_mounted_mirror(tmp_path: Path) -> None:
    mirror = write_app(tmp_path / "platform/bindings/python-mirror", {"type": "uv-python-mirror\n", "download-metadata.json": "{}"})
    with Secrets(find_bindings(tmp_path / "platform", {})) as secrets:
        assert secrets.env == {
            "UV_PYTHON_DOWNLOADS_JSON_URL": f"file://{mirror}/download-metadata.json",
            "UV_PYTHON_INSTALL_MIRROR": f"file://{mirror}",
        }
        assert secrets.notes == ["installing CPython from the uv Python mirror of binding python-mirror"]


def test_python_mirror_binding_without_metadata_is_an_error(tmp_path: Path) -> None:
    write_app(tmp_path / "platform/bindings/pythons", {"type": "uv-python-mirror", "env": "X=1\n"})
    raised = binding_error(tmp_path)
    assert raised.key == "python_mirror_binding_incomplete"
    assert str(raised) == (
        f"Binding 'pythons' is not a uv Python mirror: The binding at '{tmp_path}/platform/bindings/pythons' has type "
        "uv-python-mirror but no download-metadata.json, so uv would not know which CPython archives the mirror "
        "holds. Bind the mirror folder itself (the one `make python-mirror` writes: download-metadata.json, the "
        "archives and the type file) or remove the binding to download CPython as usual."
    )


def test_two_python_mirror_bindings_are_an_error(tmp_path: Path) -> None:
    for name in ("a", "b"):
        write_app(tmp_path / f"platform/bindings/{name}", {"type": "uv-python-mirror", "download-metadata.json": "{}"})
    raised = binding_error(tmp_path)
    assert str(raised) == (
        "More than one uv Python mirror binding: The bindings 'a', 'b' all have type uv-python-mirror, and uv installs "
        "CPython from one mirror only. Keep one of them."
    )


def test_a_bad_binding_leaves_no_copied_secret_behind(tmp_path: Path) -> None:
    write_app(tmp_path / "platform/bindings/ca", {"type": "ca-certificates", "proxy.pem": PEM})
    write_app(tmp_path / "platform/bindings/index", {"type": "netrc"})  # empty: fails after the CA bundle is written
    secrets = Secrets(find_bindings(tmp_path / "platform", {}))
    with pytest.raises(BuildpackError) as raised:
        with secrets:
            pass
    assert raised.value.key == "binding_empty"
    assert secrets.env["SSL_CERT_FILE"].startswith(str(secrets.dir))  # the bundle had been written ...
    assert not secrets.dir.exists()  # ... and is gone with its directory
