/** Runs async tasks one at a time in submission order (polls, writes and read-backs of one device). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything submitted so far has finished. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
