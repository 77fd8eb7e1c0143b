// Site files for integration tests: a sim device with a fast counter, pointed at a test broker.
export interface SimSiteOptions {
  url: string;
  bufferPath?: string;
  interval?: string;
  points?: number;
  extraMqtt?: string;
  extraBuffer?: string;
  extraTop?: string;
}

export function simSite(o: SimSiteOptions): string {
  const points = Array.from({ length: o.points ?? 1 }, (_, i) => `      - { name: c${i}, signal: counter }`).join('\n');
  return `site: it
gateway: gw
mqtt:
  url: ${o.url}
  keepalive: 2s
  connect_timeout: 2s
${o.extraMqtt ?? ''}
buffer:
  path: ${o.bufferPath ?? 'buffer.db'}
${o.extraBuffer ?? ''}
${o.extraTop ?? ''}
devices:
  - name: dev
    driver: sim
    interval: ${o.interval ?? '20ms'}
    points:
${points}
`;
}

/** Seqs of JSON payloads, in arrival order. */
export function seqsOf(messages: readonly { payload: Buffer; topic: string }[], topicFilter = (t: string) => !t.match(/\/status(\/journal)?$/)): number[] {
  return messages.filter((m) => topicFilter(m.topic)).map((m) => (JSON.parse(m.payload.toString()) as { seq: number }).seq);
}

/** Checks that first arrivals are exactly from..to in order; returns the count of duplicates. */
export function assertContiguous(seqs: readonly number[]): { first: number; last: number; duplicates: number } {
  const seen = new Set<number>();
  const firsts: number[] = [];
  for (const s of seqs) {
    if (!seen.has(s)) {
      seen.add(s);
      firsts.push(s);
    }
  }
  for (let i = 1; i < firsts.length; i++) {
    if (firsts[i] !== firsts[i - 1]! + 1) {
      throw new Error(`seq gap or reorder: ${firsts[i - 1]} then ${firsts[i]} (around index ${i})`);
    }
  }
  return { first: firsts[0] ?? 0, last: firsts[firsts.length - 1] ?? 0, duplicates: seqs.length - firsts.length };
}
