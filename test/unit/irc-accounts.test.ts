/**
 * The account map alone: a user is followed only while sharing a channel with rekick (PART of the last shared
 * channel, KICK, QUIT and rekick's own PART forget them), nicks compare under the server's CASEMAPPING, nothing is
 * trusted without account-notify, and holderOf finds the nick holding an account.
 */
import { describe, expect, it } from 'vitest';
import { AccountTracker } from '../../src/chat/irc/accounts';
import { caseFold } from '../../src/chat/irc/casefold';

function tracker(accountNotify = true, casemapping = 'rfc1459') {
  return new AccountTracker(() => 'rekick', () => caseFold(casemapping), () => accountNotify);
}

const join = (t: AccountTracker, nick: string, channel: string, account: string | false) =>
  t.onJoin({ nick, ident: nick, hostname: `${nick}.example`, channel, account }, true);

describe('AccountTracker', () => {
  it('follows a user while they share a channel, and forgets them on the last PART, a KICK or a QUIT', () => {
    const t = tracker();
    join(t, 'nirik', '#a', 'nirik');
    join(t, 'nirik', '#b', 'nirik');
    expect(t.lookup('nirik', 'nirik', 'nirik.example')).toEqual({ account: 'nirik' });
    t.onPart({ nick: 'nirik', channel: '#a' });
    expect(t.lookup('nirik', 'nirik', 'nirik.example')).toEqual({ account: 'nirik' });
    t.onKick({ kicked: 'nirik', channel: '#B' });
    expect(t.lookup('nirik', 'nirik', 'nirik.example')).toBeUndefined();
    join(t, 'kevin', '#a', false);
    expect(t.lookup('kevin', 'kevin', 'kevin.example')).toEqual({});
    t.onQuit({ nick: 'kevin' });
    expect(t.lookup('kevin', 'kevin', 'kevin.example')).toBeUndefined();
  });

  it("rekick's own PART forgets the users it no longer shares a channel with", () => {
    const t = tracker();
    join(t, 'nirik', '#a', 'nirik');
    join(t, 'kevin', '#a', 'kevin');
    join(t, 'kevin', '#b', 'kevin');
    t.onPart({ nick: 'rekick', channel: '#a' });
    expect(t.lookup('nirik', 'nirik', 'nirik.example')).toBeUndefined();
    expect(t.lookup('kevin', 'kevin', 'kevin.example')).toEqual({ account: 'kevin' });
  });

  it('compares nicks under CASEMAPPING (rfc1459 folds [] to {}); ascii does not', () => {
    const rfc = tracker();
    join(rfc, 'ni[rik]', '#a', 'nirik');
    expect(rfc.lookup('NI{RIK}', 'ni[rik]', 'ni[rik].example')).toEqual({ account: 'nirik' });
    const ascii = tracker(true, 'ascii');
    join(ascii, 'ni[rik]', '#a', 'nirik');
    expect(ascii.lookup('NI{RIK}', 'ni[rik]', 'ni[rik].example')).toBeUndefined();
    expect(ascii.lookup('NI[RIK]', 'ni[rik]', 'ni[rik].example')).toEqual({ account: 'nirik' });
  });

  it('trusts nothing without account-notify', () => {
    const t = tracker(false);
    join(t, 'nirik', '#a', 'nirik');
    expect(t.lookup('nirik', 'nirik', 'nirik.example')).toBeUndefined();
    expect(t.holderOf('nirik', 'nirik')).toBe('unknown');
  });

  it('holderOf: the nick itself, else another nick holding the account; none when the map knows nobody does', () => {
    const t = tracker();
    join(t, 'nirik', '#a', 'nirik');
    expect(t.holderOf('NIRIK', 'nirik')).toEqual({ nick: 'nirik' });
    t.onNick({ nick: 'nirik', new_nick: 'nirik_afk' });
    join(t, 'nirik', '#a', false);
    expect(t.holderOf('nirik', 'nirik')).toEqual({ nick: 'nirik_afk' });
    t.onAccount({ nick: 'nirik_afk', account: false });
    expect(t.holderOf('nirik', 'nirik')).toBe('none');
    expect(t.holderOf('nirik', 'somebody-else')).toBe('unknown');
  });
});
