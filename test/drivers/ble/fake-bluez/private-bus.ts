// A private D-Bus daemon for BLE integration tests: a permissive "system" bus in a temp dir, so a
// fake org.bluez can own its name there and the driver under test can be pointed at it through
// DBUS_SYSTEM_BUS_ADDRESS (BluezTestBed does that). The daemon is killed and its temp dir removed
// on stop() and, as a last resort, when the test worker exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PrivateBus {
  /** Address as printed by dbus-daemon (unix:path=...,guid=...). */
  address: string;
  dir: string;
  stop(): Promise<void>;
}

function busConfig(socketPath: string): string {
  // Everything allowed: the tests exercise our code, not BlueZ's security policy.
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socketPath}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;
}

export async function startPrivateBus(timeoutMs = 5000): Promise<PrivateBus> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-dbus-'));
  const socketPath = join(dir, 'bus.sock');
  const configPath = join(dir, 'bus.conf');
  await writeFile(configPath, busConfig(socketPath));

  // The daemon runs under a watchdog shell that kills it and removes the temp dir ($1) when its
  // stdin closes: that happens on stop(), and also when the test worker dies without running any
  // cleanup (killed on timeout, which fires no 'exit' event).
  const daemon = `dbus-daemon --config-file='${configPath}' --address='unix:path=${socketPath}' --nofork --print-address=1`;
  const watchdog = `${daemon} & pid=$!; trap 'kill $pid 2>/dev/null; wait $pid; rm -rf "$1"' EXIT HUP INT TERM; cat >/dev/null`;
  const child: ChildProcess = spawn('sh', ['-c', watchdog, 'dbus-watchdog', dir], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => {
    child.stdin?.destroy();
  };
  process.once('exit', killOnExit);

  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  const address = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => fail(new Error(`dbus-daemon printed no address within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      // The watchdog shell runs its trap only once `cat` returns: closing stdin is what ends it.
      child.stdin?.destroy();
      child.kill('SIGTERM');
      reject(err);
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`dbus-daemon exited with ${code}: ${stderr}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(line.trim());
      }
    });
  }).catch(async (err: unknown) => {
    process.removeListener('exit', killOnExit);
    await rm(dir, { recursive: true, force: true });
    throw err;
  });

  let stopped = false;
  return {
    address,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.stdin?.end();
        const timer = setTimeout(() => child.kill('SIGTERM'), 2000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
