// Deadlines and interruptible waits. D-Bus calls through dbus-next have no timeout of their own and
// never settle when the bus connection dies, so every call the driver makes goes through
// withTimeout (from the driver API), and every retry wait can be cut short by stop() or by the adapter reappearing.

/** A sleep that wake() ends early; used for reconnect backoff. */
export class Sleeper {
  private wakeCurrent: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakeCurrent = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeCurrent = done;
    });
  }

  wake(): void {
    this.wakeCurrent?.();
  }
}
