import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { actorOf } from '../../common/auth/ownership';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { notificationsChannelOf } from '../../common/events/realtime-event';
import { GetDeploymentQuery } from '../deployments/queries/get-deployment.query';
import { GetExecutionQuery } from '../execution/queries/get-execution.query';
import { GetServerQuery } from '../monitoring/queries/get-server.query';
import { ChannelKind, CHANNEL_KINDS, MAX_CHANNEL_LENGTH, ProtocolErrorCode } from './protocol';
import { UUID_PATTERN as UUID } from '../../common/ids';

/** A channel a socket may subscribe to: its name as publishers use it. */
export type ChannelGrant = { channel: string } | { error: ProtocolErrorCode; message: string };

/** What an API key must hold (or `*`) to read a channel kind; a session reads every kind its user may. */
const KEY_SCOPES: Record<ChannelKind, string[] | null> = {
  notifications: null,
  execution: ['execute'],
  deployment: ['deployments:read'],
  chat: null,
  // No scope reads monitoring (identity's API_KEY_SCOPES); an agent's key, metrics:write, is the one that belongs to servers.
  server: ['metrics:write'],
};

/** Channel kinds whose context is not part of this server yet: their names are known, their channels not. */
const NOT_YET: Partial<Record<ChannelKind, string>> = {
  chat: 'Chat channels open when chat rooms are available on this server',
};

const forbidden = (): ChannelGrant => ({ error: 'FORBIDDEN', message: 'You may not read this channel' });

/**
 * Who may read which channel. Each kind is decided by the context that owns
 * what it watches, through that context's queries: a run by the execution
 * context (GetExecutionQuery: the caller's own, any for an admin), a deployment
 * by the deployments context (GetDeploymentQuery, the same rule), a server
 * by the monitoring context (GetServerQuery, the same rule), a user's
 * notifications by who they are. What may not be read and what does not exist
 * answer alike (FORBIDDEN), so a channel name reveals nothing.
 */
@Injectable()
export class ChannelAccess {
  constructor(private readonly queries: QueryBus) {}

  async grant(principal: Principal, name: unknown): Promise<ChannelGrant> {
    if (typeof name !== 'string' || name.length === 0 || name.length > MAX_CHANNEL_LENGTH) {
      return { error: 'BAD_MESSAGE', message: `channel must be a string of 1 to ${MAX_CHANNEL_LENGTH} characters` };
    }
    const [kind, id, ...rest] = name.split(':');
    if (!(CHANNEL_KINDS as readonly string[]).includes(kind) || rest.length > 0 || (kind === 'notifications') !== (id === undefined)) {
      return { error: 'UNKNOWN_CHANNEL', message: `Unknown channel; channels are notifications, ${CHANNEL_KINDS.filter((k) => k !== 'notifications').map((k) => `${k}:<id>`).join(', ')}` };
    }
    const channelKind = kind as ChannelKind;
    const scopes = KEY_SCOPES[channelKind];
    if (principal.via === 'api_key' && scopes && !principal.scopes.includes('*') && !scopes.some((scope) => principal.scopes.includes(scope))) {
      return { error: 'FORBIDDEN', message: `The API key lacks the scope ${scopes.join(' or ')}` };
    }
    const notYet = NOT_YET[channelKind];
    if (notYet) return { error: 'UNKNOWN_CHANNEL', message: notYet };
    switch (channelKind) {
      case 'notifications':
        return { channel: notificationsChannelOf(principal.user_id) };
      case 'execution':
        return this.owned('execution', id, (uuid) => new GetExecutionQuery(uuid, actorOf(principal)));
      case 'deployment':
        return this.owned('deployment', id, (uuid) => new GetDeploymentQuery(uuid, actorOf(principal)));
      case 'server':
        return this.owned('server', id, (uuid) => new GetServerQuery(uuid, actorOf(principal)));
      default:
        return forbidden();
    }
  }

  /** A channel of something its context's query answers only to those who may see it (404 otherwise). */
  private async owned(kind: ChannelKind, id: string, query: (uuid: string) => GetExecutionQuery | GetDeploymentQuery | GetServerQuery): Promise<ChannelGrant> {
    if (!UUID.test(id)) return forbidden();
    const uuid = id.toLowerCase();
    try {
      await this.queries.execute(query(uuid));
    } catch (error) {
      if (error instanceof AppError) return forbidden();
      throw error;
    }
    return { channel: `${kind}:${uuid}` };
  }
}
