/**
 * A Koji session and how a call carries it: `Koji-Session-Id`, `-Key` and `-Callnum` headers (hubs since 1.30),
 * or the query string (older hubs). The call number is 0 after login and +1 per HTTP call; a retry resends it.
 */
export interface Session {
  id: number;
  key: string;
  headerAuth: boolean;
  /** The number the next call carries. */
  callnum: number;
}

export function sessionHeaders(s: Session, callnum: number): Record<string, string> {
  return s.headerAuth
    ? { 'Koji-Session-Id': String(s.id), 'Koji-Session-Key': s.key, 'Koji-Session-Callnum': String(callnum) }
    : {};
}

/** Where a call with this session and number goes, and its headers. */
export function sessionTarget(url: URL, session: Session | undefined, callnum: number): { target: URL; headers: Record<string, string> } {
  if (!session) return { target: url, headers: {} };
  if (session.headerAuth) return { target: url, headers: sessionHeaders(session, callnum) };
  // hubs before 1.30: the session in the query string
  const target = new URL(url.href);
  target.search = new URLSearchParams({ 'session-id': String(session.id), 'session-key': session.key, callnum: String(callnum) }).toString();
  return { target, headers: {} };
}
