"""Static checks of deploy/: what breaks a deployment that no Docker engine or cluster runs here.

Every YAML and JSON file parses; images are pinned; env names, ports, topics (Faust's internal ones
included), consumer groups and metric names match the code (the settings object, the app ids, the
Faust app, the metrics registry); every worker that serves a model has one (a checkpoint or the
starter model), batch sizes are set per device, torch threads match the CPU limits, and workers
may reach only DNS, the Kafka brokers and (describe, which fetches images) public addresses on 80/443.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = ("cpu", "gpu")
STAGES = ("describe", "features", "classify")
MODEL_STAGES = {"features", "classify"}  # they refuse to start without a trained model
BATCH_ENV = re.compile(r"^ADSENT_[A-Z]+_MAX_BATCH(_GPU)?$")
FIELDS = {f"ADSENT_{name.upper()}" for name in Settings.model_fields}
TEST_PASSWORD = "not-a-real-password"


# ---- loading ---------------------------------------------------------------------------------------

def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_docs(directory: Path = BASE) -> list[dict]:
    docs = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(load_all(path))
    return docs


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc.get("kind") == kind]


def compose() -> dict:
    return yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())


def worker_services(spec: dict) -> dict[str, dict]:
    return {name: svc for name, svc in spec["services"].items() if name.startswith("worker-")}


def stages_of(command: list[str]) -> list[str]:
    assert command[:2] == ["worker", "--stages"], command
    return command[2].split(",")


def configmap() -> dict[str, str]:
    (cm,) = of_kind(k8s_docs(), "ConfigMap")
    return cm["data"]


def secrets() -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(k8s_docs(), "Secret")}


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Settings a worker with exactly this environment would build (validation included)."""
    for name in list(FIELDS):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def k8s_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    env = dict(configmap())
    env.update(secrets()["adsent-kafka"]["stringData"])
    env["ADSENT_KAFKA_SASL_PASSWORD"] = TEST_PASSWORD  # the committed one is empty on purpose
    return settings_from(env, monkeypatch)


def compose_worker_settings(monkeypatch: pytest.MonkeyPatch, service: str = "worker-describe") -> Settings:
    env = {k: str(v) for k, v in worker_services(compose())[service]["environment"].items()}
    return settings_from(env, monkeypatch)


def container_env(container: dict) -> dict[str, str]:
    return {env["name"]: env["value"] for env in container.get("env", [])}


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity ('2', '1.5', '500m') in cores."""
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def checkpoint_image_dir() -> str:
    """Where Dockerfile.checkpoint puts the checkpoint (its COPY target, which its ENV points at)."""
    text = (DEPLOY / "docker" / "Dockerfile.checkpoint").read_text()
    (target,) = re.findall(r"^COPY (?:--\S+ )*\. (\S+)$", text, flags=re.M)
    (env,) = re.findall(r"^ENV ADSENT_CHECKPOINT_DIR=(\S+)$", text, flags=re.M)
    assert env == target, (env, target)
    return target


def faust_internal_topics(settings: Settings, stages: list[str]) -> dict[str, tuple[int, bool]]:
    """Topics the Faust app of a worker with these stages creates itself: name -> (partitions, compacted).

    Built from the real app (no broker is contacted): the assignor's leader topic and each table's
    changelog. Workers run with ADSENT_KAFKA_CREATE_TOPICS=false and no Create ACL, so the
    deployment must create these.
    """
    from streams.service.app import create_app
    from streams.service.health import Health
    from streams.service.metrics import Metrics

    metrics = Metrics()
    offline = settings.model_copy(update={"kafka_security_protocol": "PLAINTEXT", "kafka_ssl_cafile": None})  # no CA here
    app = create_app(offline, {stage: object() for stage in stages}, metrics, Health(metrics))
    topics = {app._leader_assignor._leader_topic_name: (1, False)}
    for table in app.tables.values():
        changelog = table.changelog_topic
        topics[changelog.get_topic_name()] = (changelog.partitions, bool(changelog.compacting))
    return topics


def rendered_overlay(name: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    kustomize = shutil.which("kustomize")
    if kubectl:
        command = [kubectl, "kustomize", str(K8S / "overlays" / name)]
    elif kustomize:
        command = [kustomize, "build", str(K8S / "overlays" / name)]
    else:
        pytest.skip("neither kubectl nor kustomize is installed")
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def exported_metric_names() -> set[str]:
    """Every sample name a worker's /metrics can expose."""
    from streams.service.metrics import Metrics

    suffixes = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count"), "info": ("_info",)}
    names = set()
    for family in Metrics().registry.collect():
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def promql_metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\badsent_[a-z0-9_]+", expr))


