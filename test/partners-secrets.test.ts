/**
 * The partner flags' user errors: one line each, naming the fix, never
 * echoing a key. (That no key reaches any file of a run is in the
 * conformance suite, for every provider, and in partners-run through the CLI.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePartnerSpecs } from '../src/partners';
import { Redactor } from '../src/partners/secrets';
import { UserError } from '../src/util/duration';

const DG = 'dgKEY-7f3a9c1e55aa';

test('URLs and texts are shown without keys: userinfo, token-like params, URL-encoded keys', () => {
  const r = new Redactor();
  r.add('aaiKEY+/=42b8d0e6');
  assert.is(r.url('wss://u:pw@h/v3/ws?sample_rate=16000&token=abc123'), 'wss://h/v3/ws?sample_rate=16000&token=[redacted]');
  assert.is(r.text(`key ${encodeURIComponent('aaiKEY+/=42b8d0e6')} and aaiKEY+/=42b8d0e6`), 'key [redacted] and [redacted]');
});

test('flag errors are one line, name the fix, and never echo a key', () => {
  process.env.T_SEC_DG = DG;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ partner: ['raw'] }, /--partner raw needs --partner-url ws:\/\/HOST:PORT\/PATH/],
    [{ partner: ['deepgram'] }, /needs a key: --partner-key-env VAR or --partner-key-file PATH/],
    [{ partner: ['zoom'] }, /is not a partner - use deepgram, assemblyai, raw, /],
    [{ partner: ['deepgram', 'raw'], 'partner-url': ['ws://127.0.0.1:1/v1/listen'] }, /given 1 times for 2 --partner/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_UNSET_VAR'] }, /T_SEC_UNSET_VAR: the variable is not set or empty/],
    [{ partner: ['deepgram'], 'partner-key-file': ['/nonexistent/key'] }, /cannot read it \(ENOENT\)/],
    [{ partner: ['raw'], 'partner-url': ['http://x/'] }, /must start with ws:\/\/ or wss:\/\//],
    [{ 'partner-url': ['ws://x/'] }, /--partner-url needs --partner NAME/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-param': ['deepgram.encoding=mp3'] }, /encoding=mp3 is not supported/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-buffer': 'lots' }, /--partner-buffer "lots" is not a duration/],
    [{ partner: ['assemblyai'], 'partner-key-env': ['T_SEC_DG'], 'partner-codec': ['opus'] }, /--partner-codec opus: assemblyai takes linear16 only/],
    [{ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-codec': ['mp3'] }, /--partner-codec "mp3" - use opus or linear16/],
  ];
  for (const [values, re] of cases) {
    try {
      parsePartnerSpecs(values as never);
      assert.unreachable(`accepted ${JSON.stringify(values)}`);
    } catch (err) {
      assert.instance(err, UserError);
      assert.match((err as Error).message, re);
      assert.not.match((err as Error).message, /\n/);
      assert.not.ok((err as Error).message.includes(DG));
    }
  }
  const [spec] = parsePartnerSpecs({ partner: ['deepgram'], 'partner-key-env': ['T_SEC_DG'], 'partner-param': ['model=nova-2', 'deepgram.language=de'] });
  assert.is(spec!.url, 'wss://api.deepgram.com/v1/listen');
  assert.equal(spec!.params, { model: 'nova-2', language: 'de' });
  assert.is(spec!.bufferMs, 120_000);
});

test.run();
