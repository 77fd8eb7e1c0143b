import type { SharedResources } from '../driver-api/index.js';

interface Entry {
  value: unknown;
  refs: number;
  dispose: (value: unknown) => Promise<void> | void;
}

/** Reference-counted objects shared by the devices of one gateway (RS-485 buses, BLE adapters). */
export class SharedResourcePool implements SharedResources {
  private readonly entries = new Map<string, Entry>();

  acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void): T {
    const existing = this.entries.get(key);
    if (existing) {
      existing.refs += 1;
      return existing.value as T;
    }
    const value = create();
    this.entries.set(key, { value, refs: 1, dispose: dispose as (v: unknown) => Promise<void> | void });
    return value;
  }

  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.refs -= 1;
    if (entry.refs > 0) return;
    this.entries.delete(key);
    await entry.dispose(entry.value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Holders per key, for diagnostics and tests. */
  refCounts(): Map<string, number> {
    return new Map([...this.entries].map(([key, e]) => [key, e.refs]));
  }
}
