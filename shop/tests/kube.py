"""Reading the Kubernetes manifests (deploy/k8s) the way the cluster would, for the tests.

- `render(overlay)`: `kubectl kustomize deploy/k8s/overlays/<overlay>` as a list of objects.
- `containers(objects)`: every container of the shop's image, with its pod and workload.
- `container_env(objects, container)`: what the kubelet gives the container: its envFrom
  ConfigMaps, then its env (values, or `SecretRef` for secretKeyRef).
- `expand_k8s` / `expand_procfile`: a container's command after the kubelet's $(VAR) expansion,
  and a Procfile command after the shell's ${VAR:-default} expansion, both as word lists.
- `settings_env_reads()` / `process_env_reads()`: the environment variables shop/settings.py
  reads (django-environ's env(...), env.bool(...), ... and os.environ), and those the processes
  read outside the settings (the Procfile's ${...}, the gunicorn config it names, os.environ in
  the shop package), parsed from the source at test time.
"""
import ast
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(path.name for path in (K8S / "overlays").iterdir() if (path / "kustomization.yaml").is_file())
PROCESSES = ("web", "ws", "worker", "beat")
# The oldest Kubernetes minor still supported upstream on 2026-12 (1.35 until 2027-02): the
# rendered objects must validate against its OpenAPI schemas (kubernetes-validate bundles them).
KUBERNETES_VERSION = "1.35"
KUBECTL_MIN_MINOR = 27  # kustomize v5 (components, replacements with options)
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}


@dataclass(frozen=True)
class SecretRef:
    """An env var from a Secret's key (secretKeyRef)."""
    secret: str
    key: str
    optional: bool


@dataclass(frozen=True)
class Container:
    """One container of a workload's pod template; `init` for init containers."""
    workload: dict
    spec: dict
    init: bool

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def pod(self) -> dict:
        return self.workload["spec"]["template"]["spec"]

    @property
    def label(self) -> str:
        return f"{self.workload['kind']}/{self.workload['metadata']['name']}:{self.name}"


def kubectl() -> str:
    """The kubectl binary (v1.27+), or a failed test saying how to get it: CI must not go green
    without rendering the manifests."""
    path = shutil.which("kubectl")
    if not path:
        pytest.fail("kubectl is missing: deploy/k8s is rendered with kubectl's built-in kustomize "
                    "(kubectl v1.27 or newer on PATH; CI's machine has it at /usr/bin/kubectl)")
    version = json.loads(subprocess.run([path, "version", "--client", "-o", "json"], check=True,
                                        capture_output=True, text=True).stdout)["clientVersion"]
    minor = int(re.match(r"\d+", version["minor"]).group())
    if minor < KUBECTL_MIN_MINOR:
        pytest.fail(f"kubectl {version['gitVersion']} is too old for deploy/k8s: v1.{KUBECTL_MIN_MINOR}+ needed")
    return path


