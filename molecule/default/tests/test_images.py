"""Verify the converged images and the running example container (pytest-testinfra)."""

import json

REGISTRY = "127.0.0.1:5000/luban"


def inspect(host, ref):
    result = host.run("docker image inspect %s", ref)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)[0]


def variant(host):
    labels = inspect(host, REGISTRY + "/builder-python:latest")["Config"]["Labels"]
    return json.loads(labels["io.buildpacks.builder.metadata"])["images"][0]["image"].rsplit(":", 1)[1]


def test_build_image_declares_the_cnb_user(host):
    config = inspect(host, "%s/stack-build:%s" % (REGISTRY, variant(host)))["Config"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert env["CNB_USER_ID"] == "1001" and env["CNB_GROUP_ID"] == "1000"
    assert config["User"] == "1001:1000"
    assert config["Labels"]["io.buildpacks.base.distro.name"] in ("amzn", "debian")


def test_build_image_has_a_python_for_buildpack_logic_and_a_compiler(host):
    image = "%s/stack-build:%s" % (REGISTRY, variant(host))
    out = host.run("docker run --rm --entrypoint sh %s -c 'for c in gcc make tar gzip git; do command -v $c || exit 1; done; "
                   "for p in python3.11 python3; do $p -c \"import sys; assert sys.version_info >= (3, 11)\" && exit 0; done; exit 1'", image)
    assert out.rc == 0, out.stdout + out.stderr


def test_run_image_is_rebasable_minimal_and_non_root(host):
    image = "%s/stack-run:%s" % (REGISTRY, variant(host))
    config = inspect(host, image)["Config"]
    assert config["Labels"]["io.buildpacks.rebasable"] == "true"
    assert config["User"] == "1002:1000"
    out = host.run("docker run --rm --entrypoint sh %s -c 'id -u; "
                   "for c in gcc cc make apt-get microdnf dnf python3 sudo; do command -v $c; done; true'", image)
    assert out.rc == 0, out.stderr
    assert out.stdout.split() == ["1002"], out.stdout
    # su and friends may exist but are inert without setuid. As root, so nothing is hidden.
    out = host.run("docker run --rm --user 0 --entrypoint find %s / -xdev -type f -perm /6000", image)
    assert out.rc == 0 and out.stdout == "", out.stdout + out.stderr


def test_builder_uses_the_stack_and_the_python_buildpack(host):
    labels = inspect(host, REGISTRY + "/builder-python:latest")["Config"]["Labels"]
    metadata = json.loads(labels["io.buildpacks.builder.metadata"])
    assert [bp["id"] for bp in metadata["buildpacks"]] == ["luban/python-uv"]
    assert metadata["images"][0]["image"].startswith(REGISTRY + "/stack-run:")


def test_example_container_runs_as_the_run_user_and_answers(host):
    container = json.loads(host.run("docker inspect luban-molecule-example").stdout)[0]
    assert container["State"]["Running"]
    assert container["Config"]["User"].split(":")[0] == "1002"
    answer = host.run("curl -fsS --retry 30 --retry-delay 1 --retry-all-errors http://127.0.0.1:18081/")
    assert answer.rc == 0, answer.stderr
    assert json.loads(answer.stdout)["uid"] == 1002
