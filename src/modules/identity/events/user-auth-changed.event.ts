/**
 * Published on the CQRS EventBus of every replica when a user's sessions,
 * keys, role or status may have changed (a logout, a revoked session, a
 * deleted or disabled key, a disabled account): whoever holds a credential of
 * that user open beyond one request (the WebSocket gateway) checks it again
 * with AuthenticateTokenQuery.
 */
export class UserAuthChangedEvent {
  constructor(readonly userId: string) {}
}
