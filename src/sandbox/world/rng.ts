/**
 * Small deterministic randomness. The sandbox must replay identically for a seed, so nothing
 * here reads Math.random.
 */
export type Random = () => number;

/** mulberry32: a 32-bit PRNG with good enough spread for simulated noise and fault dice. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A stable 32-bit hash of a string (FNV-1a), to derive sub-seeds from names. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** A random source dedicated to one purpose, so adding draws elsewhere never shifts it. */
export function randomFor(seed: number, ...parts: readonly (string | number)[]): Random {
  return createRandom(hashString(`${seed}|${parts.join('|')}`));
}