def image_is_pinned(image: str) -> bool:
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    tag = last.split(":", 1)[1]
    return bool(tag) and tag != "latest" and "$" not in tag and (not digest or digest.startswith("sha256:"))


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


# ---- every file parses -------------------------------------------------------------------------

@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_yaml_parses(path: Path) -> None:
    assert load_all(path), f"{path} is empty"


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.json")), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_json_parses(path: Path) -> None:
    assert json.loads(path.read_text())


def test_expected_files_exist() -> None:
    for relative in ("README.md", "docker/Dockerfile.cpu", "docker/Dockerfile.cuda", "docker/Dockerfile.cpu.dockerignore",
                     "docker/Dockerfile.cuda.dockerignore", "compose/compose.yaml", "prometheus/prometheus.yml",
                     "prometheus/rules/adsent.rules.yml", "grafana/dashboards/adsent.json",
                     "k8s/base/kustomization.yaml", "k8s/overlays/cpu/kustomization.yaml",
                     "k8s/overlays/gpu/kustomization.yaml"):
        assert (DEPLOY / relative).is_file(), relative


# ---- images ------------------------------------------------------------------------------------------

def dockerfile_bases(path: Path) -> list[str]:
    text = path.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, flags=re.M))
    bases = []
    for image in re.findall(r"^FROM (\S+)", text, flags=re.M):
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image)
        bases.append(image)
    return bases


