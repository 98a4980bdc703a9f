/**
 * `earshot partner --protocol NAME --port N [--fault SPEC ...]`:
 * a local partner emulator on 127.0.0.1, to try earshot without keys and to
 * rehearse outages (see src/partners/emulator/faults.ts for the fault plan).
 */
import { parseFlags } from './args';
import { startEmulator } from '../partners/emulator';
import { FAULT_USAGE, parseFaults } from '../partners/emulator/faults';
import { PROVIDERS, providerList, providerNamed } from '../partners/registry';
import { UserError } from '../util/duration';

const USAGE = `usage: earshot partner --protocol NAME [--port N] [--fault SPEC ...]

  --protocol P     ${PROVIDERS.map((p) => `${p.name}${p.emulator.path ? ` (${p.emulator.path})` : ''}`).join(', ')}
  --port N         port on 127.0.0.1 (default 8765; 0 picks a free one)
  --key-env VAR    accept only the key in env VAR (default: any non-empty key)
  --fault SPEC     ${FAULT_USAGE}
  --quiet          do not log sessions to stderr`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags('partner', argv, {
    protocol: { type: 'string' },
    port: { type: 'string', default: '8765' },
    'key-env': { type: 'string' },
    fault: { type: 'string', multiple: true },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const protocol = values.protocol;
  if (!protocol || !providerNamed(protocol)) throw new UserError(`--protocol must be ${providerList()}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port ${values.port} is not a port - use 0-65535`);
  let key: string | undefined;
  if (values['key-env']) {
    key = process.env[values['key-env']];
    if (!key) throw new UserError(`--key-env ${values['key-env']}: the variable is not set or empty`);
  }
  const faults = parseFaults(values.fault ?? []);
  const quiet = values.quiet;
  let emu;
  try {
    emu = await startEmulator({
      protocol,
      port,
      key,
      faults,
      onLog: quiet ? undefined : (line) => process.stderr.write(`earshot partner: ${line}\n`),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UserError(`port ${port} is in use - pick another with --port`);
    throw err;
  }
  process.stdout.write(`earshot partner: ${protocol} emulator listening on ${emu.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emu.close();
  return 0;
}
