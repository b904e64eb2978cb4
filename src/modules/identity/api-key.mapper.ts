import { randomBytes } from 'node:crypto';
import { ApiKeyEntity } from './entities/api-key.entity';

export const API_KEY_SCOPES = [
  'execute', 'code:read', 'code:write', 'profile:read', 'deployments:read',
  'deployments:write', 'metrics:write', 'ai:chat', '*',
] as const;

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `sk-` + 48 base62 characters, unbiased (bytes ≥ 248 are skipped). */
export function generateApiKey(): string {
  let out = 'sk-';
  while (out.length < 51) {
    for (const byte of randomBytes(64)) {
      if (byte < 248 && out.length < 51) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function displayPrefixOf(key: string): string {
  return `${key.slice(0, 7)}…${key.slice(-4)}`;
}

export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  enabled: boolean;
  expires_at: string | null;
  last_used_at: string | null;
  usage_count: number;
  ai_token_budget: number | null;
  ai_models: string[] | null;
  created_at: string;
  updated_at: string;
}

export function toApiKeyView(key: ApiKeyEntity): ApiKeyView {
  return {
    id: key.id,
    name: key.name,
    prefix: key.displayPrefix,
    scopes: key.scopes,
    enabled: key.enabled,
    expires_at: key.expiresAt ? key.expiresAt.toISOString() : null,
    last_used_at: key.lastUsedAt ? key.lastUsedAt.toISOString() : null,
    usage_count: key.usageCount,
    ai_token_budget: key.aiTokenBudget,
    ai_models: key.aiModels,
    created_at: key.createdAt.toISOString(),
    updated_at: key.updatedAt.toISOString(),
  };
}
