// Checks Kubernetes manifests against the Kubernetes API schemas (npm
// kubernetes-models), then against what Distributo needs of them, which no
// schema can see: every Service selects a pod template and names its ports
// after the template's, as probes do; a StatefulSet's serviceName is a
// Service; a worker's
// --master=srv:... names a Service port of these files; a master listening
// on all addresses has TLS or --insecure. Prints a line per object; exits 1
// if any check fails.
//
//   node tests/deploy/validate_kubernetes.js deploy/kubernetes/*.yaml
"use strict";

const fs = require("fs");
const YAML = require("yaml");

// Returns the kubernetes-models class for an object's apiVersion and kind.
function modelOf(object) {
  const [group, version] = object.apiVersion.includes("/")
    ? object.apiVersion.split("/")
    : [null, object.apiVersion];
  const path = group ? `${group}/${version}` : version;
  try {
    return require(`kubernetes-models/${path}/${object.kind}`)[object.kind];
  } catch (error) {
    return null;
  }
}

// Returns the pod template of a workload, or null.
function podTemplateOf(object) {
  const spec = object.spec || {};
  if (object.kind === "CronJob") return spec.jobTemplate.spec.template;
  return spec.template || null;
}

function labelsMatch(selector, labels) {
  return Object.entries(selector || {}).every(([k, v]) => labels[k] === v);
}

// The Distributo checks over every object of every file; returns problems.
function checkTogether(objects) {
  const problems = [];
  const where = (o) => `${o.metadata.namespace || "default"}/${o.kind}/${o.metadata.name}`;
  const services = objects.filter((o) => o.kind === "Service");
  const templates = objects
    .map((o) => ({ owner: o, template: podTemplateOf(o) }))
    .filter((t) => t.template);
  for (const service of services) {
    const selected = templates.filter(
      (t) =>
        t.owner.metadata.namespace === service.metadata.namespace &&
        labelsMatch(service.spec.selector, t.template.metadata.labels || {}),
    );
    if (selected.length === 0) {
      problems.push(`${where(service)}: its selector matches no pod template`);
    }
    for (const port of service.spec.ports) {
      if (typeof port.targetPort !== "string") continue;
      const named = selected.some((t) =>
        t.template.spec.containers.some((c) =>
          (c.ports || []).some((p) => p.name === port.targetPort),
        ),
      );
      if (!named) {
        problems.push(`${where(service)}: no container port named ${port.targetPort}`);
      }
    }
  }
  for (const set of objects.filter((o) => o.kind === "StatefulSet")) {
    const governing = services.find(
      (s) =>
        s.metadata.name === set.spec.serviceName &&
        s.metadata.namespace === set.metadata.namespace,
    );
    if (!governing) {
      problems.push(`${where(set)}: serviceName ${set.spec.serviceName} is no Service here`);
    }
  }
  for (const { owner, template } of templates) {
    for (const container of template.spec.containers) {
      problems.push(...checkContainer(where(owner), container, services));
    }
  }
  return problems;
}

// Checks a container's probes and Distributo flags.
function checkContainer(name, container, services) {
  const problems = [];
  for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    const port = ((container[probe] || {}).httpGet || {}).port;
    if (typeof port === "string" && !(container.ports || []).some((p) => p.name === port)) {
      problems.push(`${name}: ${probe} port ${port} is no port of the container`);
    }
  }
  const args = container.args || [];
  const master = args.find((a) => a.startsWith("--master=srv:"));
  if (master) {
    // _<port>._tcp.<service>.<namespace>.svc.cluster.local
    const match = /^--master=srv:_([^.]+)\._tcp\.([^.]+)\.([^.]+)\.svc\.cluster\.local$/.exec(master);
    const known =
      match &&
      services.some(
        (s) =>
          s.metadata.name === match[2] &&
          s.metadata.namespace === match[3] &&
          s.spec.ports.some((p) => p.name === match[1]),
      );
    if (!known) problems.push(`${name}: ${master} is no Service port of these files`);
  }
  const isMaster = (container.command || []).length === 0 || container.command[0] === "distributo-master";
  const secured = args.includes("--insecure") || args.some((a) => a.startsWith("--tls_cert="));
  if (isMaster && !secured) {
    problems.push(`${name}: the image's master listens on 0.0.0.0 and needs --tls_cert or --insecure`);
  }
  return problems;
}

function main(files) {
  if (files.length === 0) {
    console.error("usage: validate_kubernetes.js FILE.yaml...");
    return 2;
  }
  const objects = [];
  let failed = false;
  for (const file of files) {
    const documents = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
    for (const document of documents) {
      if (document.errors.length > 0) {
        console.log(`FAIL ${file}: ${document.errors[0].message}`);
        failed = true;
        continue;
      }
      const object = document.toJS();
      if (object === null) continue;
      const Model = modelOf(object);
      const name = `${file}: ${object.kind} ${object.metadata && object.metadata.name}`;
      if (!Model) {
        console.log(`FAIL ${name}: unknown apiVersion/kind ${object.apiVersion}/${object.kind}`);
        failed = true;
        continue;
      }
      try {
        new Model(object).validate();
        console.log(`ok   ${name}`);
        objects.push(object);
      } catch (error) {
        console.log(`FAIL ${name}: ${error.message}`);
        failed = true;
      }
    }
  }
  for (const problem of checkTogether(objects)) {
    console.log(`FAIL ${problem}`);
    failed = true;
  }
  return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
