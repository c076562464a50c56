"""Issue 30: the Kubernetes manifests (deploy/k8s) render with `kubectl kustomize`, every object
validates against the Kubernetes OpenAPI schemas (kubernetes-validate, offline), and each overlay
describes the shop that the Procfile and shop/settings.py describe: the same commands, only
variables the code reads, every variable production needs, probes on real views, one beat, /ws/
to daphne. The Procfile and the settings are read at test time, so a change to either that the
manifests do not follow fails here. shop/tests/test_k8s_pods.py runs the pods' processes.
"""
import re
import subprocess
from collections import Counter

import kubernetes_validate
import pytest
from django.urls import resolve

from shop.tests import kube
from shop.tests.kube import SecretRef

OVERLAY = pytest.mark.parametrize("overlay", kube.OVERLAYS)
REQUIRED_SECRETS = {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"}
OPTIONAL_SECRETS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}
# Provided before the code that reads them lands (none now: shop/settings.py reads the Stripe pair, issue 25).
ANNOUNCED: dict[str, str] = {}
# The setting that counts the proxies in front (SHOP_TRUSTED_PROXY_COUNT).
PROXY_COUNT_VARIABLE = re.compile(r"NUM_PROX|PROXY_COUNT|TRUSTED_PROX")


def host_of(objects) -> str:
    """The shop's host: SHOP_BASE_URL of the settings ConfigMap."""
    (settings_map,) = [config for name, config in kube.by_kind(objects, "ConfigMap").items()
                       if name.startswith("ishop-settings")]
    return re.fullmatch(r"https://([^/]+)", settings_map["data"]["SHOP_BASE_URL"]).group(1)


def test_kubernetes_validate_is_pinned_and_bundles_the_schemas_offline():
    from kubernetes_validate.utils import all_versions

    for pins in ("requirements-dev.txt", "constraints.txt"):
        text = (kube.ROOT / pins).read_text()
        assert re.search(rf"^kubernetes-validate=={re.escape(kubernetes_validate.__version__)}$", text, re.M), pins
    assert f"{kube.KUBERNETES_VERSION}.0" in all_versions()


@OVERLAY
def test_the_overlay_renders_and_every_object_validates(overlay):
    objects = kube.render(overlay)
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, kube.KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{overlay}: {obj['kind']}/{obj['metadata']['name']} at "
                        f"{'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            pytest.fail(f"{overlay}: {error.message}")
    kinds = Counter(obj["kind"] for obj in objects)
    assert set(kube.by_kind(objects, "Deployment")) >= set(kube.PROCESSES)
    assert set(kube.by_kind(objects, "Service")) >= {"web", "ws"}
    assert set(kube.by_kind(objects, "Ingress")) == {"web", "ws"}
    assert set(kube.by_kind(objects, "PodDisruptionBudget")) == {"web", "ws", "worker"}
    assert set(kube.by_kind(objects, "HorizontalPodAutoscaler")) == {"web", "worker"}
    assert kinds["Job"] == kinds["Namespace"] == kinds["ServiceAccount"] == 1 and kinds["NetworkPolicy"] >= 3
    (namespace,) = kube.by_kind(objects, "Namespace")
    assert {obj["metadata"].get("namespace") for obj in objects if obj["kind"] != "Namespace"} == {namespace}


@OVERLAY
def test_every_variable_the_containers_get_is_read_by_the_code(overlay):
    objects = kube.render(overlay)
    settings_reads, process_reads = kube.settings_env_reads(), kube.process_env_reads()
    environments = {}
    for container in kube.containers(objects):
        env = kube.container_env(objects, container)
        unread = {name for name in env if name not in settings_reads and name not in process_reads
                  and not (name in ANNOUNCED and isinstance(env[name], SecretRef) and env[name].optional)}
        assert not unread, (f"{overlay} {container.label} gets {sorted(unread)}, which neither shop/settings.py "
                            "nor the Procfile's processes read: rename them to what the code reads, or drop them")
        environments[container.label] = env
    # One Django environment: every container of the image gets the same variables.
    assert len({tuple(sorted(map(str, env.items()))) for env in environments.values()}) == 1, environments.keys()


