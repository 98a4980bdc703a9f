/**
 * Where output ends, and whether that is the kernel's serial console: the
 * incident this project exists for. Everything here is read from /proc, /sys
 * and fstat; no console or serial device is ever opened.
 */
import { fstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { check, readText, type Check } from './check';

export type FdKind = 'serial' | 'tty' | 'pty' | 'pipe' | 'socket' | 'file' | 'null' | 'chardev' | 'closed' | 'other';

export interface Destination {
  kind: FdKind;
  /** What /proc/self/fd/N points at (or the path given). */
  target: string;
  /** The tty device name (ttyS0, pts/3, tty1) when there is one. */
  device?: string;
  /** True when it is /dev/console (or /dev/tty) resolved to the device behind it. */
  viaAlias?: string;
  /** True when that device is one of the kernel's consoles. */
  kernelConsole?: boolean;
  /** For a pipe or socket: the other processes holding it (pid and name), when visible. */
  peers?: string[];
}

/** glibc's major()/minor() for a dev_t that arrives as a JS number. */
export function devMajor(rdev: number): number {
  return (((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & 0xfffff000)) >>> 0;
}
export function devMinor(rdev: number): number {
  return ((rdev & 0xff) | (Math.floor(rdev / 2 ** 12) & 0xffffff00)) >>> 0;
}

/** The devices behind /dev/console: the last one listed in `active` is /dev/console itself. */
export function consoleDevices(): string[] {
  return (readText('/sys/class/tty/console/active') ?? '').trim().split(/\s+/).filter(Boolean);
}

/** A tty device name from a char device's major:minor (Documentation/admin-guide/devices.txt). */
export function ttyName(major: number, minor: number): { kind: FdKind; device?: string } {
  if (major === 4 && minor >= 64) return { kind: 'serial', device: `ttyS${minor - 64}` };
  if (major === 4) return { kind: 'tty', device: `tty${minor}` };
  if (major >= 136 && major <= 143) return { kind: 'pty', device: `pts/${(major - 136) * 256 + minor}` };
  if (major === 204) return { kind: 'serial', device: `ttyAMA${minor - 64}` };
  if (major === 188) return { kind: 'serial', device: `ttyUSB${minor}` };
  if (major === 229) return { kind: 'serial', device: `hvc${minor}` };
  if (major === 1 && minor === 3) return { kind: 'null', device: 'null' };
  return { kind: 'chardev' };
}

/** A console name (ttyS0, tty0, hvc0) as the kind of device it is. */
function consoleKind(name: string): FdKind {
  if (/^tty(S|AMA|USB|PS|SAC|MSM|mxc)\d+$/.test(name) || /^hvc\d+$/.test(name)) return 'serial';
  if (/^tty\d+$/.test(name)) return 'tty';
  return 'chardev';
}

function classifyChar(st: Stats, target: string): Destination {
  const major = devMajor(st.rdev);
  const minor = devMinor(st.rdev);
  const consoles = consoleDevices();
  if (major === 5 && (minor === 1 || minor === 0)) {
    // /dev/console -> the main kernel console; /dev/tty -> our controlling terminal.
    let name: string | undefined;
    if (minor === 1) name = consoles[consoles.length - 1];
    else {
      const ttyNr = Number(statFields('/proc/self/stat')[4]);
      if (ttyNr) name = ttyName(devMajor(ttyNr), devMinor(ttyNr)).device;
    }
    const alias = minor === 1 ? '/dev/console' : '/dev/tty';
    if (!name) return { kind: 'chardev', target, viaAlias: alias };
    const kind = name.startsWith('pts/') ? 'pty' : consoleKind(name);
    return { kind, target, device: name, viaAlias: alias, kernelConsole: consoles.includes(name) };
  }
  const t = ttyName(major, minor);
  return { ...t, target, ...(t.device && t.kind !== 'null' ? { kernelConsole: consoles.includes(t.device) } : {}) };
}

function statFields(path: string): string[] {
  const s = readText(path) ?? '';
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** Where file descriptor `fd` of this process ends. */
export function describeFd(fd: number): Destination {
  let st: Stats;
  let target: string;
  try {
    st = fstatSync(fd);
    target = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return { kind: 'closed', target: '(closed)' };
  }
  if (st.isCharacterDevice()) return classifyChar(st, target);
  if (st.isFIFO()) return { kind: 'pipe', target, peers: holders(target) };
  if (st.isSocket()) return { kind: 'socket', target: unixPath(target) ?? target, peers: holders(target) };
  if (st.isFile()) return { kind: 'file', target };
  return { kind: 'other', target };
}

/** Where a `--log-sink` path ends, from stat only (never opening a device). */
export function describePath(path: string): Destination {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // Not there yet: a file the sink will create in an existing folder.
    try {
      statSync(dirname(path));
      return { kind: 'file', target: path };
    } catch {
      return { kind: 'closed', target: path };
    }
  }
  const st = statSync(real);
  if (st.isCharacterDevice()) return classifyChar(st, real);
  if (st.isFIFO()) return { kind: 'pipe', target: real };
  if (st.isSocket()) return { kind: 'socket', target: real };
  return { kind: 'file', target: real };
}

/** Other processes holding the same pipe/socket (bounded; needs /proc access to them). */
function holders(link: string): string[] {
  const out: string[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return out;
  }
  for (const pid of pids.slice(0, 4000)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === link) {
          const comm = (readText(`/proc/${pid}/comm`) ?? '?').trim();
          out.push(`${pid} (${comm})`);
          break;
        }
      } catch {
        /* gone */
      }
    }
    if (out.length >= 5) break;
  }
  return out;
}

