/** Runs `earshot partner` as a child process (a separate CPU budget from the client under test). */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../src/paths';

export interface ChildEmulator {
  proc: ChildProcess;
  url: string;
  port: number;
}

export function startChildEmulator(protocol: string, port = 0, faults: string[] = []): Promise<ChildEmulator> {
  const args = [CLI, 'partner', '--protocol', protocol, '--port', String(port), '--quiet', ...faults.flatMap((f) => ['--fault', f])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (code) => reject(new Error(`earshot partner exited ${code}: ${out}`)));
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\w+:\/\/\S+)/.exec(out);
      if (m) {
        proc.removeAllListeners('exit');
        const url = m[1]!;
        resolve({ proc, url, port: Number(new URL(url).port) });
      }
    });
  });
}

export function stopChild(c: ChildEmulator, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
    c.proc.once('exit', () => resolve());
    c.proc.kill(signal);
  });
}
