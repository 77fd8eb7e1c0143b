// `fieldgate buffer replay --from-seq A --to-seq B` (or --since/--until): what cmd/replay does,
// from a shell on the gateway. It reads the journal read-only (JournalReader, safe next to the
// running service) and publishes the delivered rows of the range to the configured broker, under
// its own client id (`<client_id>-replay`, so the service's connection is left alone), then
// prints the result as cmd/replay/result would carry it. Rows not yet delivered are left to the
// service (reported as pending).
import type { ResolvedSite } from '../config/resolved-site.js';
import { JournalReader } from '../journal/journal-reader.js';
import { MqttUplink } from '../uplink/mqtt-uplink.js';
import { ReplayRefusal, parseReplayRequest } from '../replay/replay-request.js';
import { type ReplayResult, ReplaySession } from '../replay/replay-session.js';
import { errorText } from '../util/errors.js';
import { createLogger } from '../util/logger.js';
import { println, type CliIo } from './io.js';

export interface ReplayArgs {
  fromSeq?: string;
  toSeq?: string;
  since?: string;
  until?: string;
}

const CONNECT_WAIT_MS = 15_000;
const MAX_WINDOW = 16;

export async function replayCommand(site: ResolvedSite, args: ReplayArgs, io: CliIo): Promise<number> {
  const body: Record<string, unknown> = { id: `cli-${Date.now()}` };
  if (args.fromSeq !== undefined || args.toSeq !== undefined) {
    body.from_seq = Number(args.fromSeq);
    body.to_seq = Number(args.toSeq);
  }
  if (args.since !== undefined) body.since = args.since;
  if (args.until !== undefined) body.until = args.until;
  let request;
  try {
    request = parseReplayRequest(Buffer.from(JSON.stringify(body)));
  } catch (err) {
    const text = err instanceof ReplayRefusal ? err.message.replace(/"from_seq"/g, '--from-seq').replace(/"to_seq"/g, '--to-seq')
      .replace(/"since"/g, '--since').replace(/"until"/g, '--until') : errorText(err);
    println(io.stderr, `fieldgate buffer replay: ${text}`);
    return 64;
  }
  const reader = JournalReader.open(site.buffer.path);
  const logger = createLogger({ level: 'warn', destination: process.stderr, secrets: site.secrets });
  const m = site.mqtt;
  const uplink = new MqttUplink({
    urls: m.urls, clientId: `${m.clientId}-replay`, username: m.username, password: m.password,
    protocolVersion: m.protocolVersion, keepaliveMs: m.keepaliveMs, connectTimeoutMs: m.connectTimeoutMs,
    refusedRetryMs: m.refusedRetryMs, tls: m.tls, logger, clock: { now: () => Date.now() },
  });
  try {
    uplink.start();
    if (!(await connected(uplink))) {
      println(io.stderr, `fieldgate buffer replay: could not reach the broker (${m.urls.join(', ')}) within ${CONNECT_WAIT_MS / 1000} s`);
      return 1;
    }
    const b = site.buffer;
    const result = await new Promise<ReplayResult>((resolve) => {
      new ReplaySession({
        source: { readHeld: (a, t, l) => reader.readHeld(a, t, l), lastSeq: () => reader.stats().lastSeq },
        uplink, logger, clock: { now: () => Date.now() }, request,
        window: Math.max(1, Math.min(b.inflight, MAX_WINDOW)), rate: b.replayRate,
        pack: b.pack && { maxRows: b.pack.maxRows, maxBytes: () => b.pack!.maxBytes },
        // The service's live stream is its own connection; this one only has the replay.
        liveBacklog: () => 0, liveWindow: b.inflight, done: resolve,
      }).start();
    });
    println(io.stdout, JSON.stringify(result));
    return result.ok ? 0 : 1;
  } finally {
    await uplink.stop();
    reader.close();
  }
}

function connected(uplink: MqttUplink): Promise<boolean> {
  if (uplink.connected) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), CONNECT_WAIT_MS);
    uplink.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