/** The bound path of a unix socket `socket:[inode]`, from /proc/net/unix. */
function unixPath(link: string): string | undefined {
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (!inode) return undefined;
  for (const line of (readText('/proc/net/unix') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[6] === inode) return f[7] ? `${link} (unix ${f[7]})` : `${link} (unix, unnamed: a socketpair from the parent)`;
  }
  return undefined;
}

export function describeDestination(d: Destination): string {
  const via = d.viaAlias ? `${d.viaAlias} -> ` : '';
  const consoleNote = d.kernelConsole ? ' (a kernel console)' : '';
  switch (d.kind) {
    case 'serial':
      return `serial line ${via}${d.device}${consoleNote}`;
    case 'tty':
      return `virtual terminal ${via}${d.device}${consoleNote}`;
    case 'pty':
      return `terminal ${via}/dev/${d.device}`;
    case 'pipe':
      return `pipe ${d.target}${d.peers?.length ? ` held by ${d.peers.join(', ')}` : ''}`;
    case 'socket':
      return `socket ${d.target}${d.peers?.length ? ` held by ${d.peers.join(', ')}` : ''}`;
    case 'file':
      return `file ${d.target}`;
    case 'null':
      return '/dev/null';
    case 'closed':
      return 'closed';
    default:
      return d.target;
  }
}

/** stdout/stderr: a serial line is the incident; any terminal writes synchronously. */
export function checkStdio(fd: 1 | 2): Check {
  const name = fd === 1 ? 'stdout' : 'stderr';
  const d = describeFd(fd);
  const what = `${name} -> ${describeDestination(d)}`;
  const data = { ...d } as Record<string, unknown>;
  if (d.kind === 'serial')
    return check(name, 'fail', `${what}: every write waits for the UART at line rate and its IRQ work lands on one CPU - the stall that pops meeting audio`, `send ${name} to a file, pipe or socket (e.g. --log-sink file:/var/log/earshot/meeting.log, or run under a supervisor that captures it)`, data);
  if (d.kind === 'tty' || d.kind === 'pty')
    return check(name, 'warn', `${what}: Node writes to terminals synchronously, so a burst of output blocks the main thread`, `log to a file or socket (--log-sink file:PATH) when running for real`, data);
  return check(name, 'ok', `${what}: written asynchronously, cannot block on a console`, undefined, data);
}

export interface KernelConsole {
  name: string;
  flags: string;
  kind: FdKind;
  baud?: number;
  /** The rate came from the command line, or the kernel's default applies. */
  baudSource: 'cmdline' | 'unknown';
  uart?: string;
  irq?: number;
  txBytes?: number;
}

