#!/usr/bin/env python3
"""Offline checks of the Kubernetes manifests under deploy/k8s (base and overlays).

For each kustomization it loads the resources it lists, applies its patches (JSON 6902 operations
and strategic-merge maps of plain objects: nothing fancier), and then checks every resulting
object:

* custom resources (CloudNativePG, RabbitMQ operators) against their CRD's openAPIV3Schema:
  required fields, unknown fields, types, enums, numeric bounds and patterns, recursively;
* built-in kinds against what the suite relies on: selectors that select the pod template,
  gRPC probes on a declared port, non-root read-only containers, references to ConfigMaps,
  Secrets, claims and Deployments that exist (or are created by an operator or out of band);
* every YAML file under base/ and overlays/ parses and is used by its kustomization;
* when kubectl is installed, the same checks again on `kubectl kustomize` output (the real
  renderer), whose objects must be the ones found here.

CRDs are read from $EGOV_K8S_CRDS, else deploy/k8s/crds (vendored; see its README); no CRDs is a
failure. Needs PyYAML (Debian's python3-yaml, which deploy/local/setup.sh installs); without it
the script says so and exits 1. Without kubectl the kubectl kustomize pass is not run, and the
last line says so. Exit 1 when anything fails.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import yaml
except ImportError:  # pragma: no cover
    print("validate.py: FAILED: PyYAML is not installed (apt-get install python3-yaml; deploy/local/setup.sh does)")
    sys.exit(1)

K8S_DIR = Path(__file__).resolve().parent
ROOT = K8S_DIR.parent.parent

# Built-in kinds the manifests may use.
BUILTIN = {
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "Namespace"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
}
# Secrets created out of band by the operators of the cluster (see README.md).
EXTERNAL_SECRETS = {"egov-secrets"}


class Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, msg: str) -> None:
        self.items.append(f"{where}: {msg}")


# ------------------------------------------------------------------ CRD schemas


def load_crds(crd_dir: Path | None) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema."""
    out: dict[tuple[str, str], dict] = {}
    if crd_dir is None:
        return out
    for f in sorted(crd_dir.glob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            for v in spec.get("versions", []):
                schema = (v.get("schema") or {}).get("openAPIV3Schema")
                if schema:
                    out[(f"{spec['group']}/{v['name']}", spec["names"]["kind"])] = schema
    return out


def type_ok(value, schema: dict) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, (int, str)) and not isinstance(value, bool)
    t = schema.get("type")
    if value is None:
        return bool(schema.get("nullable")) or t is None
    return {
        None: True,
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }.get(t, True)


