/** A source of uniformly distributed numbers in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * A seeded pseudo-random generator (mulberry32): the same seed gives the same sequence on every
 * platform. Not for cryptography; for tests, simulations and benchmarks.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max], both inclusive. */
export function randomInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** The seed a test or benchmark should use: `DW_SEED` from the environment when set, else `fallback`. */
export function seedFromEnv(fallback: number): number {
  const raw = process.env.DW_SEED;
  if (raw === undefined || raw === '') return fallback;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new RangeError(`DW_SEED expects an integer, found ${JSON.stringify(raw)}`);
  return seed;
}