@functools.cache
def rendered_text(overlay: str) -> str:
    result = subprocess.run([kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return result.stdout


def render(overlay: str) -> list[dict]:
    """The overlay's objects, as `kubectl apply -k` would send them."""
    return [doc for doc in yaml.safe_load_all(rendered_text(overlay)) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def app_image(objects: list[dict]) -> str:
    """The shop's image: the one the migrate Job runs."""
    return by_kind(objects, "Job")["migrate"]["spec"]["template"]["spec"]["containers"][0]["image"]


def containers(objects: list[dict], *, include_init: bool = True) -> list[Container]:
    """Every container (and init container) of the shop's image in the workloads."""
    image = app_image(objects)
    found = []
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        pod = obj["spec"]["template"]["spec"]
        for init, key in ((False, "containers"), (True, "initContainers")):
            if init and not include_init:
                continue
            found += [Container(obj, spec, init) for spec in pod.get(key, []) if spec["image"] == image]
    return found


def main_container(objects: list[dict], process: str) -> Container:
    """The container named after the process in the Deployment of that name."""
    deployment = by_kind(objects, "Deployment")[process]
    spec = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == process)
    return Container(deployment, spec, False)


def container_env(objects: list[dict], container: Container) -> dict[str, str | SecretRef]:
    """{name: value or SecretRef} as the kubelet builds it: envFrom sources in order, then env."""
    config_maps = by_kind(objects, "ConfigMap")
    env: dict[str, str | SecretRef] = {}
    for source in container.spec.get("envFrom", []):
        assert set(source) <= {"configMapRef", "secretRef", "prefix"}, source
        if "configMapRef" in source:
            name = source["configMapRef"]["name"]
            assert name in config_maps, f"{container.label}: envFrom names a ConfigMap {name} that is not rendered"
            env.update(config_maps[name].get("data", {}))
        else:
            raise AssertionError(f"{container.label}: secrets are referenced one key at a time, not envFrom")
    for var in container.spec.get("env", []):
        if "value" in var:
            env[var["name"]] = expand_k8s(var["value"], env)
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = SecretRef(ref["name"], ref["key"], ref.get("optional", False))
        else:
            raise AssertionError(f"{container.label}: env {var['name']} has a source this test does not read")
    return env


def expand_k8s(text: str, env: dict) -> str:
    """The kubelet's expansion of $(VAR) in command, args and env values: a defined variable's
    value; an undefined one stays as written; $$ is a literal $."""
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        value = env.get(match.group(1))
        return value if isinstance(value, str) else match.group(0)

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", replace, text)


def command_words(container: Container, env: dict) -> list[str]:
    """The container's command and args after the kubelet's expansion."""
    return [expand_k8s(word, env) for word in container.spec.get("command", []) + container.spec.get("args", [])]


# --- The Procfile --------------------------------------------------------------------------------

PROCFILE_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def procfile() -> dict[str, str]:
    """{process: command} of the Procfile as it is now (comments and blank lines skipped)."""
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = command.strip()
    return commands


def expand_procfile(command: str, env: dict) -> list[str]:
    """The Procfile command's words after the shell's expansion of ${VAR:-default}, ${VAR} and
    $VAR with `env` (string values only)."""
    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        value = env.get(name)
        if isinstance(value, str) and (value or match.group(2) is None):
            return value
        return match.group(2) or ""

    return shlex.split(PROCFILE_VARIABLE.sub(replace, command))


# --- Who reads which environment variable ---------------------------------------------------------

def _env_reads(tree: ast.AST, *, environ_names: set[str]) -> set[str]:
    """Names read by calls to `env(...)`/`env.<cast>(...)` (django-environ), `os.environ.get(...)`,
    `os.getenv(...)` and `os.environ[...]` with a literal first argument."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            function = ast.unparse(node.func)
            if function.split(".")[0] in environ_names and function.count(".") <= 1 \
                    or function in ("os.environ.get", "os.getenv", "os.environ.setdefault"):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
                and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def settings_env_reads() -> set[str]:
    """Every environment variable shop/settings.py reads."""
    source = (ROOT / "shop" / "settings.py").read_text()
    tree = ast.parse(source)
    # The names bound to environ.Env() (`env = environ.Env()`).
    readers = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
               and isinstance(node.value, ast.Call) and ast.unparse(node.value.func).endswith("Env")
               for target in node.targets if isinstance(target, ast.Name)}
    return _env_reads(tree, environ_names=readers)


def process_env_reads() -> dict[str, str]:
    """{variable: who reads it} outside the settings: the Procfile's ${...}, the gunicorn config
    file the Procfile names, and os.environ reads in the shop package (PROMETHEUS_MULTIPROC_DIR)."""
    readers: dict[str, str] = {}
    for name, command in procfile().items():
        for match in PROCFILE_VARIABLE.finditer(command):
            readers[match.group(1) or match.group(3)] = f"the Procfile's {name}"
        words = shlex.split(command)
        if "--config" in words:
            config = ROOT / words[words.index("--config") + 1]
            for variable in _env_reads(ast.parse(config.read_text()), environ_names=set()):
                readers.setdefault(variable, str(config.relative_to(ROOT)))
    for module in sorted((ROOT / "shop").glob("*.py")):
        if module.name != "settings.py":
            for variable in _env_reads(ast.parse(module.read_text()), environ_names=set()):
                readers.setdefault(variable, str(module.relative_to(ROOT)))
    return readers


def dockerfile_uid() -> int:
    """The uid the Dockerfile gives the image's user (useradd --uid N)."""
    match = re.search(r"useradd[^\n]*--uid (\d+)", (ROOT / "Dockerfile").read_text())
    assert match, "the Dockerfile's useradd names no --uid: Kubernetes' runAsUser needs a number"
    return int(match.group(1))


# --- Running the image's commands here with an overlay's environment -----------------------------

# What a filled-in ishop-secrets holds, for overlays whose Secret is made outside the manifests
# (README "Kubernetes"). Nothing connects to these hosts: tests that start processes override
# DATABASE_URL and REDIS_URL with the test database and Redis.
PLACEHOLDER_SECRETS = {
    "DJANGO_SECRET_KEY": "k8s-test-placeholder-secret-key-0123456789abcdefghij",
    "DATABASE_URL": "postgres://ishop:placeholder@postgres.internal:5432/ishop",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://shop:placeholder@smtp.example.com:587",
    "AWS_ACCESS_KEY_ID": "AKIAPLACEHOLDER",
    "AWS_SECRET_ACCESS_KEY": "placeholder",
    "STRIPE_SECRET_KEY": "sk_test_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
}


def image_env() -> dict[str, str]:
    """The ENV of the Dockerfile's `app` stage (what every container starts with)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stage = re.search(r"^FROM \S+ AS app$(.*?)(?=^FROM |\Z)", text, re.M | re.S).group(1)
    env = {}
    for line in re.findall(r"^ENV (.+)$", stage, re.M):
        env.update(pair.split("=", 1) for pair in shlex.split(line))
    return env


def secret_values(objects: list[dict]) -> dict[str, dict[str, str]]:
    """{secret name: {key: value}} of the Secrets the overlay renders (dev generates its own)."""
    import base64

    return {name: {key: base64.b64decode(value).decode() for key, value in secret.get("data", {}).items()}
            for name, secret in by_kind(objects, "Secret").items()}


def process_env(objects: list[dict], container: Container, **overrides: str) -> dict[str, str]:
    """The environment `container` runs with: the image's ENV, then the kubelet's variables, each
    secretKeyRef filled from the rendered Secret or PLACEHOLDER_SECRETS (an optional key that has
    neither is left out, as the kubelet does), then `overrides` (local addresses and sizes)."""
    rendered = secret_values(objects)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
           "HOME": str(ROOT), "LANG": "C.UTF-8", **image_env()}
    for name, value in container_env(objects, container).items():
        if isinstance(value, SecretRef):
            value = rendered[value.secret].get(value.key) if value.secret in rendered \
                else PLACEHOLDER_SECRETS.get(value.key)
            if value is None:
                continue
        env[name] = value
    env.update(overrides)
    return env


def run_with_overlay_env(overlay: str, command: list[str], process: str = "web") -> subprocess.CompletedProcess:
    """`command` with the environment of the overlay's `process` container (metrics samples in a
    temporary folder instead of the pod's /run/prometheus)."""
    objects = render(overlay)
    with tempfile.TemporaryDirectory() as prometheus:
        env = process_env(objects, main_container(objects, process), PROMETHEUS_MULTIPROC_DIR=prometheus)
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


# One Django start per overlay: the settings as `diffsettings --all` prints them, then `check --deploy`.
SETTINGS_AND_DEPLOY_CHECK = ("from django.core.management import call_command; "
                             "call_command('diffsettings', all=True); "
                             "call_command('check', deploy=True, fail_level='WARNING')")


@functools.cache
def production_settings(overlay: str) -> tuple[dict, subprocess.CompletedProcess]:
    """The settings shop/settings.py computes from the overlay's web environment ({name: value}
    for the values that are Python literals), and the finished run, whose return code is that of
    `manage.py check --deploy --fail-level WARNING`."""
    result = run_with_overlay_env(overlay, ["python", "manage.py", "shell", "-c", SETTINGS_AND_DEPLOY_CHECK])
    assert "DEBUG = " in result.stdout, f"the settings do not load with the {overlay} environment:\n{result.stderr}"
    facts = {}
    for line in result.stdout.splitlines():
        match = re.fullmatch(r"(?:### )?([A-Z][A-Z0-9_]*) = (.*?)(?:  ###)?", line)
        if match:
            try:
                facts[match.group(1)] = ast.literal_eval(match.group(2))
            except (ValueError, SyntaxError):
                pass  # not a literal (paths, timedeltas): not needed here
    return facts, result
