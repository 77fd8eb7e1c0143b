// Finds the item of a name in a list that usually comes in the same order: a driver reports its
// points in the same order at every poll, so the item found at a position last time is checked
// first (a comparison of the same string object) and the map is asked only when it does not match.

export class PositionalLookup<T> {
  private readonly byPosition: (T | undefined)[] = [];

  constructor(
    private readonly byName: ReadonlyMap<string, T>,
    private readonly nameOf: (item: T) => string,
  ) {}

  /** The item named `name`, which sits at position `i` of the current list; undefined if unknown. */
  at(i: number, name: string): T | undefined {
    const cached = this.byPosition[i];
    if (cached !== undefined && this.nameOf(cached) === name) return cached;
    const item = this.byName.get(name);
    if (item !== undefined) this.byPosition[i] = item;
    return item;
  }
}
