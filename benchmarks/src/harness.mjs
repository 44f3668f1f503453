// Benchmark harness: candidates run interleaved in rotated rounds inside one process, each figure
// is a ratio to the baseline measured in the same round, and the median over the rounds is kept.
// The machine is noisy; ratios from the same round are what can be compared.
import os from 'node:os'

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Nanoseconds per operation of `run(iterations)` (which must do `iterations` operations). */
export async function nsPerOp(run, iterations) {
  // Start every measurement from a collected heap, so no candidate pays for another's garbage.
  if (typeof globalThis.gc === 'function') globalThis.gc()
  const t0 = process.hrtime.bigint()
  await run(iterations)
  return Number(process.hrtime.bigint() - t0) / iterations
}

/**
 * Runs every candidate once per round, rotating the order each round, after `warmup` untimed rounds.
 * `candidates`: `{ name: async (iterations) => void }`; the first one is the baseline.
 * Returns `{ name: { medianNs, ratio } }` where ratio is the median of per-round ratios to the baseline.
 */
export async function compare(candidates, { rounds = 7, warmup = 2, iterations }) {
  const names = Object.keys(candidates)
  const baseline = names[0]
  const ns = Object.fromEntries(names.map((n) => [n, []]))
  for (let r = -warmup; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + Math.max(r, 0)) % names.length])
    const round = {}
    for (const n of order) round[n] = await nsPerOp(candidates[n], iterations)
    if (r >= 0) for (const n of names) ns[n].push(round[n])
  }
  const out = {}
  for (const n of names) {
    const ratios = ns[n].map((v, i) => v / ns[baseline][i])
    out[n] = { medianNs: median(ns[n]), ratio: median(ratios) }
  }
  return out
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu'
  return `Node ${process.version}, ${os.platform()} ${os.arch()}, ${os.cpus().length} × ${cpu}`
}
