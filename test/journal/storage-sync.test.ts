// StorageSync's timing: one flush at most `intervalMs` after the first commit since the last one,
// however many commits come meanwhile; none after stop(); failures logged once, recovery logged.
// (That a flush really puts the journal on storage is test/integration/power-cut.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StorageSync, syncJournalFilesNow } from '../../src/journal/storage-sync.js';
import { captureLogger, WARN } from '../service/capture-logger.js';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fg-storage-sync-');
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function syncAt(file: string, intervalMs = 1_000) {
  const log = captureLogger();
  const sync = new StorageSync({ file, intervalMs, logger: log.logger });
  const flushes = vi.spyOn(sync, 'flush');
  return { sync, flushes, log };
}

describe('StorageSync', () => {
  it('flushes once, intervalMs after the first of several commits, and again after the next commit', async () => {
    vi.useFakeTimers();
    const { sync, flushes } = syncAt(path.join(tempDir(), 'buffer.db'));
    sync.committed();
    await vi.advanceTimersByTimeAsync(400);
    sync.committed();
    sync.committed();
    await vi.advanceTimersByTimeAsync(599);
    expect(flushes).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(flushes).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(flushes).toHaveBeenCalledTimes(1);
    sync.committed();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(flushes).toHaveBeenCalledTimes(2);
  });

  it('does not flush after stop(), and does again after restart()', async () => {
    vi.useFakeTimers();
    const { sync, flushes } = syncAt(path.join(tempDir(), 'buffer.db'));
    sync.committed();
    sync.stop();
    sync.committed();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(flushes).not.toHaveBeenCalled();
    sync.restart();
    sync.committed();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(flushes).toHaveBeenCalledTimes(1);
  });

  it('flushes the files that exist, skips a WAL not made yet, and says once when it cannot flush', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'buffer.db');
    fs.writeFileSync(file, 'x');
    const { sync, log } = syncAt(file);
    await sync.flush();
    expect(() => syncJournalFilesNow(file)).not.toThrow();
    const warnings = () => log.lines.filter((l) => l.level === WARN);
    expect(warnings()).toHaveLength(0);
    // Storage that fails (a card going bad): every open says EIO.
    const openSpy = vi.spyOn(fs.promises, 'open').mockRejectedValue(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await sync.flush();
    await sync.flush();
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.msg).toMatch(/cannot flush the journal to storage/);
    openSpy.mockRestore();
    await sync.flush();
    expect(log.lines.some((l) => /flushed to storage again/.test(String(l.msg)))).toBe(true);
  });
});
