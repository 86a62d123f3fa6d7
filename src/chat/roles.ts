/**
 * Who may do what. Roles come from the config as identities (`irc:ACCOUNT`, `slack:USERID`, `console:*`,
 * `cli:*`; `*` stands for every identity of that source). An approver is an operator too. IRC accounts are
 * compared case-insensitively (services accounts are); an IRC user who is not logged in to services has no
 * identity, so no roles; nor has one whose account rekick could not confirm (`unconfirmed`: refused with its own
 * line and code).
 */
import type { Identity } from '../model';

/** Code of the refusal of a role command whose sender's services account could not be confirmed. */
export const IDENTITY_UNCONFIRMED = 'E_IDENTITY_UNCONFIRMED';

export type GrantedRole = 'operator' | 'approver';
export type RequiredRole = 'anyone' | GrantedRole;

export interface RolesConfig {
  operator: string[];
  approver: string[];
}

export interface Roles {
  /** The identity as written in the config (`irc:kevin`), or undefined when the user has none. */
  key(user: Identity): string | undefined;
  /** The roles held, strongest last: [], ['operator'] or ['operator', 'approver']. */
  rolesOf(user: Identity): GrantedRole[];
  has(user: Identity, role: RequiredRole): boolean;
  /** Why the user may not act with this role (one line), or undefined when they may. */
  refusal(user: Identity, role: RequiredRole): string | undefined;
}

function normalise(source: string, id: string): string {
  return source === 'irc' ? `${source}:${id.toLowerCase()}` : `${source}:${id}`;
}

function matcher(entries: string[]): (key: string) => boolean {
  const exact = new Set<string>();
  const wildcards = new Set<string>();
  for (const e of entries) {
    const i = e.indexOf(':');
    const source = e.slice(0, i);
    const id = e.slice(i + 1);
    if (id === '*') wildcards.add(source);
    else exact.add(normalise(source, id));
  }
  return (key) => exact.has(key) || wildcards.has(key.slice(0, key.indexOf(':')));
}

export function createRoles(config: RolesConfig): Roles {
  const isApprover = matcher(config.approver);
  const isOperator = matcher(config.operator);

  const key = (user: Identity): string | undefined => (user.id ? normalise(user.source, user.id) : undefined);

  const rolesOf = (user: Identity): GrantedRole[] => {
    const k = key(user);
    if (!k) return [];
    if (isApprover(k)) return ['operator', 'approver'];
    if (isOperator(k)) return ['operator'];
    return [];
  };

  const has = (user: Identity, role: RequiredRole): boolean => role === 'anyone' || rolesOf(user).includes(role);

  return {
    key,
    rolesOf,
    has,
    refusal(user, role) {
      if (has(user, role)) return undefined;
      if (!user.id && user.unconfirmed) {
        return `could not confirm your services account (${user.unconfirmed}); nothing done [${IDENTITY_UNCONFIRMED}]; try again`;
      }
      if (!user.id) {
        return user.source === 'irc'
          ? `you are not logged in to services (NickServ), so rekick cannot tell who you are; this needs the ${role} role`
          : `rekick cannot tell who you are; this needs the ${role} role`;
      }
      return `this needs the ${role} role, and ${key(user)} does not have it (ask an admin to add it under roles.${role} in the config)`;
    },
  };
}
