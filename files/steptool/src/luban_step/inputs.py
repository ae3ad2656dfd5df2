"""inputs: whether this run builds the app, or reuses or rebases the image built from the same inputs.

The pipeline's half of the platform-level skip that ``luban.ci.build_inputs`` gives
``build_app.yml`` (the same code: a vendored copy of its module_utils). The inputs are the app as
the build gets it (detect's prepared directory, so project.toml include/exclude count), the build
env files, the builder image's digest, each binding's contents and the build's own settings (the
lifecycle's platform API, user, group). Their key names the tag ``REPO:inputs-<key>`` that every
build of a locked app publishes. Found on the run image the build uses (the pinned one, else the
builder's): reuse; found on another run image of the same platform and OS release (a moved pin):
rebase; otherwise, or when anything cannot be found out: build.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from luban_step import validate
from luban_step._vendor.build_inputs import GIT_ENV, Decision, Registry, decide
from luban_step.errors import StepError, notice
from luban_step.outputs import write_outputs

ENV_BINDING = "platform-env"  # the build env files, counted as one more binding


@dataclass(frozen=True)
class InputsRequest:
    app_dir: str
    platform_env: str | None
    repository: str
    builder: str
    outputs: str
    bindings: tuple[str, ...] = ()  # NAME=DIR
    settings: tuple[str, ...] = ()
    run_images: tuple[str, ...] = ()  # LANGUAGE=IMAGE: the run image the build pins per language
    language: str = ""
    locks: tuple[str, ...] = ("uv.lock",)
    docker_config: str | None = None
    insecure_registries: tuple[str, ...] = ()
    enabled: bool = True
    default_tag: str = ""  # DIR/tag when the run publishes no inputs tag (an unlocked app)


def run_command(argv: list, cwd: str | None, data: str | None) -> tuple[int, str]:
    """The runner build_inputs asks git (and credential helpers) through."""
    try:
        done = subprocess.run(argv, cwd=cwd, input=data, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/local/bin:/usr/bin:/bin", **GIT_ENV}, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return 127, str(exc)
    return done.returncode, done.stdout


def no_engine(_name: str, _docker_host: str) -> None:
    """A pipeline has no Docker engine: the builder is always the registry's."""
    return None


def _bindings(request: InputsRequest) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for item in request.bindings:
        name, sep, directory = item.partition("=")
        if not sep or not name or not directory:
            raise StepError("inputs_bad_binding", value=item)
        found[name] = Path(directory)
    if request.platform_env:
        found[ENV_BINDING] = Path(request.platform_env)
    return found


def _run_image(request: InputsRequest) -> str | None:
    """The run image the build template pins for the app's language (None: the builder's)."""
    for item in request.run_images:
        language, sep, image = item.partition("=")
        if not sep or not language or not image:
            raise StepError("inputs_bad_run_image", value=item)
        if language == request.language:
            return image
    return None


def _decision(request: InputsRequest) -> Decision:
    run_image = _run_image(request)
    if not request.enabled:
        return Decision("build", "reuse is switched off (argo_workflows_reuse)")
    arguments = list(request.settings) + (["--run-image", run_image] if run_image else [])
    registry = Registry(Path(request.docker_config or "/nonexistent"), run_command, request.insecure_registries)
    return decide(Path(request.app_dir), request.repository, request.builder, _bindings(request), arguments,
                  list(request.locks), registry, "", run_command, engine=no_engine)


def inputs(request: InputsRequest, log=print) -> str:
    repository = validate.image_repository(request.repository, "--image-repository")
    decision = _decision(replace(request, repository=repository))
    # A build of an unlocked app publishes no inputs tag: --default-tag (one the build pushes
    # anyway) stands in, so the build template's list of tags needs no condition.
    values = {
        "action": decision.action,
        "tag": decision.tag or request.default_tag,
        "image": repository + "@" + decision.digest if decision.digest and decision.action != "build" else "",
        "run-image": decision.run_image,
    }
    write_outputs(request.outputs, values)
    if decision.action == "reuse":
        log(notice("inputs_reuse", why=decision.reason))
    elif decision.action == "rebase":
        log(notice("inputs_rebase", why=decision.reason))
    else:
        log(notice("inputs_build", why=decision.reason))
    return notice("inputs", action=decision.action, inputs_key=decision.key[:12] or "none")
