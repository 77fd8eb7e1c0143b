// The control connection of one adapter hub: a dbus-next system-bus connection that checks the
// adapter, runs discovery and routes BlueZ signals (Device1/Adapter1 PropertiesChanged,
// ObjectManager InterfacesAdded/Removed, org.bluez owner changes) from a fixed set of four match
// rules. Raw messages are used instead of proxy objects because dbus-next 0.10 never sends
// RemoveMatch: every proxy signal subscription would stay in the bus daemon for the life of the
// connection, and the system bus allows 512 match rules per connection.
import { EventEmitter } from 'node:events';
import dbus from 'dbus-next';
import { DeviceError, withTimeout, errorText } from '../../src/driver-api/index.js';

type MessageBus = ReturnType<typeof dbus.systemBus>;
type Message = InstanceType<typeof dbus.Message>;
type Variant = InstanceType<typeof dbus.Variant>;

export interface DeviceUpdate {
  path: string;
  removed?: boolean;
  connected?: boolean;
  servicesResolved?: boolean;
  rssi?: number;
  manufacturerData?: Map<number, Buffer>;
  serviceData?: Map<string, Buffer>;
}

export interface AdapterUpdate {
  added?: boolean;
  removed?: boolean;
  powered?: boolean;
}

const PROPS = 'org.freedesktop.DBus.Properties';
const OBJECT_MANAGER = 'org.freedesktop.DBus.ObjectManager';
const DEVICE1 = 'org.bluez.Device1';
const ADAPTER1 = 'org.bluez.Adapter1';

/** The D-Bus error name of a rejection (DBusError.type), or undefined. */
export function dbusErrorName(err: unknown): string | undefined {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : undefined;
}

function adapterError(message: string, cause?: unknown): DeviceError {
  return new DeviceError('adapter', message, cause === undefined ? {} : { cause });
}

/** Turns what went wrong talking to BlueZ into a message an installer can act on. */
export function explainBluezError(err: unknown, adapter: string): DeviceError {
  if (err instanceof DeviceError) return err;
  const name = dbusErrorName(err);
  if (name === 'org.freedesktop.DBus.Error.ServiceUnknown' || name === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
    return adapterError('BlueZ (org.bluez) is not running on the D-Bus system bus; start bluetoothd (systemctl start bluetooth)', err);
  }
  if (name === 'org.freedesktop.DBus.Error.AccessDenied') {
    return adapterError(
      'the D-Bus policy denies access to BlueZ; run fieldgate in the "bluetooth" group or add a D-Bus policy (see drivers/ble/README.md)',
      err,
    );
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const address = process.env['DBUS_SYSTEM_BUS_ADDRESS'] ?? 'unix:path=/var/run/dbus/system_bus_socket';
    return adapterError(`D-Bus system bus not reachable at ${address} (${code})`, err);
  }
  const text = errorText(err);
  return adapterError(`BlueZ call failed for adapter ${adapter}: ${text}`, err);
}

export class BluezBus extends EventEmitter {
  private owner: string | null = null;
  private isClosed = false;
  /** Rejecters of calls in flight: dbus-next never settles them when the connection dies. */
  private readonly pending = new Set<(err: Error) => void>();
  readonly adapterPath: string;

  private constructor(
    private readonly bus: MessageBus,
    readonly adapter: string,
    private readonly timeoutMs: number,
  ) {
    super();
    this.adapterPath = `/org/bluez/${adapter}`;
  }

  /** Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS) and installs the signal routing. */
  static async open(adapter: string, timeoutMs: number): Promise<BluezBus> {
    const b = new BluezBus(dbus.systemBus(), adapter, timeoutMs);
    b.bus.on('error', (err: unknown) => b.markClosed(err));
    b.bus.on('message', (msg: Message) => b.onMessage(msg));
    // dbus-next forwards socket errors but not a clean close; without this hook a dead bus
    // would only show up as calls that never return.
    const stream = (b.bus as unknown as { _connection?: { stream?: EventEmitter } })._connection?.stream;
    stream?.once('close', () => b.markClosed(new Error('D-Bus connection closed')));
    const failed = new Promise<never>((_, reject) => b.once('closed', (err: unknown) => reject(err)));
    failed.catch(() => undefined);
    try {
      await Promise.race([b.subscribe(), failed]);
      b.owner = await Promise.race([b.nameOwner(), failed]);
    } catch (err) {
      b.close();
      throw explainBluezError(err, adapter);
    }
    return b;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.bus.disconnect();
    this.failPending();
    this.emit('closed', new Error('closed'));
  }

