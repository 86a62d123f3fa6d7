/** How a person is named: in chat (a name), in a Koji comment (name and identity), in the audit trail (identity). */
import type { Identity } from '../model';

/** In chat and status views: their display name, or the id, or the source when there is neither. */
export function chatName(by: Identity): string {
  return by.display || by.id || by.source;
}

/** In a Koji comment: `kevin (irc:kevin)`, or just `irc:kevin` when the name is the id. */
export function commentName(identity: Identity): string {
  const id = identity.id ? `${identity.source}:${identity.id}` : `${identity.source}:${identity.display}`;
  return identity.display && identity.display !== identity.id ? `${identity.display} (${id})` : id;
}

/** In `rekick audit`: `irc:kevin`, or `irc:kevin (no account)` for a sender without a confirmed identity. */
export function auditName(who: Identity): string {
  return who.id ? `${who.source}:${who.id}` : `${who.source}:${who.display} (no account)`;
}
