// Opening connections: fieldgate's own client for plain Modbus TCP (the common case, and the one
// where CPU per request matters), modbus-serial for serial lines and RTU over TCP. The rest of the
// driver sees only the small Connection interface, so the line's queueing and reconnect logic can
// be exercised with a fake in unit tests.
import { once } from 'node:events';
import net from 'node:net';
import { withTimeout } from '../../src/driver-api/index.js';
import M from 'modbus-serial';
import type { RtuLink } from './device-config.js';
import { ModbusTcpClient } from './modbus-tcp-client.js';

const ModbusRTU = M.default;

/** What the driver asks of a Modbus client: ModbusTcpClient, or the part of modbus-serial's it uses. */
export interface ModbusClient {
  /**
   * Every request settles by itself (answer, its own timeout, or rejected when the link closes), so
   * the line need not guard it. modbus-serial's requests sometimes never settle: not set there.
   */
  readonly settlesEveryRequest?: boolean;
  setID(id: number): void;
  setTimeout(ms: number): void;
  readCoils(address: number, count: number): Promise<{ data: boolean[] }>;
  readDiscreteInputs(address: number, count: number): Promise<{ data: boolean[] }>;
  readHoldingRegisters(address: number, count: number): Promise<{ data: number[] }>;
  readInputRegisters(address: number, count: number): Promise<{ data: number[] }>;
  writeCoil(address: number, state: boolean): Promise<unknown>;
  writeCoils(address: number, states: boolean[]): Promise<unknown>;
  writeRegister(address: number, value: number): Promise<unknown>;
  writeRegisters(address: number, values: number[]): Promise<unknown>;
}

export interface Connection {
  client: ModbusClient;
  /** Called once when the link goes away underneath us (socket closed, adapter unplugged). */
  onClose(listener: (err: Error) => void): void;
  /** Drops bytes still buffered from an earlier, abandoned answer (RTU); no-op for TCP. */
  discardInput(): void;
  close(): Promise<void>;
}

type Client = InstanceType<typeof ModbusRTU>;

/** close()/destroy() callbacks of modbus-serial are not always called on a dead link: bound them. */
function closeQuietly(run: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1000);
    try {
      run(() => {
        clearTimeout(timer);
        resolve();
      });
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

function wrap(client: Client, close: () => Promise<void>, discardInput: () => void): Connection {
  // Without a listener an 'error' event would crash the process; failures surface through the
  // requests and the close event instead.
  client.on('error', () => {});
  return {
    client: client as unknown as ModbusClient,
    onClose(listener) {
      client.on('close', () => listener(new Error('connection closed')));
    },
    discardInput,
    close,
  };
}

export async function openTcp(host: string, port: number, connectTimeoutMs: number): Promise<Connection> {
  const socket = net.connect({ host, port });
  try {
    await withTimeout(once(socket, 'connect'), connectTimeoutMs, `connect ${host}:${port}`);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  const client = new ModbusTcpClient(socket);
  return {
    client,
    onClose: (listener) => client.onClose(listener),
    // Answers are matched by transaction id; dropping half a frame would desynchronise the stream.
    discardInput: () => {},
    close: () => client.close(),
  };
}

/**
 * RTU frames over a TCP socket (a serial device server in transparent mode). modbus-serial calls
 * this port "telnet"; its `connectTcpRTUBuffered` is something else (RTU requests sent as Modbus
 * TCP). Late answers are buffered like on a serial port, so they are discarded the same way.
 */
export async function openRtuOverTcp(host: string, port: number, connectTimeoutMs: number): Promise<Connection> {
  const client = new ModbusRTU();
  try {
    await withTimeout(client.connectTelnet(host, { port }), connectTimeoutMs, `connect ${host}:${port}`);
  } catch (err) {
    await closeQuietly((done) => client.destroy(done));
    throw err;
  }
  return wrap(client, () => closeQuietly((done) => client.destroy(done)), discarder(client));
}

export async function openRtu(link: RtuLink, openTimeoutMs = 5000): Promise<Connection> {
  const client = new ModbusRTU();
  const connect = link.mode === 'ascii' ? client.connectAsciiSerial.bind(client) : client.connectRTUBuffered.bind(client);
  try {
    await withTimeout(
      connect(link.port, {
        baudRate: link.baudRate,
        parity: link.parity,
        dataBits: link.dataBits,
        stopBits: link.stopBits,
      }),
      openTimeoutMs,
      `open ${link.port}`,
    );
  } catch (err) {
    await closeQuietly((done) => client.close(done));
    throw err;
  }
  return wrap(client, () => closeQuietly((done) => client.close(done)), discarder(client));
}

/**
 * modbus-serial's buffered ports (RTU, ASCII, RTU over TCP) keep unmatched bytes (a late answer to
 * a request that already timed out) and could match them to the next request of the same shape;
 * the field is private, hence the guarded access.
 */
function discarder(client: Client): () => void {
  return () => {
    const port = (client as unknown as { _port?: { _buffer?: unknown } })._port;
    if (port && Buffer.isBuffer(port._buffer)) port._buffer = Buffer.alloc(0);
  };
}
