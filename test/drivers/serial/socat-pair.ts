// A virtual serial cable: socat joins two ptys and links them as DIR/ttyA and DIR/ttyB. Killing
// socat is an unplug; starting it again with the same links is a replug.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';

export class SocatPair {
  private proc: ChildProcess | undefined;

  constructor(private readonly dir: string) {}

  /** The far end, where the simulated device lives. */
  get deviceEnd(): string {
    return join(this.dir, 'ttyA');
  }

  /** The end the driver opens. */
  get driverEnd(): string {
    return join(this.dir, 'ttyB');
  }

  async start(): Promise<void> {
    // A stale link may point at a pts number the kernel hands to the new pair's other end; a
    // driver retrying in that moment would open the wrong side.
    rmSync(this.deviceEnd, { force: true });
    rmSync(this.driverEnd, { force: true });
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.deviceEnd}`, `pty,raw,echo=0,link=${this.driverEnd}`], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    this.proc = proc;
    const deadline = Date.now() + 5000;
    // existsSync follows the links, so a dangling link left by a killed socat does not count.
    while (!(existsSync(this.deviceEnd) && existsSync(this.driverEnd))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error('socat did not create its ptys');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Unplug: SIGKILL, so socat gets no chance to tidy up (like a yanked USB adapter), then the
   * links go, as the kernel and udev remove a vanished adapter's nodes. A dangling link would
   * otherwise lead to whatever pty the kernel hands out next under that number, maybe another
   * test's.
   */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(this.deviceEnd, { force: true });
    rmSync(this.driverEnd, { force: true });
  }
}

/** Opens the device end with serialport; the caller closes it. */
export async function openDeviceEnd(path: string): Promise<SerialPort> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  port.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return port;
}

export async function writeAll(port: SerialPort, text: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    port.write(text, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
  });
}

export async function closeQuietly(port: SerialPort | undefined): Promise<void> {
  if (!port?.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}
