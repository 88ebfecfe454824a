// Offline checks of Kubernetes manifests for deploy/check.sh. The commands:
//
//   validate FILE...          every document against the Kubernetes schemas (kubernetes-models,
//                             and the Prometheus Operator's for ServiceMonitor)
//   policy FILE...            the broker's security rules: every container non-root with a numeric
//                             user, read-only root filesystem, no capabilities, no privilege
//                             escalation, seccomp RuntimeDefault; the broker's containers carry the
//                             startup, liveness and readiness probes on /q/health/* on the
//                             management port, not the API port, and a memory request equal to the
//                             limit; ServiceMonitors scrape the management port; NetworkPolicies let
//                             no one in without naming them, and the management port only to
//                             peers that are not the API's callers; no service-account token but
//                             the one projected for Vault; no Secret and no secret-looking setting
//   values-doc VALUES.yaml README.md
//                             every value in the chart's values.yaml has a row (itself or a parent)
//                             in the README's parameters table
//   pod-config RENDER.yaml ROOT
//                             lays out the broker container's configuration as its pod would see
//                             it, below ROOT: each ConfigMap volume's files at ROOT + its mount path;
//                             prints the container's environment, one NAME=VALUE per line, with
//                             values that are paths into a volume moved below ROOT too
//   drift CHART.yaml KUSTOMIZE.yaml
//                             the chart's rendering and an overlay's kustomize build describe the
//                             same objects, after normalising what legitimately differs
//   walkthrough README.md     prints the shell commands of the README's "Deploying" section (its
//                             ```shell blocks; continuation lines joined, comments dropped), one a
//                             line, for deploy/check.sh to run in render-only form
//   vault-access DIR ROLE PATH...
//                             reads what deploy/vault/setup-kubernetes-auth.sh wrote with DRY_RUN=DIR
//                             (DIR/roles/ROLE, DIR/policies/*.hcl) and prints, for each PATH, the
//                             capabilities the role's policies grant on it ("PATH cap,cap" or
//                             "PATH -"), taking the union of every rule that matches (Vault grants
//                             at most that); fails when a policy file has anything but path rules,
//                             or the role keeps Vault's default policy or aliases by name
//
// Exits 1 with one line per problem.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import yaml from "js-yaml";

const PROBES = {
  startupProbe: "/q/health/started",
  livenessProbe: "/q/health/live",
  readinessProbe: "/q/health/ready",
};
// Property keys that would carry a secret: none belongs in a ConfigMap or an env var.
const SECRET_KEY = /(secret|password|client-token|private-key|credentials-provider|(^|[._-])token$)/i;

function load(file) {
  return yaml
    .loadAll(readFileSync(file, "utf8"))
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc) => ({ file, doc }));
}