  async call(path: string, iface: string, member: string, signature = '', body: unknown[] = [], destination = 'org.bluez'): Promise<unknown[]> {
    if (this.isClosed) throw adapterError('D-Bus connection closed');
    const msg = new dbus.Message({ destination, path, interface: iface, member, signature, body });
    let abandon: (err: Error) => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    this.pending.add(abandon);
    try {
      const reply = await withTimeout(Promise.race([this.bus.call(msg), aborted]), this.timeoutMs, `D-Bus ${iface}.${member}`);
      return reply?.body ?? [];
    } finally {
      this.pending.delete(abandon);
    }
  }

  /** Powered state of the adapter; throws an explained 'adapter' DeviceError when it is missing. */
  async adapterPowered(): Promise<boolean> {
    let props: Record<string, Variant>;
    try {
      const [all] = await this.call(this.adapterPath, PROPS, 'GetAll', 's', [ADAPTER1]);
      props = all as Record<string, Variant>;
    } catch (err) {
      const name = dbusErrorName(err);
      if (name === undefined || name.startsWith('org.freedesktop.DBus.Error.Service') || name.endsWith('AccessDenied') || name.endsWith('NameHasNoOwner')) {
        throw explainBluezError(err, this.adapter);
      }
      const adapters = await this.adapterNames().catch(() => undefined);
      if (adapters && !adapters.includes(this.adapter)) {
        const known = adapters.length > 0 ? adapters.join(', ') : 'none';
        throw adapterError(`adapter ${this.adapter} not found (BlueZ has: ${known}); check bluetoothctl list`, err);
      }
      throw explainBluezError(err, this.adapter);
    }
    return props['Powered']?.value === true;
  }

  async adapterNames(): Promise<string[]> {
    const [objects] = await this.call('/', OBJECT_MANAGER, 'GetManagedObjects');
    return Object.entries(objects as Record<string, Record<string, unknown>>)
      .filter(([, ifaces]) => ADAPTER1 in ifaces)
      .map(([path]) => path.slice(path.lastIndexOf('/') + 1));
  }

  /** Current Device1 properties, or undefined when BlueZ has no such device object. */
  async deviceProperties(path: string): Promise<DeviceUpdate | undefined> {
    try {
      const [all] = await this.call(path, PROPS, 'GetAll', 's', [DEVICE1]);
      return deviceUpdate(path, all as Record<string, Variant>);
    } catch (err) {
      const name = dbusErrorName(err);
      if (name === 'org.freedesktop.DBus.Error.UnknownObject' || name === 'org.freedesktop.DBus.Error.UnknownMethod' || name === 'org.freedesktop.DBus.Error.InvalidArgs') {
        return undefined;
      }
      throw explainBluezError(err, this.adapter);
    }
  }

  async startDiscovery(): Promise<void> {
    // DuplicateData: report every advertisement, so a Ruuvi tag's or BTHome sensor's new
    // measurement is seen even when the payload bytes happen to repeat.
    const filter = { Transport: new dbus.Variant('s', 'le'), DuplicateData: new dbus.Variant('b', true) };
    await this.call(this.adapterPath, ADAPTER1, 'SetDiscoveryFilter', 'a{sv}', [filter]);
    try {
      await this.call(this.adapterPath, ADAPTER1, 'StartDiscovery');
    } catch (err) {
      if (dbusErrorName(err) !== 'org.bluez.Error.InProgress') throw explainBluezError(err, this.adapter);
    }
  }

  async stopDiscovery(): Promise<void> {
    await this.call(this.adapterPath, ADAPTER1, 'StopDiscovery');
  }

