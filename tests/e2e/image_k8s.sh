#!/usr/bin/env bash
# The Kubernetes manifests of ci/k8s/, checked structurally without a cluster: kubectl's
# client-side dry-run still asks an API server for its resource list, so the manifests
# are read with python3-yaml and held to what the Jobs need (docs/distributed.md):
#   - every document has apiVersion, kind, metadata.name; the kinds are ours;
#   - an Indexed Job has completions == parallelism == the N of TP_SHARD "$(SHARD_INDEX)/N",
#     SHARD_INDEX read from the job-completion-index annotation before TP_SHARD uses it,
#     restartPolicy Never and backoffLimit 0 (a retried shard would send its part twice);
#   - every $(VAR) in args and env values is defined earlier in the container's env;
#   - every volumeMount names a volume of the pod, every claim and ConfigMap one of ours;
#   - pods run as non-root (runAsNonRoot, the image's uid 10001), no privilege escalation;
#   - shards write /results/shard-$(SHARD_INDEX)..., what `report merge /results` reads;
#   - the containers' arguments are accepted by this binary (run with --help appended).
. "$(dirname "$0")/lib.sh"

K8S="$TP_ROOT/ci/k8s"
need_cmd python3 "kubernetes manifests parse" || finish
if ! python3 -c 'import yaml' 2>/dev/null; then
	if [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then
		not_ok "kubernetes manifests parse" "python3-yaml is not installed (make deps installs it)"
	else
		skip "kubernetes manifests parse" "python3-yaml is not installed (make deps installs it)"
	fi
	finish
fi

cat >"$T/check.py" <<'PY'
import glob, os, re, sys, yaml
k8s, argsdir = sys.argv[1], sys.argv[2]
os.makedirs(argsdir, exist_ok=True)
problems, docs = [], []
for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
    for d in yaml.safe_load_all(open(path)):
        if d is not None:
            docs.append((os.path.basename(path), d))
def bad(where, what):
    problems.append(f"{where}: {what}")
names = {}
for f, d in docs:
    for key in ("apiVersion", "kind"):
        if not isinstance(d.get(key), str):
            bad(f, f"no {key}")
    name = (d.get("metadata") or {}).get("name")
    if not name:
        bad(f, "no metadata.name")
    names.setdefault(d.get("kind"), set()).add(name)
    if (d.get("kind"), d.get("apiVersion")) not in {("Job", "batch/v1"), ("PersistentVolumeClaim", "v1"),
                                                   ("ConfigMap", "v1")}:
        bad(f, f"unexpected {d.get('apiVersion')} {d.get('kind')}")
var = re.compile(r"\$\((\w+)\)")
indexed = 0
for f, d in docs:
    if d.get("kind") == "PersistentVolumeClaim" and "ReadWriteMany" not in d["spec"].get("accessModes", []):
        bad(f, "the results volume must be ReadWriteMany (shards run on many nodes)")
    if d.get("kind") != "Job":
        continue
    spec, pod = d["spec"], d["spec"]["template"]["spec"]
    where = f"{f} {d['metadata']['name']}"
    if pod.get("restartPolicy") != "Never" or spec.get("backoffLimit") != 0:
        bad(where, "want restartPolicy Never and backoffLimit 0")
    sc = pod.get("securityContext") or {}
    if sc.get("runAsNonRoot") is not True or sc.get("runAsUser") != 10001:
        bad(where, "want runAsNonRoot and runAsUser 10001 (the image's user)")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for v in volumes.values():
        claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in names.get("PersistentVolumeClaim", set()):
            bad(where, f"claim {claim} is not in ci/k8s")
        cm = (v.get("configMap") or {}).get("name")
        if cm and cm not in names.get("ConfigMap", set()):
            bad(where, f"ConfigMap {cm} is not in ci/k8s")
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        cw = f"{where} container {c['name']}"
        if not str(c.get("image", "")).startswith("tunnelprobe:"):
            bad(cw, "not the tunnelprobe image")
        if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
            bad(cw, "allowPrivilegeEscalation must be false")
        for m in c.get("volumeMounts", []):
            if m["name"] not in volumes:
                bad(cw, f"mounts {m['name']}, which the pod does not have")
        env, values = [], {}
        for e in c.get("env", []):
            for v in var.findall(str(e.get("value", ""))):
                if v not in env:
                    bad(cw, f"env {e['name']} uses $({v}) before it is defined")
            env.append(e["name"])
            values[e["name"]] = e.get("value")
        args = [str(a) for a in c.get("args", [])]
        for a in args:
            for v in var.findall(a):
                if v not in env:
                    bad(cw, f"args use $({v}), which env does not define")
        if spec.get("completionMode") == "Indexed":
            indexed += 1
            n = spec.get("completions")
            if not isinstance(n, int) or n < 1 or spec.get("parallelism") != n:
                bad(where, "want completions == parallelism")
            ref = next((e for e in c.get("env", []) if e["name"] == "SHARD_INDEX"), {})
            path = ((ref.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if path != "metadata.annotations['batch.kubernetes.io/job-completion-index']":
                bad(cw, "SHARD_INDEX must come from the job-completion-index annotation")
            if values.get("TP_SHARD") != f"$(SHARD_INDEX)/{n}":
                bad(cw, f"TP_SHARD is {values.get('TP_SHARD')!r}, want '$(SHARD_INDEX)/{n}' (N = completions)")
            if not any(a.startswith("/results/shard-$(SHARD_INDEX)") for a in args):
                bad(cw, "the shard's output is not /results/shard-$(SHARD_INDEX)...")
        # the arguments as the pod would run them, for this binary to check
        sub = {k: v for k, v in values.items() if v is not None}
        sub["SHARD_INDEX"] = "0"
        expand = lambda s: var.sub(lambda m: sub.get(m.group(1), m.group(0)), s)
        with open(os.path.join(argsdir, f"{d['metadata']['name']}.{c['name']}"), "w") as out:
            out.write(expand(values.get("TP_SHARD") or "") + "\n")
            out.write("\n".join(expand(a) for a in args) + "\n")
if indexed < 2:
    bad("ci/k8s", f"{indexed} Indexed Job containers, want the probe and the scenario Jobs")
print("\n".join(problems) if problems else f"ok: {len(docs)} documents")
PY
python3 "$T/check.py" "$K8S" "$T/args" >"$T/check.out" 2>&1
expect_eq "ci/k8s manifests: Indexed Jobs, shards, volumes, env and security as required" \
	"$(cat "$T/check.out")" "ok: 5 documents"

# The checks catch what they are for: each a copy of ci/k8s with one thing wrong.
broken() { # NAME FILE SED-EXPR WANT-IN-MESSAGE
	rm -rf "$T/broken" && cp -r "$K8S" "$T/broken"
	sed -i "$3" "$T/broken/$2"
	python3 "$T/check.py" "$T/broken" "$T/broken-args" >"$T/broken.out" 2>&1
	if grep -q "$4" "$T/broken.out"; then ok "the check catches $1"; else not_ok "the check catches $1" "$(head -3 "$T/broken.out")"; fi
}
broken "a shard count that disagrees with completions" probe-job.yaml 's|(SHARD_INDEX)/4|(SHARD_INDEX)/5|' "want '\$(SHARD_INDEX)/4'"
broken "parallelism unlike completions" scenario-job.yaml 's|parallelism: 4|parallelism: 2|' "want completions == parallelism"
broken "a retried shard" probe-job.yaml 's|backoffLimit: 0|backoffLimit: 3|' "backoffLimit 0"
broken "a root pod" merge-job.yaml 's|runAsNonRoot: true|runAsNonRoot: false|' "runAsNonRoot"
broken "an undefined variable" probe-job.yaml 's|--run-id|--label|; s|\$(RUN_NAME)$|$(RUN)|' "RUN), which env does not define"
broken "a missing volume" merge-job.yaml 's|claimName: tunnelprobe-results|claimName: other|' "claim other is not in ci/k8s"

# Each container's arguments against this binary: --help appended, so every option
# before it is parsed (an unknown one is exit 2) and nothing runs.
for f in "$T"/args/*; do
	name=$(basename "$f")
	mapfile -t a <"$f"
	shard=${a[0]}
	TP_SHARD=$shard "$TP_BIN" "${a[@]:1}" --help >/dev/null 2>"$T/$name.err"
	expect_eq "$name: this binary accepts the manifest's arguments" "$? $(head -c 200 "$T/$name.err")" "0 "
done

# The documented dry-run, where it can work: only with a reachable API server.
if command -v kubectl >/dev/null && timeout 10 kubectl version >/dev/null 2>&1; then
	check "kubectl client dry-run accepts ci/k8s" kubectl apply --dry-run=client -f "$K8S" -o name
else
	skip "kubectl client dry-run of ci/k8s" "kubectl needs an API server for its resource list (none here; the YAML checks above stand in)"
fi
finish
