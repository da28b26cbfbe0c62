"""docker-compose.yml without a Docker engine: the Compose validator (``docker compose config``,
or docker-compose v1's, which checks the file against the Compose schema it ships) and our own
checks of what the stack must be (issue 7): every service, health checks, restart policies, a
scalable worker, the simulator behind a profile, files that exist, one partition count."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from yujing.config import load_settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
YUJING_SERVICES = ("bridge", "worker", "notifier", "simulator")
ONE_SHOT = ("kafka-init", "simulator")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def validator() -> list[str]:
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no Compose validator: run scripts/test (scripts/setup --test installs one)")


@pytest.mark.parametrize("profiles", [[], ["--profile", "simulator"]])
def test_the_compose_validator_accepts_the_file(profiles: list[str]) -> None:
    command = [*validator(), "-f", str(COMPOSE), *profiles, "config"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    rendered = yaml.safe_load(done.stdout)["services"]
    assert {"bridge", "worker", "notifier", "kafka", "mosquitto"} <= set(rendered)
    assert rendered["simulator"]["profiles"] == ["simulator"]


def test_the_stack_has_every_component_with_health_checks_and_restart_policies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    wanted = {"mosquitto", "kafka", "bridge", "worker", "notifier", "influxdb", "grafana",
              "prometheus", "simulator"}  # fmt: skip
    assert wanted <= set(services)
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        assert service.get("restart") in ("unless-stopped", "always"), name
        if name.endswith("-exporter"):
            continue  # distroless exporters; Prometheus' `up` watches them
        assert "test" in service.get("healthcheck", {}), f"{name} has no health check"
    kafka = services["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"] and "zookeeper" not in COMPOSE.read_text()
    assert services["simulator"]["profiles"] == ["simulator"]
    assert services["influxdb"]["image"].startswith("influxdb:2.")


def test_workers_scale(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=N works
    assert worker["command"][:3] == ["worker", "--role", "stream"]
    assert compose["services"]["notifier"]["command"][:3] == ["worker", "--role", "notifier"]


def test_files_the_stack_mounts_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"
        for env_file in service.get("env_file", []):
            assert (REPO / env_file).is_file(), f"{name}: {env_file}"
        build = service.get("build")
        if build:
            assert (REPO / build["context"] / build["dockerfile"]).is_file()
    generate = (REPO / "deploy" / "secrets" / "generate").read_text()
    for name, secret in compose["secrets"].items():
        assert secret["file"] == f"deploy/secrets/{name}"
        assert name in generate or (REPO / f"{secret['file']}.example").is_file(), name


def test_one_partition_count_everywhere(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka-init"]["environment"]["PARTITIONS"] == "${YUJING_PARTITIONS:-8}"
    for name in ("bridge", "worker", "notifier"):
        environment = services[name]["environment"]
        assert environment["YUJING_KAFKA__PARTITIONS"] == "${YUJING_PARTITIONS:-8}", name
    settings = load_settings(REPO / "deploy" / "yujing" / "yujing.yaml")
    assert settings.kafka.partitions == 8
    assert settings.mqtt.start_broker == "never"
    assert settings.metrics.host == "0.0.0.0" and settings.metrics.port == 9108
    image_root = Path("/app")  # deploy/Dockerfile copies configs/ to /app/configs
    for path in (settings.registry, settings.ladders, settings.quantities):
        assert (REPO / path.relative_to(image_root)).exists(), path


def test_prometheus_scrapes_every_component(compose: dict[str, Any]) -> None:
    config_path = REPO / "deploy" / "prometheus" / "prometheus.compose.yml"
    config = yaml.safe_load(config_path.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    names = {n for sd in jobs["yujing"]["dns_sd_configs"] for n in sd["names"]}
    assert names == {"bridge", "worker", "notifier"}
    static = {
        t for job in jobs.values() for c in job.get("static_configs", []) for t in c["targets"]
    }
    for service in ("kafka-exporter", "mosquitto-exporter", "influxdb", "grafana"):
        assert service in compose["services"]
        assert any(t.startswith(f"{service}:") for t in static), service
    command = compose["services"]["prometheus"]["command"]
    assert "--config.file=/etc/prometheus/prometheus.compose.yml" in command
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: run scripts/test (scripts/setup --test installs prometheus)")
    done = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