/** The kernel's consoles, from /proc/consoles and the `console=` options of /proc/cmdline. */
export function kernelConsoles(): KernelConsole[] {
  const cmdline = readText('/proc/cmdline') ?? '';
  const rates = new Map<string, number>();
  for (const m of cmdline.matchAll(/(?:^|\s)console=([A-Za-z]+\d+)(?:,(\d+))?/g)) if (m[2]) rates.set(m[1]!, Number(m[2]));
  const drv = serialDriverInfo();
  const out: KernelConsole[] = [];
  for (const line of (readText('/proc/consoles') ?? '').split('\n')) {
    const m = /^(\S+)\s+(\S+)\s+\(([^)]*)\)/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const line8250 = /^ttyS(\d+)$/.exec(name);
    const info = line8250 ? drv.get(Number(line8250[1])) : undefined;
    out.push({
      name,
      flags: m[3]!.replace(/\s+/g, ''),
      kind: consoleKind(name),
      ...(rates.has(name) ? { baud: rates.get(name), baudSource: 'cmdline' as const } : { baudSource: 'unknown' as const }),
      ...(info ?? {}),
    });
  }
  // /proc/consoles may be missing (old kernels); fall back to the command line.
  if (!out.length) for (const m of cmdline.matchAll(/(?:^|\s)console=([A-Za-z]+\d+)(?:,(\d+))?/g)) out.push({ name: m[1]!, flags: '', kind: consoleKind(m[1]!), baudSource: m[2] ? 'cmdline' : 'unknown', ...(m[2] ? { baud: Number(m[2]) } : {}) });
  return out;
}

/** /proc/tty/driver/serial (root only): UART type, IRQ and bytes sent per 8250 line. */
function serialDriverInfo(): Map<number, { uart: string; irq: number; txBytes: number }> {
  const out = new Map<number, { uart: string; irq: number; txBytes: number }>();
  for (const line of (readText('/proc/tty/driver/serial') ?? '').split('\n')) {
    const m = /^(\d+): uart:(\S+) .*?irq:(\d+)(?: tx:(\d+))?/.exec(line);
    if (m && m[2] !== 'unknown') out.set(Number(m[1]), { uart: m[2]!, irq: Number(m[3]), txBytes: Number(m[4] ?? 0) });
  }
  return out;
}

export interface IrqInfo {
  irq: string;
  name: string;
  perCpu: number[];
  /** The CPUs the kernel delivers it to (effective affinity), or the busiest one. */
  servingCpus: number[];
}

/** The serial IRQ of `device` (ttyS0) from /proc/interrupts and /proc/irq/N. */
export function serialIrq(device: string, irqHint?: number): IrqInfo | undefined {
  const text = readText('/proc/interrupts') ?? '';
  const lines = text.split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).length;
  for (const line of lines.slice(1)) {
    const m = /^\s*(\w+):\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/);
    const perCpu = f.slice(0, ncpu).map(Number);
    const name = f.slice(ncpu).join(' ');
    const mine = new RegExp(`(^|[\\s,])${device}($|[\\s,])`).test(name) || (irqHint !== undefined && m[1] === String(irqHint)) || (/serial/.test(name) && device.startsWith('ttyS'));
    if (!mine) continue;
    const eff = readText(`/proc/irq/${m[1]}/effective_affinity_list`)?.trim() || readText(`/proc/irq/${m[1]}/smp_affinity_list`)?.trim();
    let serving = eff ? cpuList(eff) : [];
    // With an affinity over several CPUs, the counts say which one actually took them.
    if (serving.length !== 1 && perCpu.some((n) => n > 0)) serving = [perCpu.indexOf(Math.max(...perCpu))];
    return { irq: m[1]!, name, perCpu, servingCpus: serving };
  }
  return undefined;
}

export function cpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    for (let c = Number(m[1]); c <= Number(m[2] ?? m[1]); c++) out.push(c);
  }
  return out;
}

/** CPUs this process may run on. */
export function allowedCpus(): number[] {
  const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readText('/proc/self/status') ?? '');
  return m ? cpuList(m[1]!) : [];
}

