"""Which credential goes with which URL, and the refusals when they do not fit."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban_step.credentials import git_auth
from luban_step.errors import StepError
from luban_step.validate import git_url


def _auth(url: str, secret: Path | None, tmp_path: Path):
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return git_auth(git_url(url, "--repo-url"), str(secret) if secret else None, scratch)


def _refusal(url: str, secret: Path | None, tmp_path: Path) -> StepError:
    with pytest.raises(StepError) as caught:
        _auth(url, secret, tmp_path)
    return caught.value


def test_no_credentials_dir_means_anonymous(tmp_path: Path) -> None:
    assert _auth("https://github.com/acme/shop.git", None, tmp_path).kind == "none"


def test_a_token_gives_git_an_askpass_program_and_only_the_token_file_path(tmp_path: Path, token_dir: Path) -> None:
    from conftest import TOKEN

    auth = _auth("https://github.com/acme/shop.git", token_dir, tmp_path)
    assert auth.kind == "token"
    assert set(auth.env) == {"GIT_ASKPASS", "LUBAN_STEP_TOKEN_FILE", "LUBAN_STEP_TOKEN_ORIGIN",
                             "LUBAN_STEP_TOKEN_REFUSED"}
    assert auth.env["LUBAN_STEP_TOKEN_ORIGIN"] == "https://github.com:443"
    assert all(TOKEN not in value for value in auth.env.values())
    askpass = Path(auth.env["GIT_ASKPASS"])
    assert oct(askpass.stat().st_mode & 0o777) == "0o700" and TOKEN not in askpass.read_text()


def test_an_empty_credentials_dir_is_an_optional_secret_that_is_absent(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "..data").mkdir(parents=True)  # what Kubernetes leaves in a mounted Secret volume
    assert _auth("https://github.com/acme/shop.git", empty, tmp_path).kind == "none"


def test_a_credentials_dir_with_other_keys_is_refused(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    (wrong / "password").write_text("x")
    error = _refusal("https://github.com/acme/shop.git", wrong, tmp_path)
    assert error.key == "no_credentials" and error.exit_code == 3


def test_an_ssh_key_for_an_https_url_is_a_mismatch(tmp_path: Path) -> None:
    secret = tmp_path / "ssh"
    secret.mkdir()
    (secret / "ssh-privatekey").write_text("key material 0123456789")
    error = _refusal("https://github.com/acme/shop.git", secret, tmp_path)
    assert error.message == ("The repository URL uses https, but --credentials-dir '%s' holds no 'token'. The "
                             "credential must match the transport. Mount 'token' or change the URL." % secret)


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "blank"
    secret.mkdir()
    (secret / "token").write_text("\n")
    error = _refusal("https://github.com/acme/shop.git", secret, tmp_path)
    assert error.message == ("The secret file '%s' is empty. An empty credential can only fail later with a "
                             "confusing error. Fill the secret key, or leave the file out to go anonymous."
                             % (secret / "token"))


@pytest.mark.parametrize("url", ["https://x-access-token:ghp_abc@github.com/acme/shop.git",
                                 "https://ghp_abc@github.com/acme/shop.git",
                                 "ssh://git:pw@github.com/acme/shop.git"])
def test_credentials_inside_a_url_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(StepError) as caught:
        git_url(url, "--repo-url")
    assert caught.value.key == "credentials_in_url"
    assert "ghp_abc" not in caught.value.message and "pw" not in caught.value.message.replace("password", "")


def _ask(auth, prompt: str):
    import subprocess

    return subprocess.run([auth.env["GIT_ASKPASS"], prompt], env=auth.env, capture_output=True, text=True,
                          check=False)


def test_the_askpass_program_answers_only_the_origin_of_the_validated_url(tmp_path: Path, token_dir: Path) -> None:
    from conftest import TOKEN

    auth = _auth("https://ghe.example.com/acme/shop.git", token_dir, tmp_path)
    assert _ask(auth, "Username for 'https://ghe.example.com': ").stdout == "x-access-token\n"
    assert _ask(auth, "Password for 'https://x-access-token@ghe.example.com': ").stdout == TOKEN + "\n"
    assert _ask(auth, "Password for 'https://x-access-token@ghe.example.com:443': ").stdout == TOKEN + "\n"
    auth.check_refused()  # nothing refused yet
    for prompt in ("Password for 'https://x-access-token@evil.example': ",
                   "Password for 'https://x-access-token@ghe.example.com:8443': ",
                   "Password for 'http://x-access-token@ghe.example.com': ",
                   "Password for 'https://x-access-token@ghe.example.com.evil.example': ",
                   "Password: "):
        answer = _ask(auth, prompt)
        assert answer.returncode == 1 and answer.stdout == "", prompt
    with pytest.raises(StepError) as caught:
        auth.check_refused()
    assert caught.value.key == "token_host_refused"