  private async subscribe(): Promise<void> {
    const rules = [
      `type='signal',sender='org.bluez',interface='${PROPS}',member='PropertiesChanged',arg0='${DEVICE1}',path_namespace='${this.adapterPath}'`,
      `type='signal',sender='org.bluez',interface='${PROPS}',member='PropertiesChanged',arg0='${ADAPTER1}',path='${this.adapterPath}'`,
      `type='signal',sender='org.bluez',interface='${OBJECT_MANAGER}',path='/'`,
      `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'`,
    ];
    for (const rule of rules) {
      await this.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [rule], 'org.freedesktop.DBus');
    }
  }

  private async nameOwner(): Promise<string | null> {
    try {
      const [owner] = await this.call('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetNameOwner', 's', ['org.bluez'], 'org.freedesktop.DBus');
      return typeof owner === 'string' ? owner : null;
    } catch (err) {
      if (dbusErrorName(err) === 'org.freedesktop.DBus.Error.NameHasNoOwner') return null;
      throw err;
    }
  }

  private markClosed(err: unknown): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.bus.disconnect();
    } catch {
      // already gone
    }
    this.failPending();
    this.emit('closed', err);
  }

  private failPending(): void {
    const lost = adapterError('D-Bus connection to BlueZ closed');
    for (const reject of [...this.pending]) reject(lost);
    this.pending.clear();
  }

  private onMessage(msg: Message): void {
    if (msg.type !== dbus.MessageType.SIGNAL) return;
    const body = msg.body ?? [];
    if (msg.interface === 'org.freedesktop.DBus' && msg.member === 'NameOwnerChanged') {
      if (msg.sender !== 'org.freedesktop.DBus' || body[0] !== 'org.bluez') return;
      const next = typeof body[2] === 'string' && body[2] !== '' ? body[2] : null;
      this.owner = next;
      this.emit('owner', next);
      return;
    }
    // Only bluetoothd may tell us about devices and adapters.
    if (this.owner === null || msg.sender !== this.owner) return;
    const inAdapter = msg.path === this.adapterPath || msg.path.startsWith(`${this.adapterPath}/`);
    if (msg.interface === PROPS && msg.member === 'PropertiesChanged' && inAdapter) {
      const [iface, changed] = body as [string, Record<string, Variant>];
      if (iface === DEVICE1 && msg.path !== this.adapterPath) this.emit('device', deviceUpdate(msg.path, changed));
      else if (iface === ADAPTER1 && msg.path === this.adapterPath) {
        const powered = changed['Powered']?.value;
        if (typeof powered === 'boolean') this.emit('adapter', { powered } satisfies AdapterUpdate);
      }
    } else if (msg.interface === OBJECT_MANAGER && msg.member === 'InterfacesAdded') {
      const [path, ifaces] = body as [string, Record<string, Record<string, Variant>>];
      if (path === this.adapterPath && ifaces[ADAPTER1]) {
        this.emit('adapter', { added: true, powered: ifaces[ADAPTER1]['Powered']?.value === true } satisfies AdapterUpdate);
      } else if (path.startsWith(`${this.adapterPath}/`) && ifaces[DEVICE1]) {
        this.emit('device', deviceUpdate(path, ifaces[DEVICE1]));
      }
    } else if (msg.interface === OBJECT_MANAGER && msg.member === 'InterfacesRemoved') {
      const [path, names] = body as [string, string[]];
      if (path === this.adapterPath && names.includes(ADAPTER1)) this.emit('adapter', { removed: true } satisfies AdapterUpdate);
      else if (path.startsWith(`${this.adapterPath}/`) && names.includes(DEVICE1)) this.emit('device', { path, removed: true } satisfies DeviceUpdate);
    }
  }
}

/** Unwraps the Device1 properties the driver uses from their D-Bus variants. */
export function deviceUpdate(path: string, props: Record<string, Variant>): DeviceUpdate {
  const update: DeviceUpdate = { path };
  const connected = props['Connected']?.value;
  if (typeof connected === 'boolean') update.connected = connected;
  const resolved = props['ServicesResolved']?.value;
  if (typeof resolved === 'boolean') update.servicesResolved = resolved;
  const rssi = props['RSSI']?.value;
  if (typeof rssi === 'number') update.rssi = rssi;
  const md = props['ManufacturerData']?.value as Record<string, Variant> | undefined;
  if (md && typeof md === 'object') {
    update.manufacturerData = new Map(
      Object.entries(md).flatMap(([id, v]) => (Buffer.isBuffer(v?.value) ? [[Number(id), v.value as Buffer] as const] : [])),
    );
  }
  const sd = props['ServiceData']?.value as Record<string, Variant> | undefined;
  if (sd && typeof sd === 'object') {
    update.serviceData = new Map(
      Object.entries(sd).flatMap(([uuid, v]) => (Buffer.isBuffer(v?.value) ? [[uuid.toLowerCase(), v.value as Buffer] as const] : [])),
    );
  }
  return update;
}
