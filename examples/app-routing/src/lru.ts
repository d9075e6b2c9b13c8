// A bounded cache with a time to live per entry; a Map keeps insertion order, so re-inserting on
// every hit makes its first key the least recently used.

export class LruCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {
    if (!(maxEntries >= 1)) throw new Error("maxEntries must be at least 1");
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expires <= this.now()) {
      this.onEvict?.(key, entry.value);
      return undefined;
    }
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    const old = this.entries.get(key);
    this.entries.delete(key);
    if (old !== undefined && old.value !== value) this.onEvict?.(key, old.value);
    this.entries.set(key, { value, expires: this.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const [oldest, entry] = this.entries.entries().next().value as [string, { value: V }];
      this.entries.delete(oldest);
      this.onEvict?.(oldest, entry.value);
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.onEvict?.(key, entry.value);
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }
}
