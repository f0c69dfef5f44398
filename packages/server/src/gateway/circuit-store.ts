import type { RedisConnection } from '../shared/redis.ts'

/** What the circuit breaker keeps about its upstream, wherever it is kept. Times are epoch ms. */
export interface CircuitRecord {
  /** Failures in a row since the last answer. */
  failures: number
  /** When the circuit last opened; 0 while it is closed. */
  openedAt: number
  /** How long this opening lasts before a probe may go. */
  cooldownMs: number
  /** Until when the probe in flight holds the right to call the upstream; 0 when none is. */
  probeUntil: number
}

export const CLOSED: CircuitRecord = { failures: 0, openedAt: 0, cooldownMs: 0, probeUntil: 0 }

/** The rules a failure is counted by: they travel with each call so every instance applies its own flags. */
export interface FailureRules {
  now: number
  threshold: number
  cooldownMs: number
  maxCooldownMs: number
  /** This call was the half-open probe: its failure reopens the circuit for twice as long. */
  probe: boolean
}

/**
 * Where the record lives: this process's memory, or Redis (shared by every instance). Every step is
 * one atomic read-and-change, so two instances never both take the probe.
 */
export interface CircuitStore {
  /** The record, and the probe taken until `now + probeMs` when the cool-down is over and nobody holds it. */
  admit(now: number, probeMs: number): Promise<{ record: CircuitRecord; probe: boolean }>
  failed(rules: FailureRules): Promise<void>
  /** The upstream answered: the circuit closes and the count starts again. */
  answered(): Promise<void>
  /** A probe that ended without a verdict (the client went away) lets the next request probe. */
  releaseProbe(): Promise<void>
  read(): Promise<CircuitRecord>
}

/** The step a failure takes, shared by both stores (the Redis script mirrors it line for line). */
export function afterFailure(r: CircuitRecord, rules: FailureRules): CircuitRecord {
  const failures = r.failures + 1
  if (rules.probe)
    return {
      failures,
      openedAt: rules.now,
      cooldownMs: Math.min(Math.max(r.cooldownMs, rules.cooldownMs) * 2, rules.maxCooldownMs),
      probeUntil: 0,
    }
  if (r.openedAt === 0 && failures >= rules.threshold)
    return { failures, openedAt: rules.now, cooldownMs: rules.cooldownMs, probeUntil: 0 }
  return { ...r, failures }
}

/** Whether the cool-down is over and no probe holds the upstream: the next request may probe. */
export const probeDue = (r: CircuitRecord, now: number): boolean =>
  r.openedAt > 0 && now >= r.openedAt + r.cooldownMs && r.probeUntil <= now

/** The circuit of one instance (no `--redis`). */
export class MemoryCircuitStore implements CircuitStore {
  #record: CircuitRecord = CLOSED

  async admit(now: number, probeMs: number) {
    if (!probeDue(this.#record, now)) return { record: this.#record, probe: false }
    this.#record = { ...this.#record, probeUntil: now + probeMs }
    return { record: this.#record, probe: true }
  }

  async failed(rules: FailureRules): Promise<void> {
    this.#record = afterFailure(this.#record, rules)
  }

  async answered(): Promise<void> {
    this.#record = CLOSED
  }

  async releaseProbe(): Promise<void> {
    this.#record = { ...this.#record, probeUntil: 0 }
  }

  async read(): Promise<CircuitRecord> {
    return this.#record
  }
}

const READ = `local r = redis.call('HMGET', KEYS[1], 'failures', 'opened_at', 'cooldown_ms', 'probe_until')
local failures, opened, cooldown, probe = tonumber(r[1]) or 0, tonumber(r[2]) or 0, tonumber(r[3]) or 0, tonumber(r[4]) or 0
`

/** admit: ARGV now, probe ms. Returns the record and 1 when the probe was taken here. */
const ADMIT = `${READ}local now = tonumber(ARGV[1])
local claimed = 0
if opened > 0 and now >= opened + cooldown and probe <= now then
  probe = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'probe_until', probe)
  claimed = 1
end
return {failures, opened, cooldown, probe, claimed}`

/** failed: ARGV now, threshold, cool-down, longest cool-down, probe (1/0), key lifetime. As afterFailure. */
const FAILED = `${READ}local now = tonumber(ARGV[1])
failures = failures + 1
if ARGV[5] == '1' then
  cooldown = math.min(math.max(cooldown, tonumber(ARGV[3])) * 2, tonumber(ARGV[4]))
  opened = now
  probe = 0
elseif opened == 0 and failures >= tonumber(ARGV[2]) then
  opened = now
  cooldown = tonumber(ARGV[3])
  probe = 0
end
redis.call('HSET', KEYS[1], 'failures', failures, 'opened_at', opened, 'cooldown_ms', cooldown, 'probe_until', probe)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1`

const RELEASE = `if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'probe_until', 0) end
return 1`

/** A circuit record left alone this long (every instance stopped) is forgotten: the circuit starts closed. */
const RECORD_LIFETIME_MS = 60 * 60_000

/**
 * The circuit shared by every instance through Redis: one hash per upstream, each step a script.
 * Redis unreachable, the instance keeps its own circuit meanwhile (`local`), as the rate limits do:
 * an outage of Redis must not also stop speech.
 */
export class RedisCircuitStore implements CircuitStore {
  readonly #key: string

  constructor(
    private readonly redis: RedisConnection,
    upstreamOrigin: string,
    private readonly local: CircuitStore = new MemoryCircuitStore(),
  ) {
    this.#key = redis.key('circuit', upstreamOrigin)
  }

  async admit(now: number, probeMs: number) {
    try {
      const r = (await this.#eval(ADMIT, [String(now), String(probeMs)])) as number[]
      return { record: toRecord(r), probe: r[4] === 1 }
    } catch {
      return this.local.admit(now, probeMs)
    }
  }

  async failed(rules: FailureRules): Promise<void> {
    const args = [rules.now, rules.threshold, rules.cooldownMs, rules.maxCooldownMs, rules.probe ? 1 : 0]
    await this.#eval(FAILED, [...args.map(String), String(RECORD_LIFETIME_MS)]).catch(() => this.local.failed(rules))
  }

  async answered(): Promise<void> {
    await this.redis.call((c) => c.del(this.#key), 'circuit').catch(() => this.local.answered())
  }

  async releaseProbe(): Promise<void> {
    await this.#eval(RELEASE, []).catch(() => this.local.releaseProbe())
  }

  async read(): Promise<CircuitRecord> {
    try {
      const r = await this.redis.call(
        (c) => c.hmGet(this.#key, ['failures', 'opened_at', 'cooldown_ms', 'probe_until']),
        'circuit',
      )
      return toRecord(r.map((v) => Number(v ?? 0)))
    } catch {
      return this.local.read()
    }
  }

  #eval(script: string, args: string[]): Promise<unknown> {
    return this.redis.call((c) => c.eval(script, { keys: [this.#key], arguments: args }), 'circuit')
  }
}

function toRecord(r: readonly number[]): CircuitRecord {
  return { failures: r[0] ?? 0, openedAt: r[1] ?? 0, cooldownMs: r[2] ?? 0, probeUntil: r[3] ?? 0 }
}