@pytest.mark.parametrize("name", ["Dockerfile.cpu", "Dockerfile.cuda"])
def test_dockerfile_is_production_ready(name: str) -> None:
    path = DEPLOY / "docker" / name
    text = path.read_text()
    stage_names = set(re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.M))
    bases = [b for b in dockerfile_bases(path) if b not in stage_names]
    assert len(re.findall(r"^FROM ", text, flags=re.M)) >= 2, "multi-stage build expected"
    assert bases and all(image_is_pinned(b) for b in bases), bases
    users = re.findall(r"^USER (\S+)", text, flags=re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the runtime must not run as root"
    assert re.search(r"^HEALTHCHECK .*\n?.*/readyz", text, flags=re.M), "health check on /readyz expected"
    assert "tesseract-ocr" in text and "tesseract-ocr-eng" in text
    assert "requirements-nodeps.txt" in text and "constraints.txt" in text
    for env_name in re.findall(r"\b(ADSENT_[A-Z0-9_]+)=", text):
        assert env_name in FIELDS, f"{name}: {env_name} is not a setting"
    assert "ADSENT_METRICS_HOST=0.0.0.0" in text, "the metrics server must listen beyond loopback in a container"


@pytest.mark.parametrize("name", ["Dockerfile.cpu", "Dockerfile.cuda"])
def test_dockerignore_sends_what_the_build_copies(name: str) -> None:
    ignore = (DEPLOY / "docker" / f"{name}.dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore, "allow-list expected: ignore everything, then re-include"
    copied = re.findall(r"^COPY (?!--from)(.+?) \S+$", (DEPLOY / "docker" / name).read_text(), flags=re.M)
    sources = {src for line in copied for src in line.split()}
    assert sources <= allowed, sources - allowed
    for never in (".venv", ".git", ".adsent"):
        assert never not in allowed


def test_every_image_is_pinned() -> None:
    images = []
    for path in yaml_files():
        for doc in load_all(path):
            images.extend(value for key, value in walk(doc) if key == "image" and isinstance(value, str))
    assert images
    assert [image for image in images if not image_is_pinned(image)] == []
    for kustomization in K8S.rglob("kustomization.yaml"):
        for entry in yaml.safe_load(kustomization.read_text()).get("images", []):
            assert entry.get("newTag") and entry["newTag"] != "latest" or entry.get("digest"), entry


# ---- Compose -------------------------------------------------------------------------------------

def test_compose_runs_kafka_in_kraft_mode() -> None:
    kafka = compose()["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"] and env["CLUSTER_ID"]
    assert int(env["KAFKA_MESSAGE_MAX_BYTES"]) >= Settings().kafka_max_message_bytes
    assert "healthcheck" in kafka


def test_compose_has_one_worker_per_stage_in_each_profile() -> None:
    services = worker_services(compose())
    for profile in ("cpu", "gpu"):
        active = [svc for svc in services.values() if not svc.get("profiles") or profile in svc["profiles"]]
        stages = sorted(stage for svc in active for stage in stages_of(svc["command"]))
        assert stages == sorted(STAGES), (profile, stages)


def test_compose_gpu_workers_reserve_a_gpu() -> None:
    gpu = {name: svc for name, svc in worker_services(compose()).items() if "gpu" in svc.get("profiles", [])}
    assert gpu
    for name, svc in gpu.items():
        devices = svc["deploy"]["resources"]["reservations"]["devices"]
        assert any("gpu" in d["capabilities"] for d in devices), name
        assert "cuda" in svc["image"] and svc["environment"]["ADSENT_DEVICE"] == "cuda", name
        assert svc["build"]["dockerfile"] == "deploy/docker/Dockerfile.cuda"


def test_compose_worker_env_names_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, svc in worker_services(compose()).items():
        env = svc["environment"]
        assert set(env) <= FIELDS, (name, set(env) - FIELDS)
        settings = compose_worker_settings(monkeypatch, name)
        assert settings.metrics_host == "0.0.0.0"
        assert not settings.uses_embedded_broker, f"{name} would start an embedded broker"
        assert settings.kafka_create_topics is False, f"{name}: kafka-init-topics creates the topics"
        assert settings.torch_threads == svc["cpus"], f"{name}: torch threads must match its cpus"
        gpu = "gpu" in svc.get("profiles", [])
        batch = {key for key in env if BATCH_ENV.match(key)}
        assert all(key.endswith("_GPU") == gpu for key in batch), (name, batch, "batch sizes of the other device")
        assert (DEPLOY / "docker" / Path(svc["build"]["dockerfile"]).name).is_file()
    override = yaml.safe_load((COMPOSE_DIR / "compose.checkpoint.yaml").read_text())
    for name, svc in override["services"].items():
        assert name in compose()["services"]
        assert set(svc.get("environment", {})) <= FIELDS


def test_compose_topic_init_creates_every_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = compose_worker_settings(monkeypatch)
    init = compose()["services"]["kafka-init-topics"]
    script = "\n".join(init["command"])
    created = {topic: int(n) for topic, n in re.findall(r"^\s*create (\S+) (\d+)", script, flags=re.M)}
    assert {t: created.get(t) for t in settings.topic_partitions()} == settings.topic_partitions()
    assert created.get(f"{settings.kafka_consumer_group}-classify-emitted-changelog") == settings.partitions_features
    assert f"max.message.bytes={settings.kafka_max_message_bytes}" in script
    compacted = set(re.findall(r"^\s*create (\S+) \d+ .*cleanup\.policy=compact", script, flags=re.M))
    for name, svc in worker_services(compose()).items():
        for topic, (partitions, compact) in faust_internal_topics(settings, stages_of(svc["command"])).items():
            assert created.get(topic) == partitions, f"{name} needs {topic}"
            assert (topic in compacted) == compact, topic
    for name, svc in worker_services(compose()).items():
        assert svc["depends_on"]["kafka-init-topics"]["condition"] == "service_completed_successfully", name


def named_mounts(svc: dict) -> dict[str, str]:
    """target -> named volume of a Compose service's short-syntax volume mounts."""
    mounts = {}
    for volume in svc.get("volumes", []):
        if isinstance(volume, str) and not volume.startswith((".", "/")):
            source, target = volume.split(":")[:2]
            mounts[target] = source
    return mounts


def test_compose_model_workers_serve_the_starter_model(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = compose()
    starter = spec["services"]["train-starter"]
    assert starter["command"] == ["train", "--starter"]
    assert starter["image"] == spec["services"]["worker-describe"]["image"], "the same worker image"
    assert set(starter["environment"]) <= FIELDS
    starter_settings = settings_from({k: str(v) for k, v in starter["environment"].items()}, monkeypatch)
    volume = named_mounts(starter)[str(starter_settings.state_dir)]
    assert volume in spec["volumes"], "a named volume keeps the starter model across restarts"
    served = 0
    for name, svc in worker_services(spec).items():
        if not MODEL_STAGES & set(stages_of(svc["command"])):
            continue
        settings = compose_worker_settings(monkeypatch, name)
        assert settings.checkpoint_dir is None, f"{name}: the checkpoint comes from compose.checkpoint.yaml"
        assert named_mounts(svc).get(str(settings.state_dir)) == volume, f"{name} does not see the starter model"
        assert settings.starter_model_dir == starter_settings.starter_model_dir
        assert svc["depends_on"]["train-starter"]["condition"] == "service_completed_successfully", name
        served += 1
    assert served == 4, "features and classify, CPU and GPU"


def test_compose_checkpoint_override_replaces_the_starter(monkeypatch: pytest.MonkeyPatch) -> None:
    override = yaml.safe_load((COMPOSE_DIR / "compose.checkpoint.yaml").read_text())["services"]
    for name, svc in worker_services(compose()).items():
        if not MODEL_STAGES & set(stages_of(svc["command"])):
            continue
        target = override[name]["environment"]["ADSENT_CHECKPOINT_DIR"]
        assert any(v["target"] == target and v["read_only"] for v in override[name]["volumes"]), name
    starter = override["train-starter"]
    assert "adsent" not in " ".join(starter["entrypoint"]), "with a checkpoint the starter job must not train"


def test_nothing_deploys_an_untrained_model() -> None:
    for path in sorted(p for p in DEPLOY.rglob("*") if p.is_file() and p.suffix != ".md"):
        assert "ALLOW_UNTRAINED_MODEL" not in path.read_text(), f"{path} serves untrained heads"


def test_gpu_overlay_sets_gpu_batch_sizes_only() -> None:
    patches = load_all(K8S / "overlays" / "gpu" / "gpu-workers.yaml")
    names = set()
    for patch in patches:
        for container in patch["spec"]["template"]["spec"]["containers"]:
            names |= {key for key in container_env(container) if BATCH_ENV.match(key)}
    assert names and all(name.endswith("_GPU") for name in names), names
    assert names <= FIELDS


def test_compose_network_volumes_and_ports() -> None:
    spec = compose()
    for name, svc in spec["services"].items():
        assert svc.get("networks") == ["adsent"], name
        for port in svc.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this host"
    assert {"kafka-data", "prometheus-data", "grafana-data", "adsent-state"} <= set(spec["volumes"])
    mounts = {name: [str(v) for v in svc.get("volumes", [])] for name, svc in spec["services"].items()}
    assert any("kafka-data:" in v for v in mounts["kafka"])
    assert any("prometheus-data:" in v for v in mounts["prometheus"])
    assert any("grafana-data:" in v for v in mounts["grafana"])
    for source in (v.split(":")[0] for svc in ("prometheus", "grafana") for v in mounts[svc]):
        if source.startswith("."):
            assert (COMPOSE_DIR / source).exists(), source


def test_compose_prometheus_scrapes_every_worker_on_the_metrics_port(monkeypatch: pytest.MonkeyPatch) -> None:
    port = compose_worker_settings(monkeypatch).metrics_port
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    scraped: set[str] = set()
    for job in config["scrape_configs"]:
        if not job["job_name"].startswith("adsent"):
            continue
        assert job.get("metrics_path", "/metrics") == "/metrics"
        for sd in job["dns_sd_configs"]:
            assert sd["port"] == port
            scraped.update(sd["names"])
    assert scraped == set(worker_services(compose())), "every worker service, and only those"


# ---- Kubernetes ------------------------------------------------------------------------------------

def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((BASE / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


def test_configmap_and_secret_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(configmap()) <= FIELDS, set(configmap()) - FIELDS
    worker_secret = secrets()["adsent-kafka"]["stringData"]
    assert set(worker_secret) <= FIELDS
    assert worker_secret["ADSENT_KAFKA_SASL_PASSWORD"] == "", "no password may be committed"
    settings = k8s_settings(monkeypatch)
    assert settings.kafka_security_protocol == "SASL_SSL" and settings.metrics_host == "0.0.0.0"
    assert not settings.uses_embedded_broker
    assert settings.kafka_create_topics is False, "Strimzi manages the topics: workers need no Create ACL"
    assert not {key for key in configmap() if BATCH_ENV.match(key)}, "batch sizes are per device: set them per Deployment"


def check_deployment(deployment: dict, port: int) -> None:
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert "replicas" not in deployment["spec"], f"{name}: KEDA owns replicas"
    assert pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert image_is_pinned(container["image"]), container["image"]
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == port
        probes = {probe: container[probe]["httpGet"] for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
        assert probes["readinessProbe"]["path"] == "/readyz" and probes["livenessProbe"]["path"] == "/healthz"
        # /healthz is live while models load: the startup probe only waits for the server to listen
        # (a /readyz startup probe would kill a slow model load).
        assert probes["startupProbe"]["path"] == "/healthz"
        assert all(p["port"] in ("metrics", port) for p in probes.values())
        env = container_env(container)
        assert set(env) <= FIELDS, (name, set(env) - FIELDS)
        stages = stages_of(container["args"])
        assert stages == [name.removeprefix("adsent-")]
        assert int(env["ADSENT_TORCH_THREADS"]) == cpu_cores(container["resources"]["limits"]["cpu"]), \
            f"{name}: torch threads must match the CPU limit"
        if MODEL_STAGES & set(stages):
            assert env.get("ADSENT_CHECKPOINT_DIR") == checkpoint_image_dir(), f"{name} has no model source"
            assert container["image"].split("@")[0].rsplit(":", 1)[0].endswith("/worker-checkpoint"), \
                f"{name} must run the image with the checkpoint baked in"
        gpu = "nvidia.com/gpu" in container["resources"]["limits"]
        batch = {key for key in env if BATCH_ENV.match(key)}
        assert all(key.endswith("_GPU") == gpu for key in batch), (name, batch, "batch sizes of the other device")


def test_deployments(monkeypatch: pytest.MonkeyPatch) -> None:
    port = k8s_settings(monkeypatch).metrics_port
    deployments = of_kind(k8s_docs(), "Deployment")
    assert sorted(d["metadata"]["name"] for d in deployments) == sorted(f"adsent-{s}" for s in STAGES)
    known = {("ConfigMap", doc["metadata"]["name"]) for doc in of_kind(k8s_docs(), "ConfigMap")}
    known |= {("Secret", name) for name in secrets()}
    for deployment in deployments:
        check_deployment(deployment, port)
        for source in deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]:
            kind, ref = next(iter(source.items()))
            assert ({"configMapRef": "ConfigMap", "secretRef": "Secret"}[kind], ref["name"]) in known


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlays_render(overlay: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port = k8s_settings(monkeypatch).metrics_port
    docs = rendered_overlay(overlay)
    deployments = of_kind(docs, "Deployment")
    assert len(deployments) == len(STAGES)
    for deployment in deployments:
        check_deployment(deployment, port)
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        gpu = "nvidia.com/gpu" in container["resources"]["limits"]
        assert gpu == (overlay == "gpu" and deployment["metadata"]["name"] != "adsent-describe")
        assert ("cuda" in container["image"]) == gpu
    check_scaled_objects(docs, monkeypatch)


def test_pdb_per_deployment() -> None:
    docs = k8s_docs()
    pdbs = of_kind(docs, "PodDisruptionBudget")
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [p for p in pdbs if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
        assert len(matching) == 1, deployment["metadata"]["name"]
        assert matching[0]["spec"].get("maxUnavailable") == 1, "minAvailable of a 1-replica stage would block drains"


def test_every_topic_has_a_strimzi_kafkatopic(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = k8s_settings(monkeypatch)
    topics = {doc["spec"]["topicName"]: doc for doc in of_kind(k8s_docs(), "KafkaTopic")}
    for topic, partitions in settings.topic_partitions().items():
        assert topics[topic]["spec"]["partitions"] == partitions, topic
        assert topics[topic]["spec"]["replicas"] >= settings.kafka_replication_factor
    assert set(Settings().topic_partitions()) <= set(topics), "default topic names must be declared too"
    changelog = topics[f"{settings.kafka_consumer_group}-classify-emitted-changelog"]
    assert changelog["spec"]["partitions"] == settings.partitions_features
    assert changelog["spec"]["config"]["cleanup.policy"] == "compact"
    for deployment in of_kind(k8s_docs(), "Deployment"):
        stages = stages_of(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
        for topic, (partitions, compact) in faust_internal_topics(settings, stages).items():
            assert topic in topics, f"{deployment['metadata']['name']} needs {topic}"
            assert topics[topic]["spec"]["partitions"] == partitions, topic
            assert (topics[topic]["spec"]["config"].get("cleanup.policy") == "compact") == compact, topic
    clusters = {doc["metadata"]["labels"]["strimzi.io/cluster"] for doc in topics.values()}
    assert len(clusters) == 1 and settings.kafka_bootstrap_servers.startswith(f"{clusters.pop()}-kafka-bootstrap")


def check_scaled_objects(docs: list[dict], monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.service.app import app_id, routes

    settings = k8s_settings(monkeypatch)
    partitions = {doc["spec"]["topicName"]: doc["spec"]["partitions"] for doc in of_kind(docs, "KafkaTopic")}
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    auths = {a["metadata"]["name"]: a for a in of_kind(docs, "TriggerAuthentication")}
    scaled = of_kind(docs, "ScaledObject")
    assert sorted(s["spec"]["scaleTargetRef"]["name"] for s in scaled) == sorted(deployments)
    for obj in scaled:
        deployment = deployments[obj["spec"]["scaleTargetRef"]["name"]]
        stages = stages_of(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
        (trigger,) = obj["spec"]["triggers"]
        meta = trigger["metadata"]
        assert trigger["type"] == "kafka"
        assert meta["consumerGroup"] == app_id(settings, stages)
        assert meta["topic"] == routes(settings)[stages[0]].source
        assert meta["bootstrapServers"] == settings.kafka_bootstrap_servers
        assert 1 <= obj["spec"]["minReplicaCount"] <= obj["spec"]["maxReplicaCount"] <= partitions[meta["topic"]]
        assert trigger["authenticationRef"]["name"] in auths


def test_keda_scaled_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = k8s_docs()
    check_scaled_objects(docs, monkeypatch)
    defined = {name: set(doc["stringData"]) for name, doc in secrets().items()}
    for auth in of_kind(docs, "TriggerAuthentication"):
        params = {ref["parameter"] for ref in auth["spec"]["secretTargetRef"]}
        assert {"sasl", "tls", "username", "password", "ca"} <= params
        for ref in auth["spec"]["secretTargetRef"]:
            if ref["name"] in defined:  # the rest is the Strimzi cluster CA secret
                assert ref["key"] in defined[ref["name"]], ref


def test_service_monitor_finds_the_metrics_port() -> None:
    docs = k8s_docs()
    (monitor,) = of_kind(docs, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [s for s in of_kind(docs, "Service") if selector.items() <= s["metadata"]["labels"].items()]
    assert len(services) == len(STAGES)
    endpoint_ports = {e["port"] for e in monitor["spec"]["endpoints"]}
    pods = [d["spec"]["template"]["metadata"]["labels"] for d in of_kind(docs, "Deployment")]
    for service in services:
        assert {p["name"] for p in service["spec"]["ports"]} >= endpoint_ports
        assert any(service["spec"]["selector"].items() <= labels.items() for labels in pods)
    assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])


def test_prometheus_rule_equals_the_rules_file() -> None:
    (rule,) = of_kind(k8s_docs(), "PrometheusRule")
    assert rule["spec"] == yaml.safe_load((DEPLOY / "prometheus" / "rules" / "adsent.rules.yml").read_text())


def egress_policies(docs: list[dict], pod_labels: dict[str, str]) -> list[dict]:
    """The NetworkPolicies that restrict the egress of a pod with these labels."""
    return [p for p in of_kind(docs, "NetworkPolicy") if "Egress" in p["spec"]["policyTypes"]
            and p["spec"]["podSelector"].get("matchLabels", {}).items() <= pod_labels.items()]


def reaches(policies: list[dict], address: str, port: int) -> bool:
    """Whether an ipBlock rule of these policies lets a pod open a TCP connection to address:port."""
    ip = ipaddress.ip_address(address)
    for policy in policies:
        for rule in policy["spec"]["egress"]:
            assert rule.get("ports") and rule.get("to"), policy["metadata"]["name"]
            if not any(p["port"] == port and p.get("protocol", "TCP") == "TCP" for p in rule["ports"]):
                continue
            for block in (peer["ipBlock"] for peer in rule["to"] if "ipBlock" in peer):
                cidr = ipaddress.ip_network(block["cidr"])
                inside = ip.version == cidr.version and ip in cidr
                if inside and not any(ip in ipaddress.ip_network(e) for e in block.get("except", [])):
                    return True
    return False


def test_egress_network_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = k8s_docs()
    settings = k8s_settings(monkeypatch)
    kafka_port = int(settings.kafka_bootstrap_servers.split(",")[0].rsplit(":", 1)[1])
    (cluster,) = {doc["metadata"]["labels"]["strimzi.io/cluster"] for doc in of_kind(docs, "KafkaTopic")}
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        policies = egress_policies(docs, deployment["spec"]["template"]["metadata"]["labels"])
        assert policies, f"{name} has no egress policy"
        rules = [rule for policy in policies for rule in policy["spec"]["egress"]]
        dns = [r for r in rules if any(p.get("podSelector", {}).get("matchLabels", {}).get("k8s-app") == "kube-dns"
                                       for p in r["to"])]
        assert dns and {(p["port"], p["protocol"]) for p in dns[0]["ports"]} == {(53, "UDP"), (53, "TCP")}, name
        kafka = [r for r in rules if any(p.get("podSelector", {}).get("matchLabels", {}).get("strimzi.io/cluster")
                                         == cluster for p in r["to"])]
        assert kafka and [p["port"] for p in kafka[0]["ports"]] == [kafka_port], name
        for address in ("169.254.169.254", "10.0.0.1", "172.16.0.1", "192.168.0.1", "100.64.0.1", "127.0.0.1"):
            for port in (80, 443, kafka_port, 53):
                assert not reaches(policies, address, port), f"{name} reaches {address}:{port}"
        fetches = name == "adsent-describe"  # the only stage that fetches images
        assert reaches(policies, "93.184.216.34", 443) == fetches and reaches(policies, "93.184.216.34", 80) == fetches
        assert not reaches(policies, "93.184.216.34", 22), name


# ---- observability ---------------------------------------------------------------------------------

def test_alert_rules_cover_the_issue_and_use_real_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "rules" / "adsent.rules.yml").read_text())
    exported = exported_metric_names()
    alerts = set()
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert promql_metric_names(rule["expr"]) <= exported, rule["expr"]
            if "alert" in rule:
                alerts.add(rule["alert"])
                assert rule["annotations"]["summary"] and rule["labels"]["severity"]
    assert {"AdsentConsumerLagGrowing", "AdsentDeadLetterRate", "AdsentEndToEndLatencySLO", "AdsentWorkerNotReady"} <= alerts


def test_dashboard_panels_query_real_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "adsent.json").read_text())
    exported = exported_metric_names()
    used: set[str] = set()
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            names = promql_metric_names(target["expr"])
            assert names and names <= exported, target["expr"]
            used |= names
    for needed in ("adsent_stage_messages_out_total", "adsent_end_to_end_seconds_bucket", "adsent_consumer_lag_messages",
                   "adsent_stage_messages_failed_total", "adsent_overall_sentiments_emitted_total",
                   "adsent_stage_batch_size_bucket"):
        assert needed in used, needed


def test_grafana_provisioning_points_at_the_dashboard() -> None:
    (source,) = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "adsent.json").read_text())
    (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["name"] == "datasource" and variable["current"]["value"] == source["uid"]
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose()["services"]
    (provider,) = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/adsent.yaml").read_text())["providers"]
    mounts = compose()["services"]["grafana"]["volumes"]
    assert f"../grafana/dashboards:{provider['options']['path']}:ro" in mounts


# ---- the dashboard's business row -----------------------------------------------------------------

SCRAPE_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series


def dashboard_json() -> dict:
    return json.loads((DEPLOY / "grafana" / "dashboards" / "adsent.json").read_text())


def row_panels(dashboard: dict, title: str) -> list[dict]:
    """The panels below the row titled ``title``, up to the next row."""
    panels = sorted(dashboard["panels"], key=lambda p: (p["gridPos"]["y"], p["gridPos"]["x"]))
    (start,) = [i for i, p in enumerate(panels) if p["type"] == "row" and p["title"] == title]
    inside = []
    for panel in panels[start + 1:]:
        if panel["type"] == "row":
            break
        inside.append(panel)
    return inside


def recorded_labels() -> dict[str, set[str]]:
    """Label names of each sample a worker exports after classifying one ad (its real registry and stage)."""
    from datetime import datetime, timezone

    from streams.service.metrics import Metrics
    from streams.service.stages import Emitted
    from tests.streams.classify_factories import canned_classify, features_record

    metrics = Metrics()
    (result,) = canned_classify(Settings(), metrics).run([features_record("ad-1", uploaded_at=datetime.now(timezone.utc))])
    assert isinstance(result, Emitted)
    labels: dict[str, set[str]] = {}
    for family in metrics.registry.collect():
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


def promql_label_names(expr: str) -> set[str]:
    """Label names an expression matches on, groups by or joins on."""
    names = set()
    for matchers in re.findall(r"\{([^{}]*)\}", expr):
        names.update(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for group in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)", expr):
        names.update(name.strip() for name in group.split(",") if name.strip())
    return names


def check_labels(expr: str, legend: str, recorded: dict[str, set[str]]) -> None:
    """Every label ``expr`` and its legend use exists on each metric the expression reads."""
    metrics = promql_metric_names(expr)
    assert metrics and metrics <= set(recorded), expr
    wanted = promql_label_names(expr) | set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
    for metric in metrics:
        assert wanted <= recorded[metric] | SCRAPE_LABELS, (metric, wanted - recorded[metric], expr)


def test_business_row_shows_sentiment_shares_per_platform() -> None:
    dashboard = dashboard_json()
    rows = [p["title"] for p in sorted(dashboard["panels"], key=lambda p: p["gridPos"]["y"]) if p["type"] == "row"]
    assert rows[-1] == "Business" and len(rows) > 1, rows  # beside the operations rows
    panels = row_panels(dashboard, "Business")
    used = set()
    for panel in panels:
        assert panel["repeat"] == "platform" and "$platform" in panel["title"], panel["title"]
        assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"
        assert panel["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"] == "normal"  # shares stack to 100 %
        for target in panel["targets"]:
            assert 'platform=~"$platform"' in target["expr"] and "group_left" in target["expr"], target["expr"]
            used |= promql_metric_names(target["expr"])
    assert used == {"adsent_overall_sentiments_emitted_total", "adsent_sentiments_emitted_total"}
    dimension_panels = [p for p in panels if any("dimension" in t["expr"] for t in p["targets"])]
    assert dimension_panels, "no panel shares attribute spans per dimension"


def test_business_row_queries_use_the_real_metrics_and_labels() -> None:
    recorded = recorded_labels()
    dashboard = dashboard_json()
    for panel in row_panels(dashboard, "Business"):
        for target in panel["targets"]:
            check_labels(target["expr"], target.get("legendFormat", ""), recorded)
    checked = 0
    for panel in dashboard["panels"]:  # the other panels too, where one classified ad records their metrics
        for target in panel.get("targets", []):
            if promql_metric_names(target["expr"]) <= set(recorded):
                check_labels(target["expr"], target.get("legendFormat", ""), recorded)
                checked += 1
    assert checked >= 8, checked


def test_platform_variable_lists_the_bounded_platform_label() -> None:
    dashboard = dashboard_json()
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "platform"]
    assert variable["type"] == "query" and variable["multi"] and variable["includeAll"]
    assert variable["datasource"]["uid"] == "${datasource}"
    metric, label = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["query"]["query"]).groups()
    assert variable["definition"] == variable["query"]["query"]
    assert label == "platform" and label in recorded_labels()[metric]
