"""Command line: wires arguments to the command modules; prints notices, errors and exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from luban_step import __version__, redact
from luban_step.checkout import CheckoutRequest, checkout
from luban_step.deploy import DeployRequest, deploy
from luban_step.detect import DetectRequest, detect
from luban_step.digest import DigestRequest, digest
from luban_step.errors import Exit, StepError
from luban_step.history import DEFAULT_LIMIT
from luban_step.inputs import InputsRequest, inputs
from luban_step.tag import TagRequest, tag
from luban_step.kubeapi import SERVICE_ACCOUNT_DIR
from luban_step.status import StatusRequest, set_status
from luban_step.supersede import SupersedeRequest, supersede

PREFIX = "luban-step: "


def _say(line: str) -> None:
    print(PREFIX + redact.scrub(line), file=sys.stderr, flush=True)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="luban-step", description="luban-ci pipeline steps.")
    top.add_argument("--version", action="version", version="luban-step " + __version__)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    cmd = commands.add_parser("checkout", help="fetch exactly one commit, shallow")
    cmd.add_argument("--repo-url", required=True)
    cmd.add_argument("--revision", required=True, help="the full 40-hex commit SHA")
    cmd.add_argument("--dest", required=True, help="an empty or new directory")
    cmd.add_argument("--credentials-dir", help="mounted secret with 'token' or 'ssh-privatekey'")
    cmd.add_argument("--git-host", metavar="HOST[:PORT]",
                     help="the configured git host: --repo-url must name it, credentials go nowhere else")

    cmd = commands.add_parser("detect", help="select language, builder and build template")
    cmd.add_argument("--source", required=True, help="the checkout")
    cmd.add_argument("--app-path", default=".", help="the app inside the checkout")
    cmd.add_argument("--registry", required=True, help="language registry JSON file")
    cmd.add_argument("--outputs", required=True, help="directory for the output files")
    cmd.add_argument("--prepare-dir",
                     help="lay out DIR/app (project.toml include/exclude, no .git) and DIR/platform/env for the build")
    cmd.add_argument("--build-env", action="append", default=[], metavar="NAME=VALUE",
                     help="operator build env for --prepare-dir; wins over project.toml (repeatable)")

    cmd = commands.add_parser("digest", help="read the image digest from the lifecycle report")
    cmd.add_argument("--report", required=True, help="report.toml written by the lifecycle's exporter")
    cmd.add_argument("--outputs", required=True, help="directory for the output files")
    cmd.add_argument("--image-repository", help="REPO for DIR/image (default: from the report's tags)")

    cmd = commands.add_parser("inputs", help="build, or reuse or rebase the image built from the same inputs")
    cmd.add_argument("--app", required=True, help="the app as the build gets it (detect's DIR/app)")
    cmd.add_argument("--platform-env", help="the build env files (detect's DIR/platform/env)")
    cmd.add_argument("--image-repository", required=True, help="REPO: the image and its inputs-<key> tags")
    cmd.add_argument("--builder", required=True, help="the builder image the build runs in")
    cmd.add_argument("--binding", action="append", default=[], metavar="NAME=DIR",
                     help="a binding the build mounts, read here by its contents (repeatable)")
    cmd.add_argument("--setting", action="append", default=[], metavar="TEXT",
                     help="a build setting that changes the image, counted as given (repeatable)")
    cmd.add_argument("--language", default="", help="the app's language, as detect selected it")
    cmd.add_argument("--run-image", action="append", default=[], metavar="LANGUAGE=IMAGE",
                     help="the run image the build template pins for a language (repeatable; "
                          "default: the builder's)")
    cmd.add_argument("--lock", action="append", default=[], metavar="FILE",
                     help="a lock file that fixes the dependencies; without one the app is always built "
                          "(repeatable; default uv.lock)")
    cmd.add_argument("--docker-config", help="directory of the registry credentials' config.json")
    cmd.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                     help="a registry spoken to over plain http (repeatable)")
    cmd.add_argument("--reuse", choices=("true", "false"), default="true",
                     help="false: always build (default %(default)s)")
    cmd.add_argument("--default-tag", default="",
                     help="DIR/tag when no inputs tag is published (an unlocked app): a tag the build pushes anyway")
    cmd.add_argument("--outputs", required=True, help="directory for DIR/action, DIR/tag, DIR/image, DIR/run-image")

    cmd = commands.add_parser("tag", help="point this run's tags at the image found for its inputs")
    cmd.add_argument("--image", required=True, help="REPO@sha256:DIGEST, as inputs wrote it to DIR/image")
    cmd.add_argument("--tag", action="append", default=[], required=True, metavar="REPO:TAG",
                     help="a tag of the same repository (repeatable)")
    cmd.add_argument("--report", required=True, help="where to write the lifecycle's report shape for digest")
    cmd.add_argument("--docker-config", help="directory of the registry credentials' config.json")
    cmd.add_argument("--insecure-registry", action="append", default=[], metavar="HOST[:PORT]",
                     help="a registry spoken to over plain http (repeatable)")

    cmd = commands.add_parser("deploy", help="pin the image by digest in the GitOps repository")
    cmd.add_argument("--gitops-repo", required=True)
    cmd.add_argument("--gitops-branch", required=True)
    cmd.add_argument("--path", required=True, help="directory holding kustomization.yaml")
    cmd.add_argument("--image-name", required=True, help="image name as the manifests use it")
    cmd.add_argument("--image", required=True, help="REPO@sha256:DIGEST")
    cmd.add_argument("--source-repo", required=True, help="OWNER/NAME the image was built from")
    cmd.add_argument("--source-sha", required=True)
    cmd.add_argument("--source-ref", required=True, help="branch or tag of the source commit")
    cmd.add_argument("--credentials-dir", help="mounted secret with 'token' or 'ssh-privatekey' (GitOps)")
    cmd.add_argument("--source-url", required=True,
                     help="the source repository: its history orders the new and the deployed commit")
    cmd.add_argument("--source-credentials-dir", help="mounted secret for --source-url (the checkout's)")
    cmd.add_argument("--git-host", metavar="HOST[:PORT]",
                     help="the configured git host: --source-url must name it")
    cmd.add_argument("--history-limit", default=str(DEFAULT_LIMIT),
                     help="commits of each history fetched at most to order two commits (default %(default)s)")
    cmd.add_argument("--outputs", help="directory for DIR/result and DIR/outcome (the commit status reads it)")

    cmd = commands.add_parser("status", help="set a GitHub commit status")
    cmd.add_argument("--api-url", default="https://api.github.com")
    cmd.add_argument("--repo", required=True, help="OWNER/NAME")
    cmd.add_argument("--sha", required=True)
    cmd.add_argument("--state", required=True, help="pending, success, failure or error")
    cmd.add_argument("--context", required=True)
    cmd.add_argument("--description", default="")
    cmd.add_argument("--target-url", default="")
    cmd.add_argument("--token-file", required=True)
    cmd.add_argument("--description-file",
                     help="appended to --description when it exists (deploy's DIR/outcome)")
    cmd.add_argument("--workflow-annotations", metavar="JSON",
                     help="the run's annotations ({{workflow.annotations.json}}): a superseded run posts pending")

    cmd = commands.add_parser("supersede", help="stop the lane's runs of commits this commit descends from")
    cmd.add_argument("--lane", required=True, help="the luban.ci/lane label value of this run")
    cmd.add_argument("--workflow", required=True, help="this run's Workflow name (never stopped)")
    cmd.add_argument("--workflow-created", required=True,
                     help="this run's creationTimestamp (RFC 3339): only runs created earlier are stopped")
    cmd.add_argument("--revision", required=True, help="this run's commit SHA")
    cmd.add_argument("--ref", required=True, help="this run's ref (its history is fetched with the commits)")
    cmd.add_argument("--source-url", required=True,
                     help="the source repository: ancestry decides which runs are stopped")
    cmd.add_argument("--source-credentials-dir", help="mounted secret for --source-url (the checkout's)")
    cmd.add_argument("--git-host", metavar="HOST[:PORT]", help="the configured git host: --source-url must name it")
    cmd.add_argument("--history-limit", default=str(DEFAULT_LIMIT),
                     help="commits of each history fetched at most to order two commits (default %(default)s)")
    cmd.add_argument("--outputs", help="directory for DIR/result: run, or duplicate (the commit is built already)")
    cmd.add_argument("--namespace", help="namespace of the Workflows (default: the service account's)")
    cmd.add_argument("--service-account-dir", default=SERVICE_ACCOUNT_DIR,
                     help="mounted service account token, ca.crt and namespace")
    return top


def run(args: argparse.Namespace) -> str:
    if args.command == "checkout":
        return checkout(CheckoutRequest(args.repo_url, args.revision, args.dest, args.credentials_dir,
                                        args.git_host), log=_say)
    if args.command == "detect":
        return detect(DetectRequest(args.source, args.app_path, args.registry, args.outputs, args.prepare_dir,
                                    args.build_env), log=_say)
    if args.command == "digest":
        return digest(DigestRequest(args.report, args.outputs, args.image_repository))
    if args.command == "inputs":
        return inputs(InputsRequest(
            args.app, args.platform_env, args.image_repository, args.builder, args.outputs, tuple(args.binding),
            tuple(args.setting), tuple(args.run_image), args.language, tuple(args.lock or ["uv.lock"]), args.docker_config,
            tuple(args.insecure_registry), args.reuse == "true", args.default_tag), log=_say)
    if args.command == "tag":
        return tag(TagRequest(args.image, tuple(args.tag), args.report, args.docker_config,
                              tuple(args.insecure_registry)), log=_say)
    if args.command == "deploy":
        return deploy(DeployRequest(
            args.gitops_repo, args.gitops_branch, args.path, args.image_name, args.image,
            args.source_repo, args.source_sha, args.source_ref, args.source_url, args.credentials_dir,
            args.source_credentials_dir, args.git_host, args.history_limit, args.outputs), log=_say)
    if args.command == "supersede":
        return supersede(SupersedeRequest(
            args.lane, args.workflow, args.workflow_created, args.revision, args.ref, args.source_url,
            args.namespace, args.service_account_dir, args.source_credentials_dir, args.git_host,
            args.history_limit, args.outputs), log=_say)
    return set_status(StatusRequest(
        args.api_url, args.repo, args.sha, args.state, args.context, args.description,
        args.target_url, args.token_file, args.description_file, args.workflow_annotations), log=_say)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        result = run(args)
    except StepError as exc:
        print(PREFIX + "error: " + redact.scrub(exc.message), file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say what kind, never dump locals or arguments
        print(PREFIX + "internal error: %s: %s" % (type(exc).__name__, redact.scrub(str(exc))),
              file=sys.stderr, flush=True)
        return int(Exit.FAILED)
    print(PREFIX + redact.scrub(result), flush=True)
    return int(Exit.OK)
