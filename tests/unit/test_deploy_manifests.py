"""The deployment files in deploy/: valid against their published schemas, offline, and complete.

Kubernetes manifests are checked with kubernetes-validate (the Kubernetes JSON schemas it bundles,
strict: unknown fields are errors) for the oldest and newest minor versions we support; the compose
file against the compose specification's schema as vendored by check-jsonschema.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from services.cli import main as roadmap_cli

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
# Kubernetes supports its three newest minor versions; check the oldest and the newest of them.
KUBERNETES_VERSIONS = ("1.35", "1.37")
SERVICES = ("scoring", "roadmap", "integrations")
PREFIXES = {"/scoring": "scoring", "/roadmap": "roadmap", "/integrations": "integrations"}


def _manifest_files() -> list[Path]:
    return sorted(KUBERNETES.rglob("*.yaml"))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _all_documents() -> list[dict[str, Any]]:
    return [doc for path in _manifest_files() for doc in _documents(path)]


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in _all_documents() if doc["kind"] == kind}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_bundled_kubernetes_schemas_include_the_versions_we_check() -> None:
    shipped = {kubernetes_validate.utils.major_minor(version) for version in kubernetes_validate.utils.all_versions()}
    assert set(KUBERNETES_VERSIONS) <= shipped


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", _manifest_files(), ids=lambda path: str(path.relative_to(KUBERNETES)))
def test_every_kubernetes_manifest_is_valid_against_the_kubernetes_schema(path: Path, version: str) -> None:
    documents = _documents(path)
    assert documents, f"{path} holds no manifest"
    for document in documents:
        try:
            checked = kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{path.name}: {document['kind']}/{document['metadata']['name']}: {exc.message}")
        assert checked == version


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(_compose())
    ]
    assert errors == []


def test_each_service_and_the_workers_have_a_deployment_with_probes_resources_and_a_non_root_user() -> None:
    deployments = _of_kind("Deployment")
    assert set(deployments) == {*SERVICES, "worker"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in pod["containers"]:
            assert "livenessProbe" in container and "readinessProbe" in container, name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name} {bound}"
            assert container["args"][0] in roadmap_cli.list_commands(None), name


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_is_probed_on_its_health_endpoints_and_has_a_service(service: str) -> None:
    container = _of_kind("Deployment")[service]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["serve", "--service", service]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    selector = _of_kind("Service")[service]["spec"]["selector"]
    assert selector.items() <= _of_kind("Deployment")[service]["spec"]["template"]["metadata"]["labels"].items()


def test_every_service_and_the_workers_scale_with_an_autoscaler() -> None:
    targets = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in _of_kind("HorizontalPodAutoscaler").values()}
    assert targets == {*SERVICES, "worker"}
    for hpa in _of_kind("HorizontalPodAutoscaler").values():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"


def test_the_ingress_routes_each_prefix_to_its_service() -> None:
    (ingress,) = _of_kind("Ingress").values()
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert routes == PREFIXES


def test_migrations_run_as_a_job() -> None:
    (job,) = _of_kind("Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]


def test_the_secret_template_holds_only_placeholders() -> None:
    secrets = _of_kind("Secret")
    assert {"roadmap-secrets", "roadmap-jira"} <= set(secrets)
    for name, secret in secrets.items():
        assert "data" not in secret, f"{name}: base64 data could hide a real value"
        for key, value in secret["stringData"].items():
            assert re.search(r"<[^<>]+>", value), f"{name}.{key} has no <placeholder>"
            # Outside the placeholders nothing may look like a key, a token or a password.
            rest = re.sub(r"<[^<>]+>", "", value)
            assert not re.search(r"[A-Za-z0-9+/=_-]{20,}", rest), f"{name}.{key} looks like a real secret"
            assert not re.search(r"://[^:/@]+:[^<@]+@", rest), f"{name}.{key} carries a password"


def test_the_config_map_holds_no_secret_setting() -> None:
    (config,) = _of_kind("ConfigMap").values()
    assert not {"ROADMAP_DATABASE_URL", "ROADMAP_JWT_SECRET"} & set(config["data"])
    for name in (
        "ROADMAP_JWKS_URL", "ROADMAP_JWT_ISSUER", "ROADMAP_JWT_AUDIENCE", "ROADMAP_SCORING_URL", "ROADMAP_INTEGRATIONS_URL"
    ):  # fmt: skip
        assert config["data"][name], name


def test_the_jira_secrets_are_mounted_where_secret_references_may_point() -> None:
    # A reference resolves only to a file directly inside ROADMAP_SECRETS_DIR (docs/security.md):
    # the Jira Secret must be mounted exactly there for the integrations service and the workers.
    (config,) = _of_kind("ConfigMap").values()
    secrets_dir = config["data"]["ROADMAP_SECRETS_DIR"]
    deployments = _of_kind("Deployment")
    for name in ("integrations", "worker"):
        pod = deployments[name]["spec"]["template"]["spec"]
        jira_volumes = {v["name"] for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "roadmap-jira"}
        mounts = [
            m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] in jira_volumes
        ]
        assert mounts == [secrets_dir], name
    # Compose mounts its secrets in /run/secrets, the default, and sets no other folder.
    for name in ("integrations", "worker"):
        service = _compose()["services"][name]
        assert {"jira_api_token", "jira_webhook_secret"} <= set(service["secrets"]), name
        assert "ROADMAP_SECRETS_DIR" not in service.get("environment", {}), name


def test_the_compose_file_has_the_database_migration_services_workers_and_ingress() -> None:
    services = _compose()["services"]
    assert set(services) >= {"postgres", "migrate", *SERVICES, "worker", "ingress"}
    assert services["postgres"]["image"].split(":")[1].startswith("16")
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for service in SERVICES:
        assert services[service]["command"] == ["serve", "--service", service]
        assert services[service]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "/health/ready" in " ".join(services[service]["healthcheck"]["test"])
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for service in (*SERVICES, "worker", "migrate"):
        environment = services[service]["environment"]
        assert {"ROADMAP_JWKS_URL", "ROADMAP_JWT_ISSUER", "ROADMAP_JWT_AUDIENCE"} <= set(environment), service
        assert {"ROADMAP_SCORING_URL", "ROADMAP_SERVICES_URL"} <= set(environment), service
        assert "ROADMAP_DATABASE_URL" not in environment, f"{service}: the database URL carries a password"


def test_the_compose_ingress_routes_each_prefix_to_its_service() -> None:
    config = (DEPLOY / "nginx.conf").read_text()
    routes = dict(re.findall(r"location (/\w+)/ \{\s*set \$\w+ http://(\w+):8000;", config))
    assert routes == PREFIXES


def test_the_image_runs_the_roadmap_command_as_a_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    final_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert final_stage.startswith("python:3.11-slim")
    assert re.search(r"^USER (?!root|0\b)\S+", final_stage, re.MULTILINE)
    assert 'ENTRYPOINT ["roadmap"]' in final_stage
    assert 'CMD ["serve", "--service", "all"]' in final_stage
