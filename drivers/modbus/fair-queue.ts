// Round-robin between owners (devices on one bus): each owner keeps its own FIFO, and the next item
// comes from the owner after the one served last. A device with many requests, or a fast interval,
// cannot starve a slow one: every device with something pending gets one frame per round.
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  /** Owners with pending items, in the order they will be served. */
  private readonly ring: string[] = [];

  push(owner: string, item: T): void {
    let q = this.queues.get(owner);
    if (!q) {
      q = [];
      this.queues.set(owner, q);
    }
    q.push(item);
    if (q.length === 1) this.ring.push(owner);
  }

  shift(): T | undefined {
    const owner = this.ring.shift();
    if (owner === undefined) return undefined;
    const q = this.queues.get(owner)!;
    const item = q.shift()!;
    if (q.length > 0) this.ring.push(owner);
    else this.queues.delete(owner);
    return item;
  }

  /** Removes and returns everything an owner has pending (its device stopped). */
  removeOwner(owner: string): T[] {
    const q = this.queues.get(owner) ?? [];
    this.queues.delete(owner);
    const i = this.ring.indexOf(owner);
    if (i >= 0) this.ring.splice(i, 1);
    return q;
  }

  /** Removes and returns everything, in service order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }

  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
