#!/usr/bin/env node
/**
 * The `earshot` command: one module per subcommand, loaded on demand so that
 * `earshot detect` never pays for the real-time path and vice versa.
 */
import { EarshotError, UserError } from '../errors';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  run: { summary: 'ingest, encode, record and stream one meeting (or take meetings from a queue)', load: () => import('./run') },
  enqueue: { summary: 'put a meeting into the fleet\'s queue, for the next bot to take', load: () => import('./enqueue') },
  detect: { summary: 'find clicks, dropouts, splices, repeats and clipping in recordings', load: () => import('./detect') },
  repro: { summary: 'reproduce the serial-console logging stall, side by side with the fix', load: () => import('./repro') },
  doctor: { summary: 'check this host for the hazards that make meeting audio pop', load: () => import('./doctor') },
  partner: { summary: 'run a local partner emulator (deepgram | assemblyai | raw)', load: () => import('./partner') },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: earshot <command> [options]\n\n${rows.join('\n')}\n\nRun \`earshot help <command>\` (or \`earshot <command> --help\`) for a command's options; \`earshot --version\` for the version.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`earshot ${(await import('../run/version')).VERSION}\n`);
    return 0;
  }
  if (name === 'help' && rest[0]) {
    const cmd = COMMANDS[rest[0]];
    if (!cmd) throw new UserError(`unknown command "${rest[0]}" - run \`earshot --help\` for the list`);
    return (await cmd.load()).main(['--help']);
  }
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UserError(`unknown command "${name}" - run \`earshot --help\` for the list`);
  return (await cmd.load()).main(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof EarshotError) {
        process.stderr.write(`earshot: ${err.message}\n`);
        process.exitCode = err.exitCode;
      } else {
        process.stderr.write(`earshot: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
        process.exitCode = 70;
      }
    },
  );
}
