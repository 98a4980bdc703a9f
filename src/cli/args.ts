/** Flag parsing shared by every subcommand: one behaviour, one kind of error line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../util/duration';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * parseArgs, strict, with two fixes: a negative number is taken as the value
 * of the option before it (`--rt-nice -10`, which parseArgs refuses as
 * ambiguous), and an error becomes one UserError line pointing at --help.
 */
export function parseFlags<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args: joinNegativeNumbers(argv), options, allowPositionals, strict: true });
  } catch (err) {
    // parseArgs explains some errors over three lines; the first says it all.
    const first = (err as Error).message.split('\n')[0]!.replace(/\.$/, '');
    throw new UserError(`${first} - run \`earshot ${command} --help\` for the options`);
  }
}

export function joinNegativeNumbers(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a.startsWith('--') && !a.includes('=') && next !== undefined && /^-\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** argv without the given string-valued flags and their values (`--flag value` or `--flag=value`). */
export function withoutFlags(argv: string[], names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = /^--([a-z-]+)(=|$)/.exec(argv[i]!);
    if (name && names.includes(name[1]!)) {
      if (name[2] !== '=') i++;
      continue;
    }
    out.push(argv[i]!);
  }
  return out;
}
