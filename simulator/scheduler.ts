// The simulator's accelerated clock. Every agent, shipper and retry waits on Timers of one
// ManualClock; the driver moves the clock to the next timer only once the whole fleet is
// parked — every agent asleep until its next round, no shipper call or store read in flight —
// so each step's work (rounds, seals, uploads, heartbeats) is finished, and stamped with the
// step's time, before time moves on. That makes a run a function of the scenario and the seed,
// whatever the machine's speed.
import { ManualClock } from '../common/clock.js';
import type { CancelTimer, Timers } from '../common/timers.js';

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  readonly site: SiteActivity | undefined;
  cancelled: boolean;
}

/** A binary min-heap of timers by (at, seq). */
class TimerHeap {
  readonly #a: Entry[] = [];
  get size(): number {
    return this.#a.length;
  }
  peek(): Entry | undefined {
    return this.#a[0];
  }
  push(e: Entry): void {
    const a = this.#a;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Entry | undefined {
    const a = this.#a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      while (true) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** What one site is doing: whether its agent sleeps until its next round, and its shipper's calls in flight. */
export class SiteActivity {
  #sleeping = 0;
  #inFlight = 0;
  #parked = false;
  readonly #scheduler: SimScheduler;

  constructor(scheduler: SimScheduler) {
    this.#scheduler = scheduler;
  }

  /** Counts a shipper call (gRPC or store) until `p` settles. */
  track<T>(p: Promise<T>): Promise<T> {
    this.#inFlight++;
    this.#update();
    const done = (): void => {
      this.#inFlight--;
      this.#update();
    };
    p.then(done, done);
    return p;
  }

  /** The site's agent is gone (stopped): it counts as parked from now on. */
  retire(): void {
    this.#sleeping = 1;
    this.#inFlight = 0;
    this.#update();
  }

  /** @internal */ sleep(delta: number): void {
    this.#sleeping += delta;
    this.#update();
  }

  #update(): void {
    const parked = this.#sleeping > 0 && this.#inFlight === 0;
    if (parked === this.#parked) {
      this.#scheduler.changed();
      return;
    }
    this.#parked = parked;
    this.#scheduler.parkedChanged(parked ? 1 : -1);
  }
}

/**
 * Timers on a ManualClock for a fleet of simulated sites, and the driver that moves the clock.
 * `agentTimers(site)` are the agent loop's (a timer armed there means the agent sleeps);
 * `timers` are everyone else's (shipper intervals, retries, deadlines).
 */
export class SimScheduler {
  readonly clock: ManualClock;
  readonly #heap = new TimerHeap();
  #seq = 0;
  #sites = 0;
  #parked = 0;
  #epoch = 0;
  #waiter: (() => void) | undefined;
  /** Timers fired so far. */
  fired = 0;

  constructor(start: number) {
    this.clock = new ManualClock(start);
  }

  /** A site to account for; the fleet is quiet only when every site is parked. */
  addSite(): SiteActivity {
    this.#sites++;
    return new SiteActivity(this);
  }

  /** Timers for anything but an agent's loop. */
  readonly timers: Timers = { at: (at, fn) => this.#arm(at, fn, undefined) };

  /** The agent loop's timers of `site`: armed means asleep until the next round. */
  agentTimers(site: SiteActivity): Timers {
    return { at: (at, fn) => this.#arm(at, fn, site) };
  }

  #arm(at: number, fn: () => void, site: SiteActivity | undefined): CancelTimer {
    const e: Entry = { at, seq: this.#seq++, fn, site, cancelled: false };
    this.#heap.push(e);
    site?.sleep(1);
    this.changed();
    return () => {
      if (e.cancelled) return;
      e.cancelled = true;
      e.site?.sleep(-1);
    };
  }

  /** @internal */ parkedChanged(delta: number): void {
    this.#parked += delta;
    this.changed();
  }

  /** @internal */ changed(): void {
    this.#epoch++;
    if (this.#waiter !== undefined && this.#parked === this.#sites) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w();
    }
  }

  /**
   * Resolves once every site is parked and stays so across a turn of the event loop (work
   * queued in callbacks of this turn gets to start its I/O first).
   */
  async quiet(): Promise<void> {
    while (true) {
      if (this.#parked !== this.#sites) await new Promise<void>((resolve) => (this.#waiter = resolve));
      const epoch = this.#epoch;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.#parked === this.#sites && this.#epoch === epoch) return;
    }
  }

  /** The time of the earliest armed timer, or undefined. */
  nextAt(): number | undefined {
    while (this.#heap.size > 0 && this.#heap.peek()!.cancelled) this.#heap.pop();
    return this.#heap.peek()?.at;
  }

  /**
   * Sets the clock to `t` and fires the timers due by then, in order: all of them, or the first
   * `limit`. Returns how many fired.
   */
  fireUntil(t: number, limit = Infinity): number {
    if (t > this.clock.now()) this.clock.set(t);
    let n = 0;
    while (n < limit && this.#heap.size > 0 && this.#heap.peek()!.at <= t) {
      const e = this.#heap.pop()!;
      if (e.cancelled) continue;
      e.cancelled = true;
      e.site?.sleep(-1);
      this.fired++;
      n++;
      e.fn();
    }
    return n;
  }
}
