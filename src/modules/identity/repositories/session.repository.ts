import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, MoreThan, Repository } from 'typeorm';
import type { Role } from '../../../common/auth/principal';
import { ClientInfo } from '../../../common/http/client-info';
import { UserSessionEntity } from '../entities/user-session.entity';
import { UserStatus } from '../entities/user.entity';

/**
 * Which live sessions to end: one by id (the actor's own; an admin's: anyone's),
 * or the actor's own sessions, all or all but one.
 */
export type SessionScope = { only: string } | { allExcept: string } | { all: true };

/** A session with what authentication needs of its user now. */
export interface SessionAuthRow {
  user_id: string;
  revoked_at: Date | null;
  expires_at: Date;
  username: string;
  role: Role;
  level: string;
  status: UserStatus;
}

/** A login session to open (see `openForLogin`). */
export interface NewSession {
  id: string;
  userId: string;
  refreshTokenHash: string;
  client: ClientInfo;
  ttlSeconds: number;
}

/**
 * The `user_sessions` table. Methods that take an `EntityManager` run inside
 * the caller's transaction when given one, else on their own.
 */
@Injectable()
export class SessionRepository {
  constructor(@InjectRepository(UserSessionEntity) private readonly sessions: Repository<UserSessionEntity>) {}

  findById(id: string): Promise<UserSessionEntity | null> {
    return this.sessions.findOneBy({ id });
  }

  /** Read on every JWT request (through AuthStateCache): the session, revoked or not, joined to its user. */
  async findForAuth(id: string): Promise<SessionAuthRow | undefined> {
    const rows = (await this.sessions.query(
      `SELECT s.user_id, s.revoked_at, s.expires_at, u.username, u.role, u.level, u.status
         FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
      [id],
    )) as SessionAuthRow[];
    return rows[0];
  }

  /** The user's sessions neither revoked nor expired, newest first. */
  listLive(userId: string): Promise<UserSessionEntity[]> {
    return this.sessions.find({
      where: { userId, revokedAt: IsNull(), expiresAt: MoreThan(new Date()) },
      order: { createdAt: 'DESC' },
    });
  }

  /** Reads and locks the row (SELECT … FOR UPDATE) until the caller's transaction ends; null when there is none. */
  lockForUpdate(id: string, manager: EntityManager): Promise<UserSessionEntity | null> {
    return manager.getRepository(UserSessionEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /**
   * Inserts the session and stamps the login on its user (last_login_at, and
   * the failed-login count and lock cleared) in one statement, so a login costs
   * a single round trip besides reading the user.
   */
  async openForLogin(session: NewSession, manager?: EntityManager): Promise<void> {
    await (manager ?? this.sessions.manager).query(
      `WITH session AS (
         INSERT INTO user_sessions (id, user_id, refresh_token_hash, ip, user_agent, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
       )
       UPDATE users SET last_login_at = now(), failed_login_count = 0, failed_login_window_start = NULL, locked_until = NULL
        WHERE id = $2`,
      [session.id, session.userId, session.refreshTokenHash, session.client.ip, session.client.userAgent, session.ttlSeconds],
    );
  }

  /** Stores the hash of the session's new refresh token and where it was used from. */
  async rotateRefreshToken(id: string, refreshTokenHash: string, client: ClientInfo, manager: EntityManager): Promise<void> {
    await manager
      .getRepository(UserSessionEntity)
      .update({ id }, { refreshTokenHash, lastUsedAt: new Date(), ip: client.ip, userAgent: client.userAgent });
  }

  /** Revokes one session whatever its state (a reused refresh token). */
  async revokeById(id: string, reason: string, manager: EntityManager): Promise<void> {
    await manager.getRepository(UserSessionEntity).update({ id }, { revokedAt: new Date(), revokedReason: reason });
  }

  /**
   * Revokes the user's live sessions in `scope`; returns how many. Always
   * limited to `userId`'s sessions, so it ends nothing of anyone else's.
   */
  async revokeSessions(userId: string, scope: SessionScope, reason: string, manager?: EntityManager): Promise<number> {
    const params: unknown[] = [userId, reason];
    let filter = '';
    if ('only' in scope) {
      params.push(scope.only);
      filter = 'AND id = $3';
    } else if ('allExcept' in scope) {
      params.push(scope.allExcept);
      filter = 'AND id <> $3';
    }
    const [, revoked] = (await (manager ?? this.sessions.manager).query(
      `UPDATE user_sessions SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now() ${filter}`,
      params,
    )) as [unknown, number];
    return revoked;
  }

  /** Deletes sessions revoked or expired before `cutoff`; returns how many. */
  async deleteEndedBefore(cutoff: Date): Promise<number> {
    const [, deleted] = (await this.sessions.query(
      'DELETE FROM user_sessions WHERE revoked_at < $1 OR expires_at < $1',
      [cutoff],
    )) as [unknown, number];
    return deleted;
  }
}
