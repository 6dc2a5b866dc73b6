// The merge index's shared tables: every string value and every series key is stored once for
// the whole fleet and referred to by a number, so a site's intervals are typed arrays of numbers.
import type { Labels } from '../../proto/index.js';

/** Strings by number, each stored once. Numbers start at 0 and never change. */
export class StringTable {
  readonly #ids = new Map<string, number>();
  readonly #values: string[] = [];

  intern(s: string): number {
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#values.length;
      this.#values.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }

  /** The id of `s`, or undefined when it was never interned. */
  idOf(s: string): number | undefined {
    return this.#ids.get(s);
  }

  get(id: number): string {
    return this.#values[id]!;
  }

  get size(): number {
    return this.#values.length;
  }
}

/** Series (name and labels) by number, each stored once for the fleet; numbers start at 0. */
export class SeriesTable {
  readonly #ids = new Map<string, number>();
  readonly keys: string[] = [];
  readonly names: string[] = [];
  readonly labels: Labels[] = [];
  readonly #byName = new Map<string, number[]>();

  /** The id of the series with canonical key `key` (proto's seriesKey), adding it when new. */
  intern(key: string, name: string, labels: Labels): number {
    let id = this.#ids.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(key);
      this.names.push(name);
      this.labels.push(labels);
      this.#ids.set(key, id);
      let l = this.#byName.get(name);
      if (l === undefined) this.#byName.set(name, (l = []));
      l.push(id);
    }
    return id;
  }

  idOf(key: string): number | undefined {
    return this.#ids.get(key);
  }

  /** The ids of the series named `name`, ascending. */
  withName(name: string): readonly number[] {
    return this.#byName.get(name) ?? [];
  }

  get size(): number {
    return this.keys.length;
  }
}