export function formatCpuList(cpus: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The kernel console, its rate, the CPU serving its IRQ and the --rt-cpus to use instead. */
export function checkKernelConsole(): Check[] {
  const consoles = kernelConsoles();
  const serial = consoles.filter((c) => c.kind === 'serial');
  const loglevel = Number((readText('/proc/sys/kernel/printk') ?? '').trim().split(/\s+/)[0]);
  if (!serial.length) {
    const names = consoles.map((c) => c.name).join(', ') || 'none found';
    return [check('console', 'ok', `kernel console: ${names} - not a serial port`, undefined, { consoles, printkLevel: loglevel })];
  }
  const checks: Check[] = [];
  for (const c of serial) {
    const rate = c.baud ? `${c.baud} baud (console=${c.name},${c.baud})` : `rate not on the kernel command line (the 8250 driver keeps what firmware set, else 9600 baud)`;
    const perSec = c.baud ? `~${Math.round(c.baud / 10)} B/s` : 'a few KB/s at most';
    const uart = c.uart ? `, UART ${c.uart}` : '';
    const tx = c.txBytes !== undefined ? `, ${c.txBytes} bytes sent since boot` : readText('/proc/tty/driver/serial') === undefined ? ' (UART details need root)' : '';
    checks.push(
      check(
        'console',
        'warn',
        `kernel console is serial: ${c.name}${uart}, ${rate}${tx}; printk level ${loglevel}: anything sent to /dev/console drains at ${perSec}`,
        `never log to the console (--log-sink file:PATH or socket:PATH); keep kernel.printk low (sysctl kernel.printk="4 4 1 7")`,
        { ...c, printkLevel: loglevel },
      ),
    );
    const irq = serialIrq(c.name, c.irq);
    if (!irq) {
      checks.push(check('console.irq', 'info', `no IRQ line for ${c.name} in /proc/interrupts (polled or virtual console)`, undefined, { device: c.name }));
      continue;
    }
    const cpus = allowedCpus();
    const away = cpus.filter((x) => !irq.servingCpus.includes(x));
    const counts = irq.perCpu.map((n, i) => `cpu${i}:${n}`).join(' ');
    if (!away.length) {
      checks.push(check('console.irq', 'warn', `IRQ ${irq.irq} (${irq.name}) is served by CPU ${formatCpuList(irq.servingCpus)} [${counts}], the only CPU this process may use`, `give the meeting another CPU, or move the IRQ (echo N > /proc/irq/${irq.irq}/smp_affinity_list)`, { ...irq, recommendRtCpus: null }));
    } else {
      checks.push(
        check('console.irq', 'info', `IRQ ${irq.irq} (${irq.name}) is served by CPU ${formatCpuList(irq.servingCpus)} [${counts}]: run the audio worker with --rt-cpus ${formatCpuList(away)}`, undefined, { ...irq, recommendRtCpus: formatCpuList(away) }),
      );
    }
  }
  return checks;
}

/** Whether the chosen --log-sink can reach the (serial) console. */
export function checkLogSink(spec: string, given: boolean): Check {
  const label = given ? `--log-sink ${spec}` : `log sink ${spec} (default; pass --log-sink to check yours)`;
  const [kind, ...rest] = spec.split(':');
  const path = rest.join(':');
  let d: Destination;
  if (kind === 'null') return check('log-sink', 'ok', `${label}: logs are discarded`);
  if (kind === 'stdout' || kind === 'console-sync') d = describeFd(1);
  else if (kind === 'stderr') d = describeFd(2);
  else if ((kind === 'file' || kind === 'socket') && path) d = describePath(path);
  else return check('log-sink', 'fail', `${label}: not a log sink`, 'use file:PATH, socket:PATH, stdout, null or console-sync');
  const where = describeDestination(d);
  const data = { spec, ...d } as Record<string, unknown>;
  const consoleReach = d.kind === 'serial' || ((d.kind === 'tty' || d.kind === 'chardev') && (d.kernelConsole || d.viaAlias === '/dev/console'));
  if (consoleReach) return check('log-sink', 'fail', `${label} -> ${where}: logs would reach the console and stall on it`, 'use --log-sink file:PATH or socket:PATH', data);
  if (kind === 'console-sync') return check('log-sink', d.kind === 'pty' || d.kind === 'tty' ? 'fail' : 'warn', `${label} -> ${where}: synchronous console.log, kept only to reproduce the stall`, 'use --log-sink file:PATH or socket:PATH', data);
  if (d.kind === 'pty' || d.kind === 'tty') return check('log-sink', 'warn', `${label} -> ${where}: terminal writes are synchronous in Node`, 'use --log-sink file:PATH or socket:PATH', data);
  if (kind === 'socket' && d.kind !== 'socket') return check('log-sink', 'warn', `${label}: nothing is listening at ${path} yet (${where})`, `start the log collector that owns ${path} before the bot`, data);
  if (d.kind === 'closed') return check('log-sink', 'fail', `${label}: ${path} cannot be created (its folder is missing)`, `create ${dirname(path)} or choose another path`, data);
  return check('log-sink', 'ok', `${label} -> ${where}: cannot reach the console`, undefined, data);
}
