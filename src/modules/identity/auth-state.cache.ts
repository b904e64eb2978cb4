import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { LRUCache } from 'lru-cache';
import type { Role } from '../../common/auth/principal';
import { ClusterBus } from '../../common/events/cluster-bus';
import { UserStatus } from './entities/user.entity';
import { UserAuthChangedEvent } from './events/user-auth-changed.event';
import { ApiKeyRepository } from './repositories/api-key.repository';
import { SessionRepository } from './repositories/session.repository';
import { UserRepository } from './repositories/user.repository';
import { toUserView, UserView } from './user.mapper';

interface UserState {
  userId: string;
  username: string;
  role: Role;
  level: string;
  status: UserStatus;
}

export interface SessionState extends UserState {
  revoked: boolean;
  expiresAt: number;
}

export interface KeyState extends UserState {
  keyId: string;
  scopes: string[];
  usable: boolean;
  expiresAt: number | null;
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;
const USER_CHANGED = 'identity.user-changed';

/** A lookup's result (null: no such session, key or user) and whose it is, for dropping a user's entries. */
interface Entry<T> {
  value: T | null;
  userId: string | null;
}

type Cache<T> = LRUCache<string, Entry<T>>;
const newCache = <T>(): Cache<T> => new LRUCache<string, Entry<T>>({ max: MAX_ENTRIES, ttl: TTL_MS });

/**
 * What every authenticated request needs to know beyond the JWT signature: is
 * the session still live, is the key usable, what are the user's role, level and
 * status now, and the user's profile for /users/me. Answered from memory; a change to a user, their sessions or keys
 * drops that user's entries on every replica at once (ClusterBus), and entries
 * expire after a minute regardless.
 */
@Injectable()
export class AuthStateCache implements OnModuleInit {
  private readonly sessions = newCache<SessionState>();
  private readonly keys = newCache<KeyState>();
  private readonly users = newCache<UserView & { userId: string }>();
  /** Bumped on every invalidation; a load that raced with one is not cached. */
  private generation = 0;

  constructor(
    private readonly userRows: UserRepository,
    private readonly sessionRows: SessionRepository,
    private readonly keyRows: ApiKeyRepository,
    private readonly bus: ClusterBus,
    private readonly events: EventBus,
  ) {}

  onModuleInit(): void {
    this.bus.subscribe(USER_CHANGED, (userId) => this.drop(userId));
  }

  /** Call after changing a user, their sessions or their keys (after commit). */
  async userChanged(userId: string): Promise<void> {
    await this.bus.publish(USER_CHANGED, userId);
  }

  session(sessionId: string): Promise<SessionState | null> {
    return this.lookup(this.sessions, sessionId, async () => {
      const row = await this.sessionRows.findForAuth(sessionId);
      if (!row) return null;
      return {
        ...userStateOf(row),
        revoked: row.revoked_at !== null,
        expiresAt: row.expires_at.getTime(),
      };
    });
  }

  key(keyHash: string): Promise<KeyState | null> {
    return this.lookup(this.keys, keyHash, async () => {
      const row = await this.keyRows.findForAuth(keyHash);
      if (!row) return null;
      return {
        ...userStateOf(row),
        keyId: row.id,
        scopes: row.scopes,
        usable: row.enabled === true && row.revoked_at === null,
        expiresAt: row.expires_at ? row.expires_at.getTime() : null,
      };
    });
  }

  /** The user's profile as the API shows it. */
  async user(userId: string): Promise<UserView | null> {
    const entry = await this.lookup(this.users, userId, async () => {
      const user = await this.userRows.findById(userId);
      return user ? { ...toUserView(user), userId: user.id } : null;
    });
    if (!entry) return null;
    const { userId: _, ...view } = entry;
    return view;
  }

  private async lookup<T extends { userId: string }>(cache: Cache<T>, id: string, load: () => Promise<T | null>): Promise<T | null> {
    const cached = cache.get(id);
    if (cached) return cached.value;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) cache.set(id, { value, userId: value?.userId ?? null });
    return value;
  }

  private drop(userId: string): void {
    this.generation++;
    // After the entries are gone, so whoever checks again reads the new state.
    queueMicrotask(() => this.events.publish(new UserAuthChangedEvent(userId)));
    for (const cache of [this.sessions, this.keys, this.users] as Array<Cache<unknown>>) {
      // Unknown ids are cached as null; drop those too, the id may exist now.
      const stale = [...cache.entries()].filter(([, entry]) => entry.userId === userId || entry.userId === null).map(([id]) => id);
      for (const id of stale) cache.delete(id);
    }
  }
}

/** A row's user columns (as both auth lookups select them). */
function userStateOf(row: Omit<UserState, 'userId'> & { user_id: string }): UserState {
  return {
    userId: row.user_id,
    username: row.username,
    role: row.role,
    level: row.level,
    status: row.status,
  };
}