def check_schema(value, schema: dict, path: str, where: str, errors: Errors) -> None:
    if "anyOf" in schema and not schema.get("x-kubernetes-int-or-string"):
        if not any(type_ok(value, alt) for alt in schema["anyOf"]):
            errors.add(where, f"{path}: {value!r} matches none of the allowed types")
    if not type_ok(value, schema):
        want = "integer or string" if schema.get("x-kubernetes-int-or-string") else schema.get("type")
        errors.add(where, f"{path}: expected {want}, found {type(value).__name__} {value!r}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.add(where, f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.add(where, f"{path}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.add(where, f"{path}: {value} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "pattern" in schema:
            try:
                if not re.search(schema["pattern"], value):
                    errors.add(where, f"{path}: {value!r} does not match {schema['pattern']}")
            except re.error:
                pass  # an ECMA-only pattern: not checked here
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.add(where, f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.add(where, f"{path}: longer than {schema['maxLength']}")
    if isinstance(value, dict):
        props = schema.get("properties")
        for req in schema.get("required", []):
            if req not in value:
                errors.add(where, f"{path}.{req}: required field is missing")
        for k, v in value.items():
            sub = f"{path}.{k}"
            if props is not None and k in props:
                check_schema(v, props[k], sub, where, errors)
            elif isinstance(schema.get("additionalProperties"), dict):
                check_schema(v, schema["additionalProperties"], sub, where, errors)
            elif props is not None and not schema.get("x-kubernetes-preserve-unknown-fields") and schema.get("additionalProperties") is not True:
                known = ", ".join(sorted(props))
                errors.add(where, f"{sub}: unknown field (known here: {known})")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.add(where, f"{path}: fewer than {schema['minItems']} items")
        for i, item in enumerate(value):
            check_schema(item, schema["items"], f"{path}[{i}]", where, errors)


# ------------------------------------------------------------------ kustomize, minimally


def load_docs(path: Path, errors: Errors) -> list:
    try:
        return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        errors.add(str(path.relative_to(ROOT)), f"cannot load: {e}")
        return []


def json_pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")] if path != "/" else []


def apply_6902(obj: dict, ops: list, where: str, errors: Errors) -> None:
    for i, op in enumerate(ops):
        kind, path = op.get("op"), op.get("path", "")
        if kind not in {"add", "remove", "replace", "move", "copy", "test"} or not str(path).startswith("/"):
            errors.add(where, f"operation {i}: needs op (add, remove, replace, ...) and a path starting with /")
            continue
        if kind in {"move", "copy", "test"}:
            continue
        if kind in {"add", "replace"} and "value" not in op:
            errors.add(where, f"operation {i} ({kind} {path}): no value")
            continue
        parts = json_pointer(path)
        parent = obj
        try:
            for p in parts[:-1]:
                parent = parent[int(p)] if isinstance(parent, list) else parent[p]
            last = parts[-1]
            if isinstance(parent, list):
                idx = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(idx, copy.deepcopy(op["value"]))
                elif kind == "replace":
                    parent[idx] = copy.deepcopy(op["value"])
                else:
                    del parent[idx]
            else:
                if kind in {"replace", "remove"} and last not in parent:
                    raise KeyError(last)
                if kind == "remove":
                    del parent[last]
                else:
                    parent[last] = copy.deepcopy(op["value"])
        except (KeyError, IndexError, ValueError, TypeError):
            errors.add(where, f"operation {i} ({kind} {path}): the path does not exist in {obj.get('kind')}/{obj.get('metadata', {}).get('name')}")


def merge(base: dict, patch: dict) -> None:
    for k, v in patch.items():
        if v is None:
            base.pop(k, None)
        elif isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)


def labels_match(labels: dict, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        k, _, v = term.partition("=")
        if labels.get(k) != v:
            return False
    return True


def target_matches(obj: dict, target: dict) -> bool:
    group, _, version = obj.get("apiVersion", "").rpartition("/")
    meta = obj.get("metadata", {})
    return (
        ("kind" not in target or target["kind"] == obj.get("kind"))
        and ("group" not in target or target["group"] == group)
        and ("version" not in target or target["version"] == version)
        and ("name" not in target or re.fullmatch(target["name"], meta.get("name", "")) is not None)
        and ("labelSelector" not in target or labels_match(meta.get("labels", {}), target["labelSelector"]))
    )


def build(kdir: Path, errors: Errors, used: set[Path]) -> list[tuple[str, dict]]:
    """Objects of a kustomization (with their source file), patches applied."""
    kfile = kdir / "kustomization.yaml"
    used.add(kfile)
    where = str(kfile.relative_to(ROOT))
    docs = load_docs(kfile, errors)
    if not docs:
        errors.add(where, "missing or empty")
        return []
    k = docs[0]
    if k.get("kind") != "Kustomization":
        errors.add(where, "kind is not Kustomization")
    objects: list[tuple[str, dict]] = []
    for res in k.get("resources", []):
        p = (kdir / res).resolve()
        if p.is_dir():
            objects.extend(build(p, errors, used))
        elif p.is_file():
            used.add(p)
            objects.extend((str(p.relative_to(ROOT)), d) for d in load_docs(p, errors))
        else:
            errors.add(where, f"resource {res} does not exist")
    for i, patch in enumerate(k.get("patches", [])):
        pwhere = f"{where} patches[{i}]"
        if "path" in patch:
            pf = (kdir / patch["path"]).resolve()
            if not pf.is_file():
                errors.add(pwhere, f"patch file {patch['path']} does not exist")
                continue
            used.add(pf)
            pwhere = str(pf.relative_to(ROOT))
            body = load_docs(pf, errors)
            body = body[0] if len(body) == 1 else body
        elif "patch" in patch:
            body = yaml.safe_load(patch["patch"])
        else:
            errors.add(pwhere, "has neither path nor patch")
            continue
        if isinstance(body, list):  # JSON 6902 operations
            target = patch.get("target")
            if not target:
                errors.add(pwhere, "JSON 6902 operations need a target")
                continue
            hits = [o for _, o in objects if target_matches(o, target)]
            if not hits:
                errors.add(pwhere, f"target {target} selects nothing")
            for o in hits:
                apply_6902(o, body, pwhere, errors)
        elif isinstance(body, dict):  # strategic merge of plain maps
            target = patch.get("target") or {"kind": body.get("kind"), "name": re.escape(body.get("metadata", {}).get("name", ""))}
            hits = [o for _, o in objects if target_matches(o, target)]
            if not hits:
                errors.add(pwhere, f"patches {target} which is not a resource of this kustomization")
            for o in hits:
                merge(o, {k2: v for k2, v in body.items() if k2 not in ("apiVersion", "kind")})
        else:
            errors.add(pwhere, "is neither a map nor a list of operations")
    images = {c.get("image") for _, o in objects for c in pod_containers(o)}
    for img in k.get("images", []):
        if img.get("name") not in images:
            errors.add(where, f"images: {img.get('name')} is the image of no container")
        for _, o in objects:
            for c in pod_containers(o):
                if c.get("image") == img.get("name"):
                    c["image"] = f"{img.get('newName', img['name'])}:{img.get('newTag', 'latest')}"
    return objects


def pod_containers(o: dict) -> list[dict]:
    if o.get("kind") != "Deployment":
        return []
    return o.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []) or []


# ------------------------------------------------------------------ checks of built-in kinds


def check_builtins(objects: list[tuple[str, dict]], where_k: str, errors: Errors) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for _, o in objects:
        by_kind.setdefault(o.get("kind", ""), {})[o.get("metadata", {}).get("name", "")] = o
    deployments = by_kind.get("Deployment", {})
    secrets = set(by_kind.get("Secret", {})) | EXTERNAL_SECRETS | {f"{c}-app" for c in by_kind.get("Cluster", {})}

    def pod_labels(d: dict) -> dict:
        return d.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {}) or {}

    def selects_a_deployment(selector: dict) -> bool:
        return bool(selector) and any(all(pod_labels(d).get(k) == v for k, v in selector.items()) for d in deployments.values())

    for name, d in deployments.items():
        w = f"{where_k}: Deployment/{name}"
        spec = d.get("spec", {})
        sel = spec.get("selector", {}).get("matchLabels", {})
        if not sel or any(pod_labels(d).get(k) != v for k, v in sel.items()):
            errors.add(w, "spec.selector.matchLabels does not select the pod template's labels")
        pod = spec.get("template", {}).get("spec", {})
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            errors.add(w, "pod securityContext.runAsNonRoot must be true")
        volumes = {v.get("name"): v for v in pod.get("volumes", []) or []}
        for c in pod.get("containers", []) or []:
            cw = f"{w} container {c.get('name')}"
            if not c.get("image") or not c.get("command"):
                errors.add(cw, "needs an image and a command (one image serves every service)")
            ports = {p.get("containerPort") for p in c.get("ports", []) or []}
            for probe in ("readinessProbe", "livenessProbe"):
                grpc = (c.get(probe) or {}).get("grpc")
                if not grpc:
                    errors.add(cw, f"{probe} must be a gRPC probe")
                elif grpc.get("port") not in ports:
                    errors.add(cw, f"{probe} probes port {grpc.get('port')}, not a container port {sorted(ports)}")
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False:
                errors.add(cw, "securityContext must set readOnlyRootFilesystem: true and allowPrivilegeEscalation: false")
            if not (c.get("resources") or {}).get("requests", {}).get("cpu"):
                errors.add(cw, "needs a CPU request (the HPA scales on CPU utilisation)")
            for ef in c.get("envFrom", []) or []:
                if "configMapRef" in ef and ef["configMapRef"].get("name") not in by_kind.get("ConfigMap", {}):
                    errors.add(cw, f"envFrom ConfigMap {ef['configMapRef'].get('name')} is not defined")
                if "secretRef" in ef and ef["secretRef"].get("name") not in secrets:
                    errors.add(cw, f"envFrom Secret {ef['secretRef'].get('name')} is not defined")
            env = {e.get("name"): e for e in c.get("env", []) or []}
            for e in env.values():
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref.get("name") not in secrets:
                    errors.add(cw, f"env {e.get('name')} reads Secret {ref.get('name')}, which nothing creates")
            for m in c.get("volumeMounts", []) or []:
                if m.get("name") not in volumes:
                    errors.add(cw, f"mounts volume {m.get('name')}, which the pod does not declare")
        for v in volumes.values():
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim not in by_kind.get("PersistentVolumeClaim", {}):
                errors.add(w, f"volume {v.get('name')} claims {claim}, which is not defined")

    for name, s in by_kind.get("Service", {}).items():
        if not selects_a_deployment(s.get("spec", {}).get("selector", {})):
            errors.add(f"{where_k}: Service/{name}", "its selector selects no Deployment's pods")
    for name, h in by_kind.get("HorizontalPodAutoscaler", {}).items():
        spec = h.get("spec", {})
        ref = spec.get("scaleTargetRef", {})
        if ref.get("kind") != "Deployment" or ref.get("name") not in deployments:
            errors.add(f"{where_k}: HorizontalPodAutoscaler/{name}", f"scaleTargetRef {ref} is not a Deployment here")
        if not (1 <= spec.get("minReplicas", 1) <= spec.get("maxReplicas", 0)):
            errors.add(f"{where_k}: HorizontalPodAutoscaler/{name}", "needs 1 <= minReplicas <= maxReplicas")
    for name, p in by_kind.get("PodDisruptionBudget", {}).items():
        spec = p.get("spec", {})
        if not selects_a_deployment(spec.get("selector", {}).get("matchLabels", {})):
            errors.add(f"{where_k}: PodDisruptionBudget/{name}", "selects no Deployment's pods")
        if ("minAvailable" in spec) == ("maxUnavailable" in spec):
            errors.add(f"{where_k}: PodDisruptionBudget/{name}", "needs exactly one of minAvailable and maxUnavailable")
    for name, x in by_kind.get("Exchange", {}).items():
        ref = x.get("spec", {}).get("rabbitmqClusterReference", {}).get("name")
        if ref not in by_kind.get("RabbitmqCluster", {}):
            errors.add(f"{where_k}: Exchange/{name}", f"references RabbitmqCluster {ref}, which is not defined")


# ------------------------------------------------------------------ main


def check_objects(objects: list[tuple[str, dict]], where_k: str, crds: dict, crd_dir: Path | None, errors: Errors) -> int:
    crd_groups = {api.rpartition("/")[0] for api, _ in crds}
    names = set()
    for src, o in objects:
        api, kind = o.get("apiVersion", ""), o.get("kind", "")
        name = (o.get("metadata") or {}).get("name")
        w = f"{where_k}: {kind}/{name} (from {src})"
        if not api or not kind or not name:
            errors.add(w, "needs apiVersion, kind and metadata.name")
            continue
        if (kind, name) in names:
            errors.add(w, "defined twice")
        names.add((kind, name))
        if (api, kind) in crds:
            check_schema(o, crds[(api, kind)], kind, w, errors)
        elif (api, kind) in BUILTIN:
            pass
        elif api.rpartition("/")[0] in crd_groups:
            errors.add(w, f"{api} {kind} is not served by the CRDs in {crd_dir}")
        elif crd_dir is not None or api.rpartition("/")[0] in {"", "apps", "autoscaling", "policy"}:
            errors.add(w, f"{api} {kind} is neither a known built-in kind nor a custom resource of the CRDs")
    check_builtins(objects, where_k, errors)
    return len(objects)


def kubectl_render(kdir: Path, errors: Errors) -> list[tuple[str, dict]] | None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return None
    where = str(kdir.relative_to(ROOT))
    try:
        out = subprocess.run([kubectl, "kustomize", str(kdir)], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        errors.add(where, f"kubectl kustomize could not run: {e}")
        return []
    if out.returncode != 0:
        errors.add(where, f"kubectl kustomize failed: {out.stderr.strip()}")
        return []
    return [(f"kubectl kustomize {where}", d) for d in yaml.safe_load_all(out.stdout) if d]


def main() -> int:
    env_crds = os.environ.get("EGOV_K8S_CRDS")
    crd_dir = Path(env_crds) if env_crds else K8S_DIR / "crds"
    if not crd_dir.is_dir() or not any(crd_dir.glob("*.yaml")):
        print(f"validate.py: FAILED: no CRDs (*.yaml) in {crd_dir} (deploy/k8s/crds, or set EGOV_K8S_CRDS)")
        return 1
    crds = load_crds(crd_dir)
    errors = Errors()
    used: set[Path] = set()
    kustomizations = [K8S_DIR / "base"] + sorted(p for p in (K8S_DIR / "overlays").iterdir() if p.is_dir())
    total = 0
    rendered_by_kubectl = False
    for kdir in kustomizations:
        where_k = str(kdir.relative_to(ROOT))
        objects = build(kdir, errors, used)
        total += check_objects(objects, where_k, crds, crd_dir, errors)
        print(f"validate.py: {where_k}: {len(objects)} objects")
        rendered = kubectl_render(kdir, errors)
        if rendered is not None:
            rendered_by_kubectl = True
            check_objects(rendered, f"{where_k} (kubectl)", crds, crd_dir, errors)
            ours = sorted((o.get("kind", ""), o.get("metadata", {}).get("name", "")) for _, o in objects)
            theirs = sorted((o.get("kind", ""), o.get("metadata", {}).get("name", "")) for _, o in rendered)
            if ours != theirs:
                errors.add(where_k, f"kubectl kustomize renders other objects: {sorted(set(ours) ^ set(theirs))}")
    for f in sorted(list((K8S_DIR / "base").rglob("*.yaml")) + list((K8S_DIR / "overlays").rglob("*.yaml"))):
        if f.resolve() not in used:
            load_docs(f, errors)
            errors.add(str(f.relative_to(ROOT)), "is used by no kustomization (resources or patches)")
    if errors.items:
        for e in errors.items:
            print(f"ERROR {e}")
        print(f"validate.py: {len(errors.items)} problem(s) in the Kubernetes manifests")
        return 1
    schemas = f"against {len(crds)} CRD schemas" if crds else "without CRD schemas"
    how = (
        "as kustomized here and by kubectl kustomize"
        if rendered_by_kubectl
        else "as kustomized here only (kubectl is not installed: the kubectl kustomize pass did not run)"
    )
    print(f"validate.py: OK: {total} objects in {len(kustomizations)} kustomizations checked {schemas}, {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