@OVERLAY
def test_secrets_come_from_the_secret_by_key_and_nothing_secret_sits_in_the_config_map(overlay):
    objects = kube.render(overlay)
    env = kube.container_env(objects, kube.main_container(objects, "web"))
    secrets = {name: ref for name, ref in env.items() if isinstance(ref, SecretRef)}
    assert set(secrets) == REQUIRED_SECRETS | OPTIONAL_SECRETS
    assert {name for name, ref in secrets.items() if not ref.optional} == REQUIRED_SECRETS
    assert {ref.key for ref in secrets.values()} == set(secrets)
    for name, value in env.items():
        if isinstance(value, str):
            assert not re.search(r"SECRET|PASSWORD|TOKEN|_KEY($|_)", name), f"{name} belongs in the Secret"
            assert not re.search(r"://[^/@]*:[^/@]*@", value), f"{name} carries a password"
    # One Secret; dev generates it (and must give every required key), the others expect it made by hand.
    (secret,) = {ref.secret for ref in secrets.values()}
    rendered = kube.secret_values(objects)
    assert (secret in rendered) == (overlay == "dev")
    assert secret not in rendered or set(rendered[secret]) >= REQUIRED_SECRETS


@OVERLAY
def test_the_trusted_proxy_count_matches_the_one_ingress_hop(overlay):
    variables = sorted(name for name in kube.settings_env_reads() if PROXY_COUNT_VARIABLE.search(name))
    assert len(variables) == 1, f"which variable counts the trusted proxies? shop/settings.py reads {variables}"
    objects = kube.render(overlay)
    env = kube.container_env(objects, kube.main_container(objects, "web"))
    assert env.get(variables[0]) == "1", (
        f"{overlay}: set {variables[0]}=1 in deploy/k8s/base/settings.env (one proxy: the Ingress controller)")


@OVERLAY
def test_the_containers_run_the_procfile_commands(overlay):
    objects = kube.render(overlay)
    procfile = kube.procfile()
    assert set(procfile) == set(kube.PROCESSES)
    for process, command in procfile.items():
        container = kube.main_container(objects, process)
        env = kube.container_env(objects, container)
        words = kube.command_words(container, env)
        assert words == kube.expand_procfile(command, env), (process, words)
        assert not any("$(" in word for word in words), f"{process}: an unset variable in {words}"


@OVERLAY
def test_probes_point_at_real_views_with_headers_django_accepts(overlay):
    objects = kube.render(overlay)
    expected = {"startupProbe": "health", "livenessProbe": "health", "readinessProbe": "ready"}
    for process in ("web", "ws"):
        container = kube.main_container(objects, process)
        env = kube.container_env(objects, container)
        ports = {port["name"]: port["containerPort"] for port in container.spec["ports"]}
        for kind, view in expected.items():
            probe = container.spec[kind]["httpGet"]
            assert resolve(probe["path"]).url_name == view, (process, kind, probe["path"])
            assert probe["port"] in ports
            headers = {header["name"]: header["value"] for header in probe["httpHeaders"]}
            assert headers["Host"] in env["DJANGO_ALLOWED_HOSTS"].split(","), (process, kind)
            assert headers["X-Forwarded-Proto"] == "https"  # else SECURE_SSL_REDIRECT answers 301
        words = kube.command_words(container, env)
        listen = words[words.index("--bind" if process == "web" else "--endpoint") + 1]
        assert re.search(rf"(^|:){ports['http']}(:|$)", listen), (process, listen)  # serves the probed port
    worker = kube.main_container(objects, "worker")
    for kind in ("startupProbe", "livenessProbe"):
        script = worker.spec[kind]["exec"]["command"][-1]
        assert re.search(r'celery -A shop inspect ping --destination "celery@\$HOSTNAME"', script), script


@OVERLAY
def test_beat_is_one_scheduler(overlay):
    objects = kube.render(overlay)
    beat = kube.by_kind(objects, "Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = [hpa["spec"]["scaleTargetRef"]["name"] for hpa in kube.by_kind(objects, "HorizontalPodAutoscaler").values()]
    assert "beat" not in targets and "beat" not in kube.by_kind(objects, "PodDisruptionBudget")


def quantity(value: str) -> float:
    """A Kubernetes CPU or memory quantity as a number ("500m" -> 0.5, "1Gi" -> 2**30)."""
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "": 1}
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * units[unit]