function describe({ file, doc }) {
  return `${file}: ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
}

// ---- validate ---------------------------------------------------------------------------------

async function modelFor(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  let module;
  if (group === "monitoring.coreos.com") {
    module = await import(`@kubernetes-models/prometheus-operator/${group}/${version}`);
  } else {
    module = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  }
  return module[kind];
}

async function validate(docs) {
  const problems = [];
  for (const entry of docs) {
    const { doc } = entry;
    if (!doc.apiVersion || !doc.kind) {
      problems.push(`${describe(entry)}: no apiVersion or kind`);
      continue;
    }
    let Model;
    try {
      Model = await modelFor(doc.apiVersion, doc.kind);
    } catch {
      Model = undefined;
    }
    if (!Model) {
      problems.push(`${describe(entry)}: no schema for ${doc.apiVersion} ${doc.kind}`);
      continue;
    }
    try {
      new Model(doc).validate();
    } catch (e) {
      problems.push(`${describe(entry)}: ${String(e.message).split("\n").join("; ")}`);
    }
  }
  return problems;
}

// ---- policy -----------------------------------------------------------------------------------

function podSpecOf(doc) {
  if (doc.kind === "Pod") return doc.spec;
  if (["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(doc.kind)) {
    return doc.spec?.template?.spec;
  }
  if (doc.kind === "CronJob") return doc.spec?.jobTemplate?.spec?.template?.spec;
  return undefined;
}

function isHelmTest(doc) {
  return String(doc.metadata?.annotations?.["helm.sh/hook"] ?? "").split(",").includes("test");
}

function checkContainer(where, pod, container, problems) {
  const c = container.securityContext ?? {};
  const p = pod.securityContext ?? {};
  const effective = (key) => (c[key] !== undefined ? c[key] : p[key]);
  const at = `${where} container ${container.name}`;
  if (effective("runAsNonRoot") !== true) problems.push(`${at}: runAsNonRoot is not true`);
  const user = effective("runAsUser");
  if (!Number.isInteger(user) || user <= 0) problems.push(`${at}: runAsUser is not a numeric non-root user`);
  if (c.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
  if (c.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
  if (c.privileged === true) problems.push(`${at}: privileged`);
  const drop = c.capabilities?.drop ?? [];
  if (!drop.includes("ALL")) problems.push(`${at}: capabilities do not drop ALL`);
  if ((c.capabilities?.add ?? []).length > 0) problems.push(`${at}: adds capabilities`);
  const seccomp = c.seccompProfile?.type ?? p.seccompProfile?.type;
  if (seccomp !== "RuntimeDefault") problems.push(`${at}: seccompProfile is not RuntimeDefault`);
  if (!container.resources?.requests?.cpu || !container.resources?.requests?.memory) {
    problems.push(`${at}: no cpu and memory requests`);
  }
  if (!container.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
  for (const env of container.env ?? []) {
    if (env.value !== undefined && SECRET_KEY.test(env.name)) {
      problems.push(`${at}: env ${env.name} holds a literal value that looks like a secret`);
    }
  }
}

function checkBroker(where, pod, container, problems) {
  const at = `${where} container ${container.name}`;
  const ports = container.ports ?? [];
  const management = ports.find((p) => p.name === "management");
  if (!management) problems.push(`${at}: no container port named management (probes, metrics)`);
  for (const [probe, path] of Object.entries(PROBES)) {
    const get = container[probe]?.httpGet;
    if (!get) problems.push(`${at}: no ${probe}`);
    else if (get.path !== path) problems.push(`${at}: ${probe} asks ${get.path}, not ${path}`);
    else if (get.port !== "management" && get.port !== management?.containerPort) {
      problems.push(`${at}: ${probe} asks port ${get.port}, not the management port`);
    }
  }
  const memory = container.resources ?? {};
  if (String(memory.requests?.memory) !== String(memory.limits?.memory)) {
    problems.push(`${at}: memory request ${memory.requests?.memory} differs from the limit ${memory.limits?.memory} (the JVM sizes its heap from the limit)`);
  }
  const mounts = container.volumeMounts ?? [];
  const tmp = mounts.find((m) => m.mountPath === "/tmp");
  const tmpVolume = tmp && (pod.volumes ?? []).find((v) => v.name === tmp.name);
  if (!tmpVolume?.emptyDir) problems.push(`${at}: no emptyDir at /tmp (the root filesystem is read-only)`);
}

function checkPodIdentity(where, pod, problems) {
  if (pod.automountServiceAccountToken !== false) {
    problems.push(`${where}: automountServiceAccountToken is not false`);
  }
  const tokens = (pod.volumes ?? []).flatMap((v) =>
    (v.projected?.sources ?? []).filter((s) => s.serviceAccountToken).map((s) => s.serviceAccountToken),
  );
  return tokens;
}

function policy(docs) {
  const problems = [];
  for (const entry of docs) {
    const { doc } = entry;
    const where = describe(entry);
    if (doc.kind === "Secret") problems.push(`${where}: a Secret; secrets belong in Vault`);
    if (doc.kind === "ServiceAccount" && doc.automountServiceAccountToken !== false) {
      problems.push(`${where}: automountServiceAccountToken is not false`);
    }
    if (doc.kind === "ConfigMap") {
      for (const [name, text] of Object.entries(doc.data ?? {})) {
        if (!name.endsWith(".properties")) continue;
        for (const key of Object.keys(parseProperties(text))) {
          if (SECRET_KEY.test(key)) problems.push(`${where}: ${name} sets ${key}, which would hold a secret`);
        }
      }
    }
    if (doc.kind === "ServiceMonitor") {
      for (const endpoint of doc.spec?.endpoints ?? []) {
        if (endpoint.port !== "management") problems.push(`${where}: scrapes port ${endpoint.port}, not management`);
      }
    }
    if (doc.kind === "NetworkPolicy") {
      for (const [i, rule] of (doc.spec?.ingress ?? []).entries()) {
        if (!rule.from?.length) problems.push(`${where}: ingress rule ${i} lets everyone in`);
        if (!rule.ports?.length) problems.push(`${where}: ingress rule ${i} opens every port`);
        const names = (rule.ports ?? []).map((p) => p.port);
        if (names.includes("http") && names.includes("management")) {
          problems.push(`${where}: ingress rule ${i} opens the API and the management port to the same peers`);
        }
      }
    }
    const pod = podSpecOf(doc);
    if (!pod) continue;
    for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
      checkContainer(where, pod, container, problems);
      // probes and /tmp: the long-running broker; a `helm test` pod runs once and exits
      if (!isHelmTest(doc)) checkBroker(where, pod, container, problems);
    }
    const tokens = checkPodIdentity(where, pod, problems);
    if (!isHelmTest(doc)) {
      if (tokens.length !== 1) {
        problems.push(`${where}: ${tokens.length} projected service-account tokens; exactly one (for Vault) expected`);
      } else if (!tokens[0].audience) {
        problems.push(`${where}: the projected service-account token has no audience`);
      }
    } else if (tokens.length > 0) {
      problems.push(`${where}: the test pod mounts a service-account token`);
    }
  }
  return problems;
}

// ---- drift ------------------------------------------------------------------------------------

function parseProperties(text) {
  const props = {};
  for (const raw of String(text).split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("!")) continue;
    const at = line.indexOf("=");
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    props[key] = at < 0 ? "" : line.slice(at + 1).trim();
  }
  return props;
}

// What may differ between the chart and kustomize without changing what runs.
const TOOL_LABELS = ["helm.sh/chart", "app.kubernetes.io/managed-by"];
const TOOL_ANNOTATIONS = ["checksum/config"];
// kustomize's configMapGenerator appends a content hash to the ConfigMap's name
const GENERATED_NAME = /^(.*-config)-[a-z0-9]{10}$/;

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys(value[k])]),
    );
  }
  return value;
}

function normalise(doc) {
  const copy = JSON.parse(JSON.stringify(doc));
  const strip = (meta) => {
    if (!meta) return;
    for (const l of TOOL_LABELS) delete meta.labels?.[l];
    for (const a of TOOL_ANNOTATIONS) delete meta.annotations?.[a];
    if (meta.annotations && Object.keys(meta.annotations).length === 0) delete meta.annotations;
  };
  strip(copy.metadata);
  strip(copy.spec?.template?.metadata);
  if (copy.kind === "ConfigMap") {
    copy.metadata.name = copy.metadata.name.replace(GENERATED_NAME, "$1");
    for (const [name, text] of Object.entries(copy.data ?? {})) {
      if (name.endsWith(".properties")) copy.data[name] = parseProperties(text);
    }
  }
  for (const volume of podSpecOf(copy)?.volumes ?? []) {
    if (volume.configMap?.name) volume.configMap.name = volume.configMap.name.replace(GENERATED_NAME, "$1");
  }
  return sortKeys(copy);
}

function differences(a, b, path = "") {
  if (isDeepStrictEqual(a, b)) return [];
  const bothObjects = a && b && typeof a === "object" && typeof b === "object";
  if (!bothObjects || Array.isArray(a) !== Array.isArray(b)) {
    return [`${path || "/"}: chart ${JSON.stringify(a)} | deploy ${JSON.stringify(b)}`];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences(a[k], b[k], `${path}/${k}`));
}

function drift(chartDocs, kustomizeDocs) {
  const key = (doc) => `${doc.kind}/${doc.metadata?.namespace ?? ""}/${doc.metadata?.name}`;
  const index = (docs) => new Map(docs.map(({ doc }) => normalise(doc)).map((doc) => [key(doc), doc]));
  // `helm test` pods exist only in the chart
  const chart = index(chartDocs.filter(({ doc }) => !isHelmTest(doc)));
  const deploy = index(kustomizeDocs);
  const problems = [];
  for (const [k, doc] of chart) {
    if (!deploy.has(k)) problems.push(`${k}: rendered by the chart, missing from deploy/`);
    else problems.push(...differences(doc, deploy.get(k)).map((d) => `${k} ${d}`));
  }
  for (const k of deploy.keys()) {
    if (!chart.has(k)) problems.push(`${k}: in deploy/, not rendered by the chart`);
  }
  return problems;
}

// ---- values-doc ------------------------------------------------------------------------------

function leaves(value, path = "") {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  }
  return [path];
}

function valuesDoc(valuesFile, readmeFile) {
  const values = yaml.load(readFileSync(valuesFile, "utf8"));
  const readme = readFileSync(readmeFile, "utf8");
  const table = readme.split(/^## Parameters$/m)[1]?.split(/^## /m)[0] ?? "";
  const documented = new Set();
  for (const row of table.split("\n").filter((l) => l.startsWith("| `"))) {
    let last = "";
    for (const [, token] of row.split("|")[1].matchAll(/`([^`]+)`/g)) {
      // `a.b.c`, `.d` in one cell means a.b.c and a.b.d
      const full = token.startsWith(".") ? last.slice(0, last.lastIndexOf(".")) + token : token;
      documented.add(full);
      last = full;
    }
  }
  const covered = (path) => {
    const parts = path.split(".");
    return parts.some((_, i) => documented.has(parts.slice(0, i + 1).join(".")));
  };
  return leaves(values)
    .filter((path) => !covered(path))
    .map((path) => `${readmeFile}: no row in the parameters table for ${path}`);
}

// ---- pod-config -------------------------------------------------------------------------------

function podConfig(docs, root) {
  const find = (kind, name) => docs.find(({ doc }) => doc.kind === kind && (!name || doc.metadata?.name === name));
  const deployment = find("Deployment");
  if (!deployment) return { problems: ["no Deployment rendered"] };
  const pod = podSpecOf(deployment.doc);
  const container = pod.containers.find((c) => c.name === "broker");
  if (!container) return { problems: ["no container named broker"] };
  const problems = [];
  const mounts = container.volumeMounts ?? [];
  for (const mount of mounts) {
    const volume = (pod.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.configMap) continue;
    const configMap = find("ConfigMap", volume.configMap.name);
    if (!configMap) {
      problems.push(`ConfigMap ${volume.configMap.name} is mounted but not rendered`);
      continue;
    }
    mkdirSync(root + mount.mountPath, { recursive: true });
    for (const [file, text] of Object.entries(configMap.doc.data ?? {})) {
      writeFileSync(`${root}${mount.mountPath}/${file}`, text);
    }
  }
  const lines = [];
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (valueFrom) {
      problems.push(`env ${name} comes from elsewhere (valueFrom): not laid out`);
      continue;
    }
    const inVolume = mounts.some((m) => String(value).startsWith(`${m.mountPath}/`));
    if (String(value).includes("\n")) problems.push(`env ${name} has a line break`);
    lines.push(`${name}=${inVolume ? root + value : value}`);
  }
  return { problems, lines };
}

// ---- vault-access -----------------------------------------------------------------------------

// The rules of one policy file: `path "PATTERN" { capabilities = [...] }` blocks, nothing else.
function parsePolicy(file, problems) {
  const text = readFileSync(file, "utf8").replace(/#[^\n]*/g, "");
  const rule = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
  const rules = [...text.matchAll(rule)].map(([, pattern, caps]) => ({
    pattern,
    capabilities: [...caps.matchAll(/"([^"]+)"/g)].map((m) => m[1]),
  }));
  if (text.replace(rule, "").trim() !== "") problems.push(`${file}: holds something other than path rules`);
  return rules;
}

// Vault's path patterns: a trailing * matches any suffix, + matches one path segment.
function matches(pattern, path) {
  const glob = pattern.endsWith("*");
  const body = glob ? pattern.slice(0, -1) : pattern;
  const regex = body
    .split("+")
    .map((part) => part.replace(/[.*?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/]+");
  return new RegExp(`^${regex}${glob ? ".*" : ""}$`).test(path);
}

function vaultAccess(dir, role, paths) {
  const problems = [];
  const roleFile = `${dir}/roles/${role}`;
  if (!existsSync(roleFile)) return { problems: [`no role ${role} in ${dir}/roles`], lines: [] };
  const settings = Object.fromEntries(
    readFileSync(roleFile, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  if (settings.token_no_default_policy !== "true") problems.push(`role ${role}: keeps Vault's default policy`);
  if (settings.alias_name_source !== "serviceaccount_uid") problems.push(`role ${role}: alias_name_source is not serviceaccount_uid`);
  const rules = (settings.token_policies ?? "")
    .split(",")
    .filter(Boolean)
    .flatMap((name) => {
      const file = `${dir}/policies/${name}.hcl`;
      if (!existsSync(file)) {
        problems.push(`role ${role}: policy ${name} was not written`);
        return [];
      }
      return parsePolicy(file, problems);
    });
  const lines = paths.map((path) => {
    const caps = new Set(rules.filter((r) => matches(r.pattern, path)).flatMap((r) => r.capabilities));
    return `${path} ${caps.size ? [...caps].sort().join(",") : "-"}`;
  });
  return { problems, lines };
}

