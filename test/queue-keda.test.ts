/**
 * docker/k8s/meeting-scaledjob.yaml against KEDA's own schema (@kubernetes-models/keda, made from
 * KEDA's CRDs): the ScaledJob scales on the queue's depth (the lists src/queue names, waiting plus
 * leased, summed), never on CPU, and runs bots configured for the queue.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT } from '../src/paths';
import { ACTIVE_LIST, WAIT_LIST } from '../src/queue/connection';

const MANIFEST = join(ROOT, 'docker', 'k8s', 'meeting-scaledjob.yaml');
// The package is ESM-only; under "module": "commonjs" tsc would turn import() into require().
type Model = new (data: unknown) => { validate(): void };
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, Model>>;

type Doc = Record<string, any>;
const docs = (): Doc[] => YAML.parseAllDocuments(readFileSync(MANIFEST, 'utf8')).map((d) => d.toJS() as Doc);

test('the ScaledJob and its TriggerAuthentication are valid against KEDA schema, and a broken one is not', async () => {
  const { ScaledJob, TriggerAuthentication } = (await importEsm('@kubernetes-models/keda/keda.sh/v1alpha1')) as Record<'ScaledJob' | 'TriggerAuthentication', Model>;
  const [auth, job] = docs();
  assert.is(auth!.kind, 'TriggerAuthentication');
  assert.is(job!.kind, 'ScaledJob');
  new TriggerAuthentication(auth).validate();
  new ScaledJob(job).validate();

  const broken = (mutate: (d: Doc) => void) => {
    const d = structuredClone(job!);
    mutate(d);
    return () => new ScaledJob(d).validate();
  };
  assert.throws(broken((d) => (d.spec.pollingInterval = 'often')));
  assert.throws(broken((d) => delete d.spec.triggers[0].type));
  assert.throws(broken((d) => (d.spec.jobTargetRef.template.spec.containers[0].image = 5)));
});

test('it scales on meetings waiting plus leased, summed, one bot per meeting, never on CPU', () => {
  const spec = docs()[1]!.spec;
  const triggers = spec.triggers as Doc[];
  assert.equal(triggers.map((t) => t.type), ['redis', 'redis']);
  assert.equal(triggers.map((t) => t.metadata.listName), [WAIT_LIST, ACTIVE_LIST]);
  for (const t of triggers) {
    assert.is(t.metadata.listLength, '1');
    assert.is(t.authenticationRef.name, 'earshot-queue');
    // KEDA's redis scaler parameters, as documented for lists.
    for (const k of Object.keys(t.metadata)) assert.ok(['address', 'databaseIndex', 'listName', 'listLength', 'activationListLength', 'enableTLS'].includes(k), k);
  }
  assert.is(spec.scalingStrategy.multipleScalersCalculation, 'sum');
  assert.not.ok(JSON.stringify(spec.triggers).includes('cpu'));
  assert.is(spec.jobTargetRef.backoffLimit, 0, 'the queue hands meetings over, not Job retries');
});

test('its bots take their meeting from the queue, read-only, non-root, keys and password from files', () => {
  const pod = docs()[1]!.spec.jobTargetRef.template.spec;
  const c = pod.containers[0];
  const env = Object.fromEntries((c.env as Doc[]).map((e) => [e.name, e.value]));
  assert.match(env.EARSHOT_QUEUE, /^redis:\/\/[^@]+$/, 'no password in the URL');
  assert.ok(env.EARSHOT_QUEUE_PASSWORD_FILE);
  assert.is(env.EARSHOT_MEETINGS, '1');
  for (const name of ['MEETING_ID', 'EARSHOT_INPUT', 'EARSHOT_PARTNERS']) assert.not.ok(name in env, `${name} comes from the queue`);
  assert.is(c.securityContext.readOnlyRootFilesystem, true);
  assert.is(pod.securityContext.runAsUser, 10001);
  assert.equal(c.volumeMounts.map((m: Doc) => m.mountPath).sort(), ['/recordings', '/run/secrets/earshot', '/run/secrets/earshot-queue', '/tmp', '/var/log/earshot']);
});

test.run();
