import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** A provider's health as the catalog shows it. */
export interface ProviderHealthView {
  /** `healthy`: its last call succeeded (or none failed); `failing`: its last calls failed, fewer than the threshold; `cooldown`: skipped until `cooldown_until`. */
  status: 'healthy' | 'failing' | 'cooldown';
  consecutive_failures: number;
  cooldown_until: string | null;
  last_error: string | null;
  last_failure_at: string | null;
  last_success_at: string | null;
}

interface Health {
  consecutiveFailures: number;
  cooldownUntil: number | null;
  lastError: string | null;
  lastFailureAt: number | null;
  lastSuccessAt: number | null;
}

/** Longest error text kept for the catalog. */
const LAST_ERROR_LENGTH = 300;

/**
 * A circuit breaker per provider: AI_FAILOVER_THRESHOLD failed calls in a row
 * (5xx, timeouts, broken replies — never the caller's 4xx or their leaving)
 * put the provider in cooldown for AI_FAILOVER_COOLDOWN_SECONDS, during which
 * a model several providers offer is served by the next one. When the cooldown
 * ends the provider is tried again: one more failure cools it down again at
 * once, a success makes it healthy.
 *
 * Kept in this process's memory, as load balancers keep their outlier
 * detection: each replica learns a provider's state from its own calls (a few
 * failed calls per replica), and nothing is written per call. The catalog
 * shows the answering replica's view.
 */
@Injectable()
export class ProviderHealth {
  private readonly providers = new Map<string, Health>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** When the provider's cooldown ends, or null when calls may go to it. */
  coolingDownUntil(providerKey: string, now = Date.now()): Date | null {
    const until = this.providers.get(providerKey)?.cooldownUntil ?? null;
    return until !== null && until > now ? new Date(until) : null;
  }

  recordSuccess(providerKey: string): void {
    const health = this.providers.get(providerKey);
    if (!health) {
      this.providers.set(providerKey, { consecutiveFailures: 0, cooldownUntil: null, lastError: null, lastFailureAt: null, lastSuccessAt: Date.now() });
      return;
    }
    health.consecutiveFailures = 0;
    health.cooldownUntil = null;
    health.lastSuccessAt = Date.now();
  }

  recordFailure(providerKey: string, error: string): void {
    const now = Date.now();
    const health = this.providers.get(providerKey) ?? { consecutiveFailures: 0, cooldownUntil: null, lastError: null, lastFailureAt: null, lastSuccessAt: null };
    health.consecutiveFailures += 1;
    health.lastError = error.slice(0, LAST_ERROR_LENGTH);
    health.lastFailureAt = now;
    if (health.consecutiveFailures >= this.config.ai.failoverThreshold) health.cooldownUntil = now + this.config.ai.failoverCooldownMs;
    this.providers.set(providerKey, health);
  }

  view(providerKey: string, now = Date.now()): ProviderHealthView {
    const health = this.providers.get(providerKey);
    const iso = (at: number | null | undefined) => (at ? new Date(at).toISOString() : null);
    const coolingDown = health?.cooldownUntil != null && health.cooldownUntil > now;
    return {
      status: coolingDown ? 'cooldown' : health && health.consecutiveFailures > 0 ? 'failing' : 'healthy',
      consecutive_failures: health?.consecutiveFailures ?? 0,
      cooldown_until: coolingDown ? iso(health?.cooldownUntil) : null,
      last_error: health?.lastError ?? null,
      last_failure_at: iso(health?.lastFailureAt),
      last_success_at: iso(health?.lastSuccessAt),
    };
  }
}
