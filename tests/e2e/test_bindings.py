"""Scenario 7: an app whose build needs a build env var from its project.toml (the index URL) and
the operator's bindings (the index's CA, its credentials) builds in the cluster as `pack build`
builds it locally, and the credential reaches neither the image, the logs nor the GitOps repo."""

from __future__ import annotations

import json
from pathlib import Path

import e2e_lib as e2e
import scenario

APP_DIR = Path(__file__).resolve().parent / "apps" / "bindings-app"


def test_build_env_and_bindings_are_honoured_and_no_credential_leaks(env) -> None:
    password = (Path(env.services["E2E_SECRETS"]) / "index-password").read_text().strip()
    assert len(password) >= 32
    _push, result = scenario.deploy(env, "bindings-app", tree=APP_DIR, message="scenario 7")
    assert result.phase == "Succeeded", result.logs[-8000:]

    # The package exists only on the private index: the answer proves the index URL (project.toml),
    # the CA binding and the netrc binding all reached the build.
    assert json.loads(result.answer["body"]) == {"app": "bindings-app", "greeting": "hello from the private index",
                                                 "uid": json.loads(result.answer["body"])["uid"]}
    assert json.loads(result.answer["body"])["uid"] != 0
    assert "Using index credentials from binding(s) private-index" in result.logs, result.logs[-8000:]
    assert "Trusting the CA certificates of binding(s) ca-certificates" in result.logs

    # The credential is nowhere it must not be.
    secret = password.encode()
    assert not [i for i, blob in enumerate(e2e.image_blobs(env.services, result.image)) if secret in blob]
    assert password not in result.logs
    workflow = env.kube.run("-n", e2e.NAMESPACE, "get", "workflow", result.workflow, "-o", "json")
    assert password not in workflow
    assert password not in env.git.git(e2e.GITOPS, "log", "-p", "--all")
