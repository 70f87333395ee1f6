#!/usr/bin/env python3
"""Checks the Kubernetes manifests with real tools, then a short project policy.

For every overlay under overlays/ (and nothing else: the base is never deployed alone):
1. `kubectl kustomize` builds it (the kubectl of the project venv, pinned in
   deploy/local/tools/requirements.txt);
2. every built-in kind is validated by kubernetes-validate, strict (unknown fields refused),
   against the schema of Kubernetes $EGOV_K8S_VERSION (default below);
3. every CloudNativePG and RabbitMQ custom resource is validated with jsonschema against the
   openAPIV3Schema of its CRD vendored in crds/ (unknown fields refused where the CRD does not
   preserve them); KEDA's (keda.sh) with deploy/local/tools/keda-validate.mjs; a custom resource
   of any other group fails (no schema to check it against);
4. the policy: every Deployment has gRPC startup, readiness and liveness probes on a declared
   port, CPU and memory requests and a memory limit, a PodDisruptionBudget and a NetworkPolicy
   selecting its pods, exactly one ScaledObject with a CPU trigger and a trigger on its own queue,
   an image with a pinned tag (a version or a digest in production, never `latest` or none), runs
   as non-root, and every container has a read-only root file system and no privilege escalation.
   An HTTP workload, one whose pod template carries the label `egov.shangcheng/protocol: http`
   (the web console), has httpGet probes instead of gRPC ones and consumes no queue: its
   ScaledObject needs the CPU trigger only; everything else applies to it unchanged. In
   production a container that runs the console (it has EGOV_CONSOLE__* settings) must sign
   people in through the identity provider's gateway (EGOV_CONSOLE__SIGN_IN=gateway: the
   binary's own default is development identities) with EGOV_CONSOLE__SECURE_COOKIE=true.

`--self-test` breaks one thing at a time in a built overlay and asserts each layer refuses it.
Run through deploy/k8s/check.sh, which installs the tools. Exit 1 when anything fails.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

K8S_DIR = Path(__file__).resolve().parent
ROOT = K8S_DIR.parent.parent
TOOLS = ROOT / "deploy" / "local" / "tools"
# The Kubernetes version the district cloud runs (the schemas kubernetes-validate checks against).
K8S_VERSION = os.environ.get("EGOV_K8S_VERSION", "1.33.0")
CUSTOM_GROUPS_WITH_CRDS = ("postgresql.cnpg.io", "rabbitmq.com")
VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?$")
# The pod label naming the protocol a workload serves and is probed with; absent means gRPC.
PROTOCOL_LABEL = "egov.shangcheng/protocol"
PROTOCOLS = ("grpc", "http")


def kubectl() -> str:
    return str(TOOLS / "venv" / "bin" / "kubectl")


def build(overlay: Path) -> list[dict]:
    out = subprocess.run([kubectl(), "kustomize", str(overlay)], check=True, capture_output=True, text=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def name(o: dict) -> str:
    return f"{o.get('kind')}/{o.get('metadata', {}).get('name', '?')}"


def group(o: dict) -> str:
    api = o.get("apiVersion", "")
    return api.split("/")[0] if "/" in api else ""


# ----------------------------------------------------------------------------- custom resources


def strict(schema: dict) -> dict:
    """The CRD schema with unknown fields refused wherever the CRD lists its properties."""
    s = copy.deepcopy(schema)

    def walk(n: object) -> None:
        if isinstance(n, dict):
            if (
                "properties" in n
                and "additionalProperties" not in n
                and not n.get("x-kubernetes-preserve-unknown-fields")
            ):
                n["additionalProperties"] = False
            for v in n.values():
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)

    walk(s)
    return s


def load_crds() -> dict[tuple[str, str, str], dict]:
    crds = {}
    for f in sorted((K8S_DIR / "crds").glob("*.yaml")):
        crd = yaml.safe_load(f.read_text())
        g, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            schema = strict(v["schema"]["openAPIV3Schema"])
            # metadata is the API server's, not the CRD's: checked as an object only.
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            schema["properties"].setdefault("apiVersion", {"type": "string"})
            schema["properties"].setdefault("kind", {"type": "string"})
            crds[(g, v["name"], kind)] = schema
    return crds


def check_crd_object(o: dict, crds: dict) -> list[str]:
    g, _, version = o["apiVersion"].partition("/")
    schema = crds.get((g, version, o["kind"]))
    if schema is None:
        return [f"{name(o)}: no vendored CRD for {o['apiVersion']} {o['kind']}"]
    v = jsonschema.Draft7Validator(schema)
    return [f"{name(o)}: {'/'.join(map(str, e.absolute_path)) or '.'}: {e.message}" for e in v.iter_errors(o)]


def check_keda(objs: list[dict]) -> list[str]:
    if not objs:
        return []
    r = subprocess.run(
        ["node", str(TOOLS / "keda-validate.mjs")], input=json.dumps(objs), capture_output=True, text=True, cwd=TOOLS
    )
    if r.returncode not in (0, 1) or (r.returncode == 1 and not r.stdout.strip()):
        return [f"keda-validate.mjs failed: {r.stderr.strip()}"]
    return [line for line in r.stdout.splitlines() if line.strip()]


# ----------------------------------------------------------------------------- built-in kinds


def check_builtin(o: dict) -> list[str]:
    try:
        kubernetes_validate.validate(o, K8S_VERSION, strict=True)
        return []
    except kubernetes_validate.ValidationError as e:
        return [f"{name(o)}: {'/'.join(map(str, e.path)) or '.'}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{name(o)}: {o.get('apiVersion')} {o.get('kind')} is not a Kubernetes {K8S_VERSION} kind"]


# ----------------------------------------------------------------------------- policy


def selects(selector: dict | None, labels: dict) -> bool:
    if not selector:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        val = labels.get(expr["key"])
        op = expr["operator"]
        if (
            (op == "In" and val not in expr.get("values", []))
            or (op == "NotIn" and val in expr.get("values", []))
            or (op == "Exists" and val is None)
            or (op == "DoesNotExist" and val is not None)
        ):
            return False
    return True


def check_policy(objs: list[dict], production: bool) -> list[str]:
    errors: list[str] = []
    by_kind: dict[str, list[dict]] = {}
    for o in objs:
        by_kind.setdefault(o["kind"], []).append(o)
    for d in by_kind.get("Deployment", []):
        n = name(d)
        tpl = d["spec"]["template"]
        labels = tpl.get("metadata", {}).get("labels", {})
        pod = tpl["spec"]
        if not selects(d["spec"].get("selector"), labels):
            errors.append(f"{n}: its selector does not select its pod template")
        pod_nonroot = (pod.get("securityContext") or {}).get("runAsNonRoot") is True
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            cn = f"{n} container {c['name']}"
            sc = c.get("securityContext") or {}
            if not (pod_nonroot or sc.get("runAsNonRoot") is True) or sc.get("runAsNonRoot") is False:
                errors.append(f"{cn}: must run as non-root (runAsNonRoot: true)")
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"{cn}: needs readOnlyRootFilesystem: true")
            if sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{cn}: needs allowPrivilegeEscalation: false")
            image = c.get("image", "")
            tag = image.rsplit("@", 1)[1] if "@" in image else (image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "")
            if not tag or tag == "latest":
                errors.append(f"{cn}: image {image!r} is not pinned (no tag or digest, or latest)")
            elif production and not ("@sha256:" in image or VERSION_TAG.match(tag)):
                errors.append(f"{cn}: production image {image!r} needs a version tag or a digest")
            res = c.get("resources") or {}
            for kind in ("cpu", "memory"):
                if kind not in (res.get("requests") or {}):
                    errors.append(f"{cn}: no {kind} request")
            if "memory" not in (res.get("limits") or {}):
                errors.append(f"{cn}: no memory limit")
        protocol = labels.get(PROTOCOL_LABEL, "grpc")
        if protocol not in PROTOCOLS:
            errors.append(f"{n}: label {PROTOCOL_LABEL}={protocol!r} is not one of {PROTOCOLS}")
        for c in pod.get("containers", []):
            cn = f"{n} container {c['name']}"
            ports = {p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                if protocol == "http":
                    # An HTTP workload: an httpGet probe on a path, on a declared port (number or name).
                    get = (c.get(probe) or {}).get("httpGet")
                    names = {p.get("name") for p in c.get("ports", []) if p.get("name")}
                    if not get:
                        errors.append(f"{cn}: {probe} is not an HTTP probe (httpGet), as {PROTOCOL_LABEL}=http demands")
                    elif not get.get("path"):
                        errors.append(f"{cn}: {probe} has no path")
                    elif get.get("port") not in ports | names:
                        errors.append(f"{cn}: {probe} probes port {get.get('port')}, which the container does not declare")
                    continue
                grpc = (c.get(probe) or {}).get("grpc")
                if not grpc:
                    errors.append(f"{cn}: {probe} is not a gRPC probe")
                elif grpc.get("port") not in ports:
                    errors.append(f"{cn}: {probe} probes port {grpc.get('port')}, which the container does not declare")
            env = {e["name"]: e.get("value") for e in c.get("env", []) if "name" in e}
            if production and any(k.startswith("EGOV_CONSOLE__") for k in env):
                if env.get("EGOV_CONSOLE__SIGN_IN") != "gateway":
                    errors.append(
                        f"{cn}: production console needs EGOV_CONSOLE__SIGN_IN=gateway "
                        f"(has {env.get('EGOV_CONSOLE__SIGN_IN')!r}; unset means development identities)"
                    )
                if env.get("EGOV_CONSOLE__SECURE_COOKIE") != "true":
                    errors.append(f"{cn}: production console needs EGOV_CONSOLE__SECURE_COOKIE=true")
        if not any(selects(p["spec"].get("selector"), labels) for p in by_kind.get("PodDisruptionBudget", [])):
            errors.append(f"{n}: no PodDisruptionBudget selects its pods")
        if not any(selects(p["spec"].get("podSelector"), labels) for p in by_kind.get("NetworkPolicy", [])):
            errors.append(f"{n}: no NetworkPolicy selects its pods")
        scalers = [
            s
            for s in by_kind.get("ScaledObject", [])
            if (s.get("spec") or {}).get("scaleTargetRef", {}).get("name") == d["metadata"]["name"]
            and s["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
        ]
        if len(scalers) != 1:
            errors.append(f"{n}: {len(scalers)} ScaledObjects scale it (want exactly one)")
        else:
            triggers = scalers[0]["spec"].get("triggers") or []
            queues = [(t.get("metadata") or {}).get("queueName") for t in triggers if t.get("type") == "rabbitmq"]
            service = d["metadata"]["name"].removeprefix("egov-")
            # The gRPC services consume their own queue; an HTTP front end (the console) has none.
            if protocol != "http" and f"egov.{service}" not in queues:
                errors.append(f"{n}: its ScaledObject does not follow its queue egov.{service} (has {queues})")
            if not any(t.get("type") == "cpu" for t in triggers):
                errors.append(f"{n}: its ScaledObject has no CPU trigger for the {'HTTP' if protocol == 'http' else 'gRPC'} load")
    for h in by_kind.get("HorizontalPodAutoscaler", []):
        errors.append(f"{name(h)}: scale with a ScaledObject (KEDA makes the HPA); two autoscalers would fight")
    return errors


# ----------------------------------------------------------------------------- driver


def check(objs: list[dict], production: bool, crds: dict) -> list[str]:
    errors: list[str] = []
    keda = []
    for o in objs:
        g = group(o)
        if g == "keda.sh":
            keda.append(o)
        elif g in CUSTOM_GROUPS_WITH_CRDS:
            errors += check_crd_object(o, crds)
        elif "." in g and not g.endswith(".k8s.io"):
            errors.append(f"{name(o)}: custom resource of {g}: no schema to check it against")
        else:
            errors += check_builtin(o)
    errors += check_keda(keda)
    errors += check_policy(objs, production)
    return errors


def overlays() -> list[Path]:
    return sorted(p for p in (K8S_DIR / "overlays").iterdir() if (p / "kustomization.yaml").exists())


def main() -> int:
    crds = load_crds()
    failed = 0
    for ov in overlays():
        objs = build(ov)
        errors = check(objs, ov.name == "production", crds)
        kinds: dict[str, int] = {}
        for o in objs:
            kinds[o["kind"]] = kinds.get(o["kind"], 0) + 1
        summary = ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
        if errors:
            failed += 1
            print(f"overlays/{ov.name}: {len(errors)} problem(s) in {len(objs)} objects")
            for e in errors:
                print(f"  {e}")
        else:
            print(f"overlays/{ov.name}: {len(objs)} objects valid for Kubernetes {K8S_VERSION} ({summary})")
    return 1 if failed else 0


def self_test() -> int:
    """Breaks one thing at a time in the production overlay; each must be refused by its layer."""
    crds = load_crds()
    base = build(K8S_DIR / "overlays" / "production")
    assert not check(base, True, crds), "the production overlay must pass before it is broken"

    def first(objs: list[dict], kind: str) -> dict:
        return next(o for o in objs if o["kind"] == kind)

    def dep(o: list[dict]) -> dict:
        return first(o, "Deployment")["spec"]["template"]["spec"]

    def http_dep(o: list[dict]) -> dict:
        return next(
            d
            for d in o
            if d["kind"] == "Deployment" and d["spec"]["template"]["metadata"]["labels"].get(PROTOCOL_LABEL) == "http"
        )["spec"]["template"]["spec"]

    def set_env(container: dict, key: str, value: str) -> None:
        for e in container["env"]:
            if e["name"] == key:
                e["value"] = value

    cases = {
        "built-in unknown field (kubernetes-validate)": (lambda o: dep(o).update(hostNetwrok=True), "hostNetwrok"),
        "built-in wrong type (kubernetes-validate)": (
            lambda o: first(o, "Service")["spec"].update(ports=[{"port": "grpc"}]),
            "Service/",
        ),
        "CNPG Cluster wrong type (CRD schema)": (lambda o: first(o, "Cluster")["spec"].update(instances="three"), "instances"),
        "CNPG Cluster unknown field (CRD schema)": (lambda o: first(o, "Cluster")["spec"].update(instance=3), "instance"),
        "RabbitmqCluster wrong type (CRD schema)": (
            lambda o: first(o, "RabbitmqCluster")["spec"].update(replicas="3"),
            "replicas",
        ),
        "ScaledObject without trigger type (KEDA schema)": (
            lambda o: first(o, "ScaledObject")["spec"]["triggers"][0].pop("type"),
            "ScaledObject/",
        ),
        "unknown custom resource": (
            lambda o: o.append({"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "x"}}),
            "no schema",
        ),
        "no gRPC probe (policy)": (lambda o: dep(o)["containers"][0].pop("livenessProbe"), "livenessProbe"),
        "HTTP workload without an httpGet probe (policy)": (
            lambda o: http_dep(o)["containers"][0].update(livenessProbe={"grpc": {"port": 8080}}),
            "livenessProbe is not an HTTP probe",
        ),
        "production console with development sign-in (policy)": (
            lambda o: set_env(http_dep(o)["containers"][0], "EGOV_CONSOLE__SIGN_IN", "dev"),
            "EGOV_CONSOLE__SIGN_IN=gateway",
        ),
        "root file system writable (policy)": (
            lambda o: dep(o)["containers"][0]["securityContext"].update(readOnlyRootFilesystem=False),
            "readOnlyRootFilesystem",
        ),
        "runs as root (policy)": (lambda o: dep(o)["securityContext"].update(runAsNonRoot=False), "non-root"),
        "latest image (policy)": (lambda o: dep(o)["containers"][0].update(image="egov/egov-suite:latest"), "not pinned"),
        "no resources (policy)": (lambda o: dep(o)["containers"][0].pop("resources"), "request"),
        "no PDB (policy)": (lambda o: o.remove(first(o, "PodDisruptionBudget")), "PodDisruptionBudget"),
        "no NetworkPolicy (policy)": (lambda o: o.remove(first(o, "NetworkPolicy")), "NetworkPolicy"),
        "no ScaledObject (policy)": (lambda o: o.remove(first(o, "ScaledObject")), "ScaledObjects"),
    }
    bad = 0
    for what, (breaker, expect) in cases.items():
        objs = copy.deepcopy(base)
        breaker(objs)
        errors = check(objs, True, crds)
        hit = [e for e in errors if expect in e]
        if hit:
            print(f"refused as expected: {what}: {hit[0]}")
        else:
            bad += 1
            print(f"NOT REFUSED: {what} (errors: {errors})")
    print(f"self-test: {len(cases) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(self_test() if sys.argv[1:] == ["--self-test"] else main())
