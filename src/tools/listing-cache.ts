// Pages of one question, cut from one answer. Proxmox has no paging of its own for most lists: each
// page would otherwise ask for the whole list again (5,000 guests is megabytes to fetch and parse for
// 50 rows), and a guest created or removed between two pages would shift the rest, so that a walk
// skips or repeats guests. The listing made for a first page is kept for a short while; later pages
// of the same question (same tool, same filters and sort) are cut from it. A first page always asks
// Proxmox afresh.

/** How long a listing serves later pages. */
const SNAPSHOT_TTL_MS = 30_000;
/** Listings kept at most (the oldest goes first): a model rarely walks more than one at a time. */
const SNAPSHOT_MAX = 4;
/**
 * Rows kept at most over all listings (the oldest listings go first; a larger listing is not kept):
 * about 40 MB at the size of a `/cluster/resources` row, whatever answers a host sends.
 */
const SNAPSHOT_MAX_ROWS = 100_000;

interface Entry<T> {
  value: T;
  at: number;
  rows: number;
}

export interface Snapshots<T> {
  get(key: string): T | undefined;
  /** Keeps `value`, which holds `rows` rows; false when it is too large to keep. */
  set(key: string, value: T, rows: number): boolean;
  /** Listings held now, expired ones not yet swept included. */
  readonly size: number;
}

export function createSnapshots<T>(ttlMs = SNAPSHOT_TTL_MS, max = SNAPSHOT_MAX, maxRows = SNAPSHOT_MAX_ROWS, now: () => number = Date.now): Snapshots<T> {
  const entries = new Map<string, Entry<T>>();
  let rowsKept = 0;
  const drop = (key: string): void => {
    const entry = entries.get(key);
    if (entry === undefined) return;
    rowsKept -= entry.rows;
    entries.delete(key);
  };
  let sweep: NodeJS.Timeout | undefined;

  // Listings can be megabytes: they go when they expire, not when the next one comes.
  const dropExpired = (): void => {
    sweep = undefined;
    const t = now();
    for (const [key, entry] of entries) if (t - entry.at >= ttlMs) drop(key);
    if (entries.size > 0) schedule();
  };
  const schedule = (): void => {
    if (sweep !== undefined) return;
    const oldest = entries.values().next().value;
    const wait = oldest === undefined ? ttlMs : Math.max(0, oldest.at + ttlMs - now());
    sweep = setTimeout(dropExpired, wait);
    sweep.unref();
  };

  return {
    get(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (now() - entry.at >= ttlMs) {
        drop(key);
        return undefined;
      }
      return entry.value;
    },
    set(key, value, rows) {
      drop(key);
      if (rows > maxRows) return false;
      entries.set(key, { value, at: now(), rows });
      rowsKept += rows;
      while (entries.size > max || rowsKept > maxRows) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        drop(oldest);
      }
      schedule();
      return true;
    },
    get size() {
      return entries.size;
    },
  };
}

/** The question a page belongs to: the tool and every argument except where the page starts, its size and its fields. */
export function questionKey(tool: string, args: Record<string, unknown>): string {
  const rest = Object.keys(args)
    .filter((k) => k !== 'offset' && k !== 'limit' && k !== 'fields')
    .sort()
    .map((k) => [k, args[k]]);
  return `${tool}\n${JSON.stringify(rest)}`;
}