def selects(selector: dict, labels: dict) -> bool:
    """A label selector (matchLabels and In/NotIn/Exists expressions) against a pod's labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        value, operator = labels.get(expression["key"]), expression["operator"]
        if operator == "In" and value not in expression["values"] or operator == "NotIn" and value in expression["values"] \
                or operator == "Exists" and value is None or operator == "DoesNotExist" and value is not None:
            return False
    return True


def pod_labels(deployment: dict) -> dict:
    return deployment["spec"]["template"]["metadata"]["labels"]


@OVERLAY
def test_the_ingress_sends_ws_to_daphne_and_the_rest_to_gunicorn(overlay):
    objects = kube.render(overlay)
    deployments, services = kube.by_kind(objects, "Deployment"), kube.by_kind(objects, "Service")
    host = host_of(objects)
    routes = {}
    for ingress in kube.by_kind(objects, "Ingress").values():
        assert [tls["hosts"] for tls in ingress["spec"]["tls"]] == [[host]]
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] == host
            for path in rule["http"]["paths"]:
                routes[path["path"]] = (ingress, path["pathType"], path["backend"]["service"])
    assert set(routes) == {"/", "/ws/"}
    procfile = kube.procfile()
    for path, process in (("/ws/", "ws"), ("/", "web")):
        ingress, path_type, backend = routes[path]
        assert path_type == "Prefix"
        service = services[backend["name"]]
        (port,) = [port for port in service["spec"]["ports"] if port["name"] == backend["port"]["name"]]
        (target,) = [name for name, deployment in deployments.items()
                     if selects({"matchLabels": service["spec"]["selector"]}, pod_labels(deployment))]
        container = kube.main_container(objects, target)
        assert port["targetPort"] in {p["name"] for p in container.spec["ports"]}
        assert kube.command_words(container, kube.container_env(objects, container))[0] \
            == procfile[process].split()[0] == ("daphne" if process == "ws" else "gunicorn")
        timeout = int(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"])
        assert timeout >= 3600 if process == "ws" else timeout <= 120, (path, timeout)


@OVERLAY
def test_pods_run_unprivileged_on_a_read_only_root_with_the_writable_paths_they_need(overlay):
    objects = kube.render(overlay)
    (namespace,) = kube.by_kind(objects, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    image = kube.app_image(objects)
    for obj in objects:
        if obj["kind"] not in kube.WORKLOAD_KINDS:
            continue
        pod = obj["spec"]["template"]["spec"]
        context = pod["securityContext"]
        assert context["runAsNonRoot"] and context["seccompProfile"] == {"type": "RuntimeDefault"}, obj["metadata"]
        assert pod["automountServiceAccountToken"] is False
        if any(container["image"] == image for container in pod["containers"]):
            assert context["runAsUser"] == kube.dockerfile_uid()
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] and security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            resources = container["resources"]
            assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}, container["name"]
            for kind in ("cpu", "memory"):  # the API server refuses a request above its limit
                assert quantity(resources["requests"][kind]) <= quantity(resources["limits"][kind]), container["name"]
    for container in kube.containers(objects):
        env = kube.container_env(objects, container)
        volumes = {volume["name"]: volume for volume in container.pod["volumes"]}
        writable = {mount["mountPath"] for mount in container.spec["volumeMounts"]
                    if "emptyDir" in volumes[mount["name"]] and not mount.get("readOnly")}
        needed = {"/tmp", env["PROMETHEUS_MULTIPROC_DIR"]}
        words = kube.command_words(container, env)
        if "--pidfile" in words:
            needed.add(words[words.index("--pidfile") + 1].rsplit("/", 1)[0])
        assert needed <= writable, (container.label, needed - writable)


@OVERLAY
def test_budgets_autoscalers_network_policies_and_scraping(overlay):
    objects = kube.render(overlay)
    deployments = kube.by_kind(objects, "Deployment")
    for name, budget in kube.by_kind(objects, "PodDisruptionBudget").items():
        assert selects(budget["spec"]["selector"], pod_labels(deployments[name])) and budget["spec"]["maxUnavailable"] == 1
    for name, autoscaler in kube.by_kind(objects, "HorizontalPodAutoscaler").items():
        assert autoscaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
        assert "replicas" not in deployments[name]["spec"], f"{name}: the autoscaler owns the replica count"
    # Who may open a connection to each process's pods: (namespace, port name) pairs.
    policies = kube.by_kind(objects, "NetworkPolicy").values()
    expected = {"web": {("ingress-nginx", "http"), ("monitoring", "metrics")},
                "ws": {("ingress-nginx", "http"), ("monitoring", "metrics")},
                "worker": {("monitoring", "metrics")}, "beat": set()}
    for process, allowed in expected.items():
        labels = pod_labels(deployments[process])
        applying = [policy for policy in policies if selects(policy["spec"]["podSelector"], labels)]
        assert applying and all(policy["spec"]["policyTypes"] == ["Ingress"] for policy in applying)
        found = {(peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], port["port"])
                 for policy in applying for rule in policy["spec"].get("ingress", [])
                 for peer in rule["from"] for port in rule["ports"]}
        assert found == allowed, (process, found)
        annotations = deployments[process]["spec"]["template"]["metadata"].get("annotations", {})
        if process != "beat":
            metrics = next(c for c in deployments[process]["spec"]["template"]["spec"]["containers"] if c["name"] == "metrics")
            assert metrics["command"][-3:-1] == ["serve_metrics", "--port"]
            assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
            assert annotations["prometheus.io/port"] == metrics["command"][-1] == str(metrics["ports"][0]["containerPort"])


@OVERLAY
def test_migrations_run_before_the_new_pods_start(overlay):
    objects = kube.render(overlay)
    job = kube.by_kind(objects, "Job")["migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] >= 1
    for name in kube.PROCESSES:
        (init,) = kube.by_kind(objects, "Deployment")[name]["spec"]["template"]["spec"]["initContainers"]
        assert re.fullmatch(r"until python manage.py migrate --check[^;]*; do .*; done", init["command"][-1]), name


@OVERLAY
def test_a_stopping_worker_may_finish_its_longest_task(overlay):
    objects = kube.render(overlay)
    env = kube.container_env(objects, kube.main_container(objects, "worker"))
    limit = kube.production_settings(overlay)[0]["CELERY_TASK_TIME_LIMIT"]
    assert env.get("CELERY_TASK_TIME_LIMIT", str(limit)) == str(limit)
    grace = kube.by_kind(objects, "Deployment")["worker"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert limit < grace <= limit + 120


@OVERLAY
def test_the_settings_come_out_production_grade(overlay):
    """shop/settings.py loaded with the overlay's environment (secrets as placeholders): every
    variable production needs is there, and `check --deploy` finds nothing to warn about."""
    objects = kube.render(overlay)
    facts, run = kube.production_settings(overlay)
    host = host_of(objects)
    assert facts["DEBUG"] is False
    assert facts["DATABASES"]["default"]["ENGINE"].endswith("postgresql")
    assert facts["CACHES"]["default"]["BACKEND"] == "shop.cache.DegradingRedisCache"
    assert facts["CHANNEL_LAYERS"]["default"]["BACKEND"].startswith("channels_redis.")
    assert facts["CELERY_TASK_ALWAYS_EAGER"] is False and facts["CELERY_BROKER_URL"].startswith("redis://")
    assert facts["STORAGES"]["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert facts["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert facts["SERVE_MEDIA"] is False
    assert host in facts["ALLOWED_HOSTS"] and f"https://{host}" in facts["CSRF_TRUSTED_ORIGINS"]
    assert facts["SHOP_BASE_URL"] == f"https://{host}"
    assert facts["SECURE_SSL_REDIRECT"] and facts["SESSION_COOKIE_SECURE"] and facts["SECURE_HSTS_SECONDS"] > 0
    assert facts["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert facts["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend" or overlay == "dev"
    assert facts["METRICS_ALLOWED_IPS"] == ["127.0.0.1", "::1"]  # /metrics through the Ingress: 403
    # The Ingress lets through every body Django would take, so Django's own 413 speaks for larger ones.
    body = kube.by_kind(objects, "Ingress")["web"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
    assert quantity(body.upper().replace("M", "Mi")) >= facts["SHOP_MAX_REQUEST_BYTES"]
    assert run.returncode == 0 and "System check identified no issues" in run.stdout, run.stderr


def test_the_overlays_differ_in_replicas_resources_hosts_and_images():
    seen = {}
    for overlay in kube.OVERLAYS:
        objects = kube.render(overlay)
        deployments = kube.by_kind(objects, "Deployment")
        autoscalers = kube.by_kind(objects, "HorizontalPodAutoscaler")
        seen[overlay] = {
            "host": host_of(objects),
            "image": kube.app_image(objects),
            "replicas": (deployments["ws"]["spec"]["replicas"], autoscalers["web"]["spec"]["minReplicas"],
                         autoscalers["web"]["spec"]["maxReplicas"], autoscalers["worker"]["spec"]["maxReplicas"]),
            "resources": str(kube.main_container(objects, "web").spec["resources"]),
        }
    for field in ("host", "image", "replicas", "resources"):
        values = [facts[field] for facts in seen.values()]
        assert len(set(values)) == len(values), (field, seen)
    assert not seen["prod"]["image"].endswith((":latest", ":dev")) and ":" in seen["prod"]["image"]


def test_make_k8s_prints_the_rendered_prod_overlay():
    result = subprocess.run(["make", "-s", "k8s"], cwd=kube.ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == kube.rendered_text("prod")


def test_serve_metrics_refuses_to_run_without_the_pods_shared_folder(monkeypatch):
    from django.core.management import CommandError, call_command

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.raises(CommandError, match="PROMETHEUS_MULTIPROC_DIR is not set"):
        call_command("serve_metrics", "--port", "0")
