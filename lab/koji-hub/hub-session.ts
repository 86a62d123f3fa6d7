/**
 * Koji's session rules (kojihub/auth.py): headers Koji-Session-Id/-Key/-Callnum, a lower call number is a
 * SequenceError, a repeated one after a call that changed data a RetryError, expired sessions AuthExpired.
 */
import type http from 'node:http';
import { FAULT, HubFault, type HubSession, type HubState, type HubUser } from './hub-state';

const READONLY_FOR_RETRY = new Set<string>(); // Koji's RetryWhitelist holds only host.* calls rekick never makes

/** Who a call comes from: its session (if any), whether it is logged in, the user and the call number. */
export interface OpenedSession {
  session?: HubSession;
  loggedIn: boolean;
  user?: HubUser;
  callnum?: number;
}

/** kojihub/auth.py Session(): finds the session, applies expiry and the call number rules. */
export function openSession(state: HubState, lifetimeMs: number, req: http.IncomingMessage, method: string): OpenedSession {
  const idh = req.headers['koji-session-id'];
  if (idh === undefined) return { loggedIn: false };
  const id = Number(idh);
  const key = String(req.headers['koji-session-key'] ?? '');
  const cnh = req.headers['koji-session-callnum'] ?? req.headers['koji-callnum'];
  const s = state.sessions.get(id);
  if (!s || s.key !== key || s.closed) throw new HubFault(FAULT.AuthError, 'Invalid session or bad credentials');
  if (!s.expired && Date.now() > (s.renew ?? s.start) + lifetimeMs) s.expired = true;
  if (s.expired && method !== 'sslLogin' && method !== 'login') throw new HubFault(FAULT.AuthExpired, `session "${id}" has expired`);
  let callnum: number | undefined;
  if (cnh !== undefined) {
    callnum = Number(cnh);
    if (!Number.isInteger(callnum)) throw new HubFault(FAULT.AuthError, `Invalid callnum: '${String(cnh)}'`);
    if (s.callnum !== null) {
      if (s.callnum > callnum) throw new HubFault(FAULT.SequenceError, `${s.callnum} > ${callnum} (session ${id})`);
      if (s.callnum === callnum && !READONLY_FOR_RETRY.has(method)) {
        throw new HubFault(FAULT.RetryError, `unable to retry call ${callnum} (method ${method}) for session ${id}`);
      }
    }
  }
  if (s.expired) return { session: s, loggedIn: false, callnum };
  const user = state.users.get(s.userId);
  if (!user || user.status !== 0) throw new HubFault(FAULT.AuthError, `logins by ${user?.name ?? s.userId} are not allowed`);
  return { session: s, loggedIn: true, user, callnum };
}