// ---- walkthrough ------------------------------------------------------------------------------

function walkthrough(readmeFile) {
  const readme = readFileSync(readmeFile, "utf8");
  const section = readme.split(/^## Deploying$/m)[1]?.split(/^## /m)[0];
  if (!section) return { problems: [`${readmeFile}: no "## Deploying" section`], lines: [] };
  const commands = [];
  for (const [, block] of section.matchAll(/^ *```shell\n([\s\S]*?)^ *```$/gm)) {
    let pending = "";
    for (const raw of block.split("\n")) {
      const line = raw.trim();
      if (!pending && (line === "" || line.startsWith("#"))) continue;
      if (line.endsWith("\\")) {
        pending += line.slice(0, -1).trim() + " ";
        continue;
      }
      commands.push((pending + line).replace(/\s+#\s.*$/, "").trim());
      pending = "";
    }
  }
  return { problems: [], lines: commands };
}

// ---- main -------------------------------------------------------------------------------------

const [command, ...files] = process.argv.slice(2);
let problems;
if (command === "validate") {
  problems = await validate(files.flatMap(load));
} else if (command === "policy") {
  problems = policy(files.flatMap(load));
} else if (command === "values-doc" && files.length === 2) {
  problems = valuesDoc(files[0], files[1]);
} else if (command === "pod-config" && files.length === 2) {
  const laidOut = podConfig(load(files[0]), files[1]);
  problems = laidOut.problems;
  if (problems.length === 0) console.log(laidOut.lines.join("\n"));
} else if (command === "walkthrough" && files.length === 1) {
  const found = walkthrough(files[0]);
  problems = found.problems;
  if (found.lines.length) console.log(found.lines.join("\n"));
} else if (command === "vault-access" && files.length >= 3) {
  const access = vaultAccess(files[0], files[1], files.slice(2));
  problems = access.problems;
  console.log(access.lines.join("\n"));
} else if (command === "drift" && files.length === 2) {
  problems = drift(load(files[0]), load(files[1]));
} else {
  console.error(
    "usage: check-manifests.mjs validate FILE... | policy FILE... | values-doc VALUES README | pod-config RENDER ROOT | drift CHART KUSTOMIZE | walkthrough README | vault-access DIR ROLE PATH...",
  );
  process.exit(2);
}
for (const p of problems) console.error(`  ${p}`);
if (problems.length > 0) process.exit(1);
